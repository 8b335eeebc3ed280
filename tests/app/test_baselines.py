"""Constant-prediction baselines: their scores agree with the task metrics of that prediction."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml

from densepred.app.config import load_config
from densepred.app.tasks import TASKS, run_baseline
from densepred.cli.main import main
from densepred.metrics.classification import classification_metrics
from densepred.metrics.segmentation import segmentation_metrics

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _val_batches(cfg):
    dm = TASKS.get(cfg.task_name).build_datamodule(cfg)
    dm.prepare_data()
    dm.setup("fit")
    return list(dm.val_dataloader())


def test_depth_baseline_si_rmse_is_per_image_log_std(tmp_path: Path, make_tiny) -> None:
    cfg = load_config(CONFIGS / "depth_mbv3_unet.yaml", make_tiny(tmp_path))
    result = run_baseline(cfg)
    stds = []
    for batch in _val_batches(cfg):
        for gt in batch["depth"]:
            log = torch.log(gt[gt > 0.001].double())  # MAI validity: gt > 1 mm
            stds.append(float(log.std(unbiased=False)))
    assert result["val/mai_si_rmse"] == pytest.approx(sum(stds) / len(stds), rel=1e-4)
    assert 0.5 < result["mean_image_depth_m"] < 10.0


def test_depth_baseline_on_an_evaluation_only_dataset(tmp_path: Path) -> None:
    """Issue 17: a MAI layout holding only val/ is enough; each image is predicted as the
    geometric mean of its own valid depth (0 = invalid pixels are ignored)."""
    rng = np.random.default_rng(0)
    depths = []
    for i in range(3):
        depth = rng.uniform(500 * (i + 1), 3000 * (i + 1), (24, 32)).astype(np.uint16)
        depth[:4] = 0  # invalid rows
        depths.append(depth.astype(np.float64)[4:] / 1000.0)
        for sub, array in (("rgb", rng.integers(0, 255, (24, 32, 3), np.uint8)), ("depth", depth)):
            (tmp_path / "val" / sub).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(tmp_path / "val" / sub / f"{i:05d}.png"), array)
    overrides = [
        "data.format=mai",
        f"data.root={tmp_path}",
        "data.args={}",
        "data.image_size=null",  # native size: the pixels written above
        "data.augment.crop_scale=[1, 1]",  # a random crop needs a fixed image_size
        "data.num_workers=0",
    ]
    result = run_baseline(load_config(CONFIGS / "depth_mbv3_unet.yaml", overrides))
    constants = [np.exp(np.log(d).mean()) for d in depths]
    delta1 = np.mean(
        [(np.maximum(d / c, c / d) < 1.25).mean() for d, c in zip(depths, constants, strict=True)]
    )
    abs_rel = np.mean([(np.abs(d - c) / d).mean() for d, c in zip(depths, constants, strict=True)])
    assert result["mean_image_depth_m"] == pytest.approx(np.mean(constants), rel=1e-4)
    assert result["val/delta1"] == pytest.approx(delta1, rel=1e-4)
    assert result["val/abs_rel"] == pytest.approx(abs_rel, rel=1e-4)
    assert result["val/mai_si_rmse"] == pytest.approx(np.mean([np.log(d).std() for d in depths]))


def test_majority_pixel_baseline_scores_like_the_metrics(tmp_path: Path, make_tiny) -> None:
    cfg = load_config(CONFIGS / "seg_mbv3_unet.yaml", make_tiny(tmp_path))
    result = run_baseline(cfg)
    metrics = segmentation_metrics(cfg.data.classes, cfg.data.ignore_index)
    for batch in _val_batches(cfg):
        mask = batch["mask"]
        metrics.update(torch.full_like(mask, result["majority_class"]), mask)
    values = metrics.compute()
    assert result["val/miou"] == pytest.approx(float(values["miou"]), rel=1e-5)
    assert result["val/pixel_acc"] == pytest.approx(float(values["pixel_acc"]), rel=1e-5)
    assert 0 < result["val/miou"] < result["val/pixel_acc"] < 1


def test_majority_label_baseline_scores_like_the_metrics(tmp_path: Path, make_tiny) -> None:
    cfg = load_config(CONFIGS / "cls_mbv2.yaml", make_tiny(tmp_path))
    result = run_baseline(cfg)
    num_classes = len(cfg.data.classes)
    metrics = classification_metrics(num_classes)
    for batch in _val_batches(cfg):
        logits = torch.zeros(len(batch["label"]), num_classes)
        logits[:, result["majority_class"]] = 1.0
        metrics.update(logits, batch["label"])
    assert result["val/acc1"] == pytest.approx(float(metrics.compute()["acc1"]), rel=1e-5)


def test_cli_prints_the_table_and_gan_configs_have_no_baseline(
    tmp_path: Path, make_tiny, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["baseline", str(CONFIGS / "seg_mbv3_unet.yaml"), *make_tiny(tmp_path)]) == 0
    assert "| val/miou" in capsys.readouterr().out
    assert main(["baseline", "gan_dcgan", *make_tiny(tmp_path)]) != 0
    assert "the gan task has no constant-prediction baseline" in capsys.readouterr().err


WITH_BASELINE = [n for n in TASKS.names() if "baseline" in vars(TASKS.get(n))]


def test_every_task_but_gan_has_a_baseline() -> None:
    assert WITH_BASELINE == ["classification", "depth", "segmentation"]


@pytest.mark.parametrize("name", WITH_BASELINE)
def test_baseline_contract(name: str, tmp_path: Path, make_tiny) -> None:
    """Any task's baseline scores finite values under that task's checkpoint monitor, so it
    compares with what training selects."""
    tasks = {p: (yaml.safe_load(p.read_text()).get("task") or {}) for p in CONFIGS.glob("*.yaml")}
    path = min(p for p, task in tasks.items() if task.get("name") == name)
    cfg = load_config(path, make_tiny(tmp_path))
    result = run_baseline(cfg)
    assert cfg.task.monitor in result
    assert all(isinstance(v, (int, float)) and v == v for v in result.values())
