"""Native-resolution evaluation: predictions are upsampled to each target's own size.

A stub network returns fixed predictions at ``data.image_size``; the ground truth of each file is
that prediction upsampled bilinearly (depth) or the argmax of the upsampled logits
(segmentation) at the file's own size, and the two files have different sizes (the collate
keeps their targets as a list). Scored at native size the prediction is exact; resizing the
ground truth to the input size (``data.eval_size: input``) and scoring there is not.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from torch import nn

from densepred.app.config import config_from_dict, load_config
from densepred.app.tasks import TASKS
from densepred.data.io import write_depth, write_image, write_mask
from densepred.portable.processing import depth_to_unit
from densepred.tasks.native import at_target_size, resize_to, targets_at

ROOT = Path(__file__).resolve().parents[2]
INPUT = (32, 40)
NATIVE = [(48, 60), (40, 72)]  # two files of different sizes, neither a multiple of INPUT


class FixedOutput(nn.Module):
    """Returns the same batch of outputs whatever the input (one batch holds every file)."""

    def __init__(self, output: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("output", output)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output[: x.shape[0]]


FOLDERS = {"depth": ("image", "depth"), "mask": ("images", "masks")}  # the folder layouts' defaults


def _write_split(root: Path, target: str, arrays: list[np.ndarray]) -> None:
    image_dir, target_dir = FOLDERS[target]
    for i, array in enumerate(arrays):
        write_image(root / "val" / image_dir / f"{i}.png", np.zeros((*array.shape, 3), np.uint8))
        path = root / "val" / target_dir / f"{i}.png"
        if target == "depth":
            write_depth(path, array)
        else:
            write_mask(path, array.astype(np.uint8))


def _score(task_name: str, root: Path, eval_size: str, output: torch.Tensor, extra: dict) -> dict:
    raw = {
        "model": {"encoder": "mobilenet_v3_small", "decoder_args": {"channels": [8, 8, 8, 8, 8]}},
        "data": {
            "format": "folder",
            "root": str(root),
            "image_size": list(INPUT),
            "batch_size": 2,
            "num_workers": 0,
            "eval_size": eval_size,
            "check": "off",
            **extra,
        },
        "task": {"name": task_name},
    }
    config = config_from_dict(raw)
    task_cls = TASKS.get(task_name)
    task = task_cls(config)
    task.model = FixedOutput(output)
    trainer = L.Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, default_root_dir=root
    )
    results = trainer.validate(task, datamodule=task_cls.build_datamodule(config), verbose=False)
    return results[0]


def test_depth_exact_at_native_size_scores_perfectly(tmp_path: Path) -> None:
    torch.manual_seed(0)
    pred = 1.0 + 4.0 * torch.rand(2, 1, *INPUT)  # metres, at the input size
    gts = [resize_to(pred[i : i + 1], size)[0, 0].numpy() for i, size in enumerate(NATIVE)]
    _write_split(tmp_path, "depth", gts)  # uint16 millimetres: exact up to 0.5 mm
    native = _score("depth", tmp_path, "native", pred, {})
    resized = _score("depth", tmp_path, "input", pred, {})
    assert native["val/rmse"] < 1e-3 and native["val/mai_si_rmse"] < 1e-3
    assert native["val/delta1"] == 1.0
    assert resized["val/rmse"] > 0.05 and resized["val/mai_si_rmse"] > 0.01


def test_segmentation_logits_are_upsampled_before_argmax(tmp_path: Path) -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, 3, *INPUT)
    masks = [
        resize_to(logits[i : i + 1], size)[0].argmax(0).numpy() for i, size in enumerate(NATIVE)
    ]
    _write_split(tmp_path, "mask", masks)
    extra = {"classes": ["a", "b", "c"]}
    native = _score("segmentation", tmp_path, "native", logits, extra)
    resized = _score("segmentation", tmp_path, "input", logits, extra)
    assert native["val/miou"] == pytest.approx(1.0)
    assert resized["val/miou"] < 0.95


def test_pairs_and_targets_of_a_ragged_batch() -> None:
    pred = torch.rand(2, 1, 4, 5)
    targets = [torch.rand(1, 8, 10), torch.rand(1, 6, 7)]
    pairs = at_target_size(pred, targets)
    assert [tuple(p.shape) for p, _ in pairs] == [(1, 1, 8, 10), (1, 1, 6, 7)]
    assert targets_at(targets, (4, 5)).shape == (2, 1, 4, 5)
    stacked = torch.rand(2, 1, 4, 5)
    assert at_target_size(pred, stacked)[0][0] is pred  # same size: no resize


class FixedGenerator(FixedOutput):
    """A conditional GAN stand-in: fixed generated images, a discriminator that averages."""

    conditional = True

    def discriminate(self, image: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return image.mean(dim=(1, 2, 3))[:, None]


def test_gan_depth_targets_are_scored_at_native_size(tmp_path: Path) -> None:
    """RGB -> depth in GAN mode scores its depth like the depth task: at each file's size."""
    torch.manual_seed(0)
    metres = 1.0 + 4.0 * torch.rand(2, 1, *INPUT)
    gts = [resize_to(metres[i : i + 1], size)[0, 0].numpy() for i, size in enumerate(NATIVE)]
    for i, gt in enumerate(gts):
        write_image(tmp_path / "A" / "val" / f"{i}.png", np.zeros((*gt.shape, 3), np.uint8))
        write_depth(tmp_path / "B" / "val" / f"{i}.png", gt)
    config_path = ROOT / "configs" / "gan_pix2pix_rgb2depth.yaml"
    scores = {}
    for eval_size in ("native", "input"):
        overrides = [f"data.{k}={v}" for k, v in (("format", "folder"), ("root", tmp_path))]
        overrides += [f"data.image_size=[{INPUT[0]}, {INPUT[1]}]", "data.batch_size=2"]
        overrides += ["data.args={}", "data.num_workers=0", "data.check=off"]
        overrides += [f"data.eval_size={eval_size}"]
        config = load_config(config_path, overrides)
        task_cls = TASKS.get("gan")
        task = task_cls(config)
        task.model = FixedGenerator(torch.from_numpy(depth_to_unit(metres.numpy(), 10.0)))
        trainer = L.Trainer(
            accelerator="cpu", logger=False, enable_progress_bar=False, default_root_dir=tmp_path
        )
        datamodule = task_cls.build_datamodule(config)
        scores[eval_size] = trainer.validate(task, datamodule=datamodule, verbose=False)[0]
    native, resized = scores["native"], scores["input"]
    assert native["val/rmse"] < 1e-3 and native["val/mai_si_rmse"] < 1e-3
    assert native["val/delta1"] == 1.0
    assert resized["val/rmse"] > 0.05 and resized["val/mai_si_rmse"] > 0.01
    assert native["val/l1"] == resized["val/l1"]  # image metrics stay at image_size
