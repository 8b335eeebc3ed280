"""Depth metrics against values computed by hand with numpy from the reference formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torchmetrics import MetricCollection

from densepred.metrics.depth import (
    MAI_METRICS,
    METRIC_DIRECTIONS,
    METRIC_NAMES,
    STANDARD_METRICS,
    DepthMetrics,
    compute_depth_metrics,
)


def as_tensor(rows: list[list[float]]) -> torch.Tensor:
    """A 1x1xHxW float32 tensor from nested lists."""
    return torch.tensor(rows, dtype=torch.float32)[None, None]


def test_standard_metrics_match_hand_computation() -> None:
    gt = as_tensor([[1.0, 2.0], [4.0, 0.0]])  # the 0 is invalid
    pred = as_tensor([[1.5, 2.0], [20.0, 3.0]])  # 20 is clipped to max_depth = 10
    out = compute_depth_metrics(pred, gt, min_depth=1e-3, max_depth=10.0)

    g = np.array([1.0, 2.0, 4.0])
    p = np.array([1.5, 2.0, 10.0])
    e = np.log(p) - np.log(g)
    ratio = np.maximum(g / p, p / g)
    expected = {
        "abs_rel": np.mean(np.abs(g - p) / g),
        "sq_rel": np.mean((g - p) ** 2 / g),
        "rmse": np.sqrt(np.mean((g - p) ** 2)),
        "rmse_log": np.sqrt(np.mean(e**2)),
        "log10": np.mean(np.abs(np.log10(p) - np.log10(g))),
        "silog": 100 * np.sqrt(np.mean(e**2) - np.mean(e) ** 2),
        "delta1": np.mean(ratio < 1.25),
        "delta2": np.mean(ratio < 1.25**2),
        "delta3": np.mean(ratio < 1.25**3),
    }
    for name, value in expected.items():
        assert out[name].shape == (1,)
        assert out[name].item() == pytest.approx(value, rel=1e-5), name


def test_standard_metrics_ignore_depth_at_or_beyond_max_depth() -> None:
    gt = as_tensor([[2.0, 10.0, 30.0]])  # 10 and 30 are not < max_depth
    pred = as_tensor([[2.0, 1.0, 1.0]])
    out = compute_depth_metrics(pred, gt, max_depth=10.0)
    assert out["abs_rel"].item() == 0.0
    assert out["delta1"].item() == 1.0


def test_mai_metrics_match_reference_in_millimetres() -> None:
    gt = as_tensor([[1.0, 2.0], [0.0, 30.0]])  # 0 invalid; 30 m is valid for MAI (no max_depth)
    pred = as_tensor([[0.0, 2.5], [5.0, 20.0]])  # 0 m is raised to 1 mm
    out = compute_depth_metrics(pred, gt, max_depth=10.0)

    g = np.array([1000.0, 2000.0, 30000.0])
    p = np.array([1.0, 2500.0, 20000.0])
    n = len(g)
    d = np.log(p) - np.log(g)
    expected = {
        "mai_rmse": np.sqrt(np.sum(((g - p) / 1000.0) ** 2) / n),
        "mai_si_rmse": np.sqrt(np.sum(d**2) / n - np.sum(d) ** 2 / n**2),
        "mai_log10": np.sum(np.abs(np.log10(p) - np.log10(g))) / n,
        "mai_rel": np.sum(np.abs(p - g) / g) / n,
    }
    for name, value in expected.items():
        assert out[name].item() == pytest.approx(value, rel=1e-5), name


def test_mai_treats_depth_up_to_one_millimetre_as_invalid() -> None:
    gt = as_tensor([[0.0005, 2.0]])  # 0.5 mm -> clamped to 1 mm -> invalid
    pred = as_tensor([[9.0, 2.0]])
    out = compute_depth_metrics(pred, gt)
    assert out["mai_rel"].item() == 0.0
    assert out["mai_rmse"].item() == 0.0


def test_perfect_prediction() -> None:
    gt = torch.rand(2, 1, 6, 7) * 9 + 0.5
    out = compute_depth_metrics(gt.clone(), gt)
    for name in ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "silog", *MAI_METRICS):
        assert torch.allclose(out[name], torch.zeros(2), atol=1e-5), name
    for k in (1, 2, 3):
        assert torch.equal(out[f"delta{k}"], torch.ones(2))


def test_scale_invariant_metrics_ignore_a_global_scale() -> None:
    gt = torch.rand(2, 1, 5, 5) * 4 + 0.5
    out = compute_depth_metrics(2 * gt, gt)
    assert torch.allclose(out["silog"], torch.zeros(2), atol=1e-3)
    assert torch.allclose(out["mai_si_rmse"], torch.zeros(2), atol=1e-5)
    assert (out["rmse"] > 0.1).all()
    assert (out["mai_rmse"] > 0.1).all()
    assert torch.allclose(out["rmse_log"], torch.full((2,), math.log(2)), atol=1e-5)


def test_image_without_valid_pixels_gives_nan_for_that_image_only() -> None:
    gt = torch.stack([torch.full((1, 3, 3), 2.0), torch.zeros(1, 3, 3)])  # 2,1,3,3
    out = compute_depth_metrics(torch.ones_like(gt), gt)
    for name in METRIC_NAMES:
        assert torch.isfinite(out[name][0]), name
        assert torch.isnan(out[name][1]), name


def test_accepts_bhw_and_rejects_mismatched_shapes() -> None:
    gt = torch.rand(2, 1, 4, 4) + 1
    pred = torch.rand(2, 1, 4, 4) + 1
    a = compute_depth_metrics(pred, gt)
    b = compute_depth_metrics(pred[:, 0], gt[:, 0])
    assert all(torch.equal(a[k], b[k]) for k in METRIC_NAMES)
    with pytest.raises(ValueError, match="same pixels"):
        compute_depth_metrics(pred[..., :3], gt)


def test_directions_cover_every_metric() -> None:
    assert set(METRIC_DIRECTIONS) == set(METRIC_NAMES) == set(STANDARD_METRICS + MAI_METRICS)
    assert METRIC_DIRECTIONS["delta1"] == "max"
    assert METRIC_DIRECTIONS["mai_si_rmse"] == "min"


def random_batch(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Four images with different numbers of valid pixels, so image means differ from pixel means."""
    gen = torch.Generator().manual_seed(seed)
    gt = torch.rand(4, 1, 6, 8, generator=gen) * 9 + 0.5
    gt[0, :, :4] = 0
    gt[2, :, :, :7] = 0
    pred = gt * (torch.rand(gt.shape, generator=gen) * 0.6 + 0.7)
    return pred, gt


