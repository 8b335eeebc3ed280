"""MAI metrics on uint16 millimetre files against the organisers' formula (REFERENCE.md section 1).

The reference below is an independent numpy transcription of the challenge's
``depth_estimation/losses_python.py``: prediction and ground truth below 1 (mm) are set to 1,
valid = gt > 1, N = number of valid pixels, and the sums are written as the organisers write
them (not as densepred computes them).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from densepred.data.io import read_depth
from densepred.metrics.depth import DepthMetrics, mai_depth_metrics


def organisers_metrics(pred_mm: np.ndarray, gt_mm: np.ndarray) -> dict[str, float]:
    """The MAI formulas on raw uint16 millimetre arrays, float64."""
    pred = pred_mm.astype(np.float64)
    gt = gt_mm.astype(np.float64)
    pred[pred < 1] = 1
    gt[gt < 1] = 1
    valid = (gt > 1).astype(np.float64)
    n = valid.sum()
    d = (np.log(pred) - np.log(gt)) * valid
    return {
        "mai_rmse": float(np.sqrt(np.sum(((gt - pred) * valid / 1000) ** 2) / n)),
        "mai_si_rmse": float(np.sqrt(np.sum(d**2) / n - np.sum(d) ** 2 / n**2)),
        "mai_log10": float(np.sum(np.abs(np.log10(pred) - np.log10(gt)) * valid) / n),
        "mai_rel": float(np.sum(np.abs(pred - gt) / gt * valid) / n),
    }


def _pair(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    gt = rng.integers(400, 40000, (height, width)).astype(np.uint16)
    gt[rng.random((height, width)) < 0.2] = 0  # invalid pixels
    gt[0, :5] = 1  # exactly 1 mm: clamped, and not valid (gt > 1)
    pred = (gt * rng.uniform(0.7, 1.4, gt.shape)).clip(0, 65535).astype(np.uint16)
    pred[1, :5] = 0  # below 1 mm: clamped to 1
    return pred, gt


def test_mai_metrics_match_the_organisers_formula_on_uint16_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    metric = DepthMetrics()
    expected = []
    for i, (h, w) in enumerate([(480, 640), (120, 160), (48, 64)]):
        pred_mm, gt_mm = _pair(rng, h, w)
        paths = [tmp_path / f"pred{i}.png", tmp_path / f"gt{i}.png"]
        for path, array in zip(paths, (pred_mm, gt_mm), strict=True):
            assert cv2.imwrite(str(path), array)
        raw = [cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p in paths]  # the organisers' reads
        reference = organisers_metrics(*raw)
        pred_m, gt_m = (torch.from_numpy(read_depth(p, 1000.0))[None] for p in paths)  # 1,H,W
        ours = mai_depth_metrics(pred_m, gt_m)
        for name, value in reference.items():
            assert float(ours[name][0]) == pytest.approx(value, rel=1e-4), name
        metric.update(pred_m, gt_m)
        expected.append(reference)
    total = metric.compute()
    for name in expected[0]:  # DepthMetrics: the mean over images of the per-image values
        mean = float(np.mean([e[name] for e in expected]))
        assert float(total[name]) == pytest.approx(mean, rel=1e-4), name
