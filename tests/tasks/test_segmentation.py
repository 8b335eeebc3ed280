"""Segmentation: task wiring, then shipped configs end to end through the CLI (the others: -m slow)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from densepred.app.config import config_from_dict
from densepred.app.inference import load_task
from densepred.cli.main import main
from densepred.core.errors import ConfigError
from densepred.data import MASK_CLASSES
from densepred.data.io import write_image, write_mask
from densepred.data.palette import colorize_mask
from densepred.tasks.segmentation import SegmentationTask

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
CLASSES = ["a", "b", "c"]
VOID = 255


# --- task wiring --------------------------------------------------------------------------


def _config(**task) -> dict:
    raw = {
        "model": {"encoder": "mobilenet_v3_small", "decoder_args": {"channels": [16, 16, 8, 8, 8]}},
        "data": {"format": "folder", "root": "unused", "classes": ["bg", "fg"]},
        "task": {"name": "segmentation", **task},
    }
    return config_from_dict(raw).to_dict()


def test_binary_mode_has_one_output_channel_and_thresholds_at_zero() -> None:
    task = SegmentationTask(
        _config(mode="binary", losses={"cross_entropy": 1.0, "dice": 1.0})
    ).eval()
    logits = task(torch.randn(1, 3, 20, 28))
    assert logits.shape == (1, 1, 20, 28)
    assert torch.equal(task.to_classes(logits), (logits[:, 0] > 0).long())
    assert task.predict_array(np.zeros((13, 17, 3), np.uint8)).shape == (13, 17)


def test_multiclass_classes_are_the_argmax_of_the_logits() -> None:
    task = SegmentationTask(_config()).eval()
    logits = torch.randn(2, 2, 9, 11)
    logits[0, :, 0, 0] = 1.0  # a tie goes to the first class, as with argmax
    assert torch.equal(task.to_classes(logits), logits.argmax(dim=1))


def test_inconsistent_sections_are_config_errors() -> None:
    raw = _config(mode="binary")
    raw["data"]["classes"] = ["a", "b", "c"]
    with pytest.raises(ConfigError, match="binary needs exactly two data.classes"):
        SegmentationTask(raw)
    with pytest.raises(ConfigError, match="class_weights has 3 values for 2 data.classes"):
        SegmentationTask(_config(class_weights=[1.0, 2.0, 3.0]))


# --- end to end through tools/train.py, evaluate.py, predict.py ---------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, make_tiny) -> tuple[Path, list[str]]:
    """One tiny run of seg_mbv3_unet through tools/train.py's entry point."""
    tmp = tmp_path_factory.mktemp("seg")
    overrides = make_tiny(tmp, max_steps=2)
    assert main(["train", str(CONFIGS / "seg_mbv3_unet.yaml"), *overrides]) == 0
    return tmp / "runs" / "seg_mbv3_unet", overrides


def test_run_folder_holds_config_checkpoint_metrics_and_samples(
    trained: tuple[Path, list[str]],
) -> None:
    run, _ = trained
    assert (run / "config.yaml").is_file() and (run / "checkpoints" / "last.ckpt").is_file()
    record = json.loads((run / "metrics.json").read_text())
    for key in ("val/miou", "val/pixel_acc", "val/iou_floor", "val/iou_cylinder", "val/loss"):
        assert key in record["val"], key
    assert 0 <= record["val"]["val/miou"] <= 1
    picture = cv2.imread(str(run / "predictions.png"))
    assert picture is not None and picture.shape[1] > 3 * 48


def test_evaluate_reports_the_metric_table(
    trained: tuple[Path, list[str]], tmp_path: Path, capsys
) -> None:
    run, overrides = trained
    out = tmp_path / "eval.json"
    data_overrides = [o for o in overrides if o.startswith("data.")]
    ckpt = run / "checkpoints" / "last.ckpt"
    assert (
        main(["evaluate", str(CONFIGS / "seg_mbv3_unet.yaml"), str(ckpt), *data_overrides, "--out", str(out)]
        )
        == 0
    )
    metrics = json.loads(out.read_text())["metrics"]
    assert {"val/miou", "val/pixel_acc", "val/iou_box"} <= set(metrics)
    assert "| val/miou" in capsys.readouterr().out


def test_predict_writes_class_ids_colour_mask_and_overlay(
    trained: tuple[Path, list[str]], tmp_path: Path
) -> None:
    run, _ = trained
    image = np.random.default_rng(0).integers(0, 255, (37, 53, 3), dtype=np.uint8)
    write_image(tmp_path / "odd.png", image)
    pred = tmp_path / "pred"
    assert (
        main(["predict", str(run / "checkpoints" / "last.ckpt"), str(tmp_path / "odd.png"), "--out", str(pred)]
        )
        == 0
    )
    mask = cv2.imread(str(pred / "odd_mask.png"), cv2.IMREAD_UNCHANGED)
    assert mask.dtype == np.uint8 and mask.shape == (37, 53) and mask.max() < len(MASK_CLASSES)
    color = cv2.cvtColor(cv2.imread(str(pred / "odd_color.png")), cv2.COLOR_BGR2RGB)
    assert np.array_equal(color, colorize_mask(mask, None))
    assert cv2.imread(str(pred / "odd_overlay.png")).shape == (37, 53, 3)


@pytest.mark.slow  # seg_mbv3_unet above is the default-suite representative
@pytest.mark.parametrize("name", ["seg_resnet18_aspp", "seg_mbv3_smp_fpn"])
def test_other_shipped_configs_train(name: str, tmp_path: Path, make_tiny) -> None:
    assert main(["train", str(CONFIGS / f"{name}.yaml"), *make_tiny(tmp_path, max_steps=1)]) == 0
    record = json.loads((tmp_path / "runs" / name / "metrics.json").read_text())
    assert 0 <= record["val"]["val/miou"] <= 1


def test_binary_folder_dataset_needs_only_a_data_change(tmp_path: Path, make_tiny) -> None:
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for i in range(4):
            mask = np.zeros((40, 48), np.uint8)
            mask[10:30, 12 + i : 30 + i] = 1
            mask[:2] = VOID
            image = rng.integers(0, 80, (40, 48, 3), dtype=np.uint8)
            image[mask == 1] += 150
            write_image(tmp_path / "shapes" / split / "images" / f"{i}.png", image)
            write_mask(tmp_path / "shapes" / split / "masks" / f"{i}.png", mask)
    overrides = [o for o in make_tiny(tmp_path) if not o.startswith("data.args")] + [
        "data.format=folder",
        f"data.root={tmp_path / 'shapes'}",
        "data.args={}",
        "data.classes=[background, shape]",
        "task.mode=binary",
        "task.losses={cross_entropy: 1.0, lovasz: 1.0}",
    ]
    assert main(["train", str(CONFIGS / "seg_mbv3_unet.yaml"), *overrides]) == 0
    run = tmp_path / "runs" / "seg_mbv3_unet"
    task = load_task(run / "checkpoints" / "last.ckpt")
    assert task.config.data.classes == ["background", "shape"]
    assert {"val/iou_background", "val/iou_shape"} <= set(
        json.loads((run / "metrics.json").read_text())["val"]
    )