def test_depth_metrics_is_mean_of_per_image_values_and_batch_split_invariant() -> None:
    pred, gt = random_batch(0)
    whole = DepthMetrics()
    whole.update(pred, gt)
    halves = DepthMetrics()
    halves.update(pred[:2], gt[:2])
    halves.update(pred[2:], gt[2:])
    per_image = compute_depth_metrics(pred, gt)
    a, b = whole.compute(), halves.compute()
    assert list(a) == list(METRIC_NAMES)
    for name in METRIC_NAMES:
        assert a[name].shape == ()
        assert torch.allclose(a[name], b[name], rtol=1e-6), name
        assert torch.allclose(a[name], per_image[name].mean(), rtol=1e-6), name


def test_depth_metrics_skips_images_without_valid_pixels() -> None:
    pred, gt = random_batch(1)
    blank = torch.zeros_like(gt[:1])
    metric = DepthMetrics()
    metric.update(torch.cat([pred, torch.ones_like(blank)]), torch.cat([gt, blank]))
    reference = DepthMetrics()
    reference.update(pred, gt)
    result = metric.compute()
    for name, value in reference.compute().items():
        assert torch.isfinite(result[name]), name
        assert torch.allclose(result[name], value), name
    assert metric.num_images.item() == 5
    assert torch.equal(metric.counts, torch.full((len(METRIC_NAMES),), 4.0))


def test_depth_metrics_counts_families_separately() -> None:
    gt = torch.full((1, 1, 2, 2), 20.0)  # beyond max_depth: no standard pixel, all MAI pixels
    metric = DepthMetrics(max_depth=10.0)
    metric.update(gt.clone(), gt)
    result = metric.compute()
    assert all(torch.isnan(result[n]) for n in STANDARD_METRICS)
    assert all(result[n].item() == pytest.approx(0.0, abs=1e-6) for n in MAI_METRICS)


def test_depth_metrics_in_a_cloned_collection_gives_prefixed_scalars() -> None:
    pred, gt = random_batch(2)
    val = MetricCollection({"depth": DepthMetrics()}).clone(prefix="val/")
    val.update(pred, gt)
    result = val.compute()
    assert set(result) == {f"val/{n}" for n in METRIC_NAMES}
    val.reset()
    assert val["depth"].num_images.item() == 0


def test_depth_metrics_rejects_bad_range() -> None:
    with pytest.raises(ValueError, match="min_depth"):
        DepthMetrics(min_depth=5.0, max_depth=1.0)
