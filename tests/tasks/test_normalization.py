"""Encoder-aware normalisation: mean/std from the encoder's pretrained config, saved with the run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from densepred.app.config import load_config
from densepred.app.inference import evaluation_config, load_task
from densepred.app.tasks import TASKS
from densepred.app.train import run_training
from densepred.tasks.checkpoint import read_checkpoint

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
TF_ENCODER = "tf_mobilenetv3_small_minimal_100"  # timm's pretrained config: mean = std = 0.5


def test_tf_encoder_gets_its_mean_and_std_and_the_checkpoint_keeps_them(
    tmp_path: Path, make_tiny: Callable
) -> None:
    overrides = [*make_tiny(tmp_path, max_steps=1), f"model.encoder={TF_ENCODER}"]
    config = load_config(CONFIGS / "depth_mbv3_unet.yaml", overrides)
    assert config.data.normalize.mean == (0.5, 0.5, 0.5) == config.data.normalize.std
    result = run_training(config)
    saved = read_checkpoint(result.best_checkpoint)["hyper_parameters"]["config"]["data"]
    assert saved["normalize"] == {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
    task = load_task(result.best_checkpoint)
    grey = np.full((8, 8, 3), 255, np.uint8)
    assert torch.allclose(task.prepare_input(grey), torch.ones(1, 3, 32, 48))  # (1 - 0.5) / 0.5
    other = load_config(CONFIGS / "depth_mbv3_unet.yaml", overrides[:-1])  # ImageNet encoder
    assert evaluation_config(other, task).data.normalize.mean == (0.5, 0.5, 0.5)


def test_imagenet_encoder_and_explicit_setting() -> None:
    config = load_config(CONFIGS / "seg_mbv3_unet.yaml", ["data.root=unused"])
    assert config.data.normalize.mean == pytest.approx((0.485, 0.456, 0.406))
    explicit = "data.normalize={mean: [0.1, 0.2, 0.3], std: [1, 1, 1]}"
    config = load_config(CONFIGS / "cls_mbv2.yaml", [f"model.encoder={TF_ENCODER}", explicit])
    assert config.data.normalize.mean == (0.1, 0.2, 0.3)


def test_checkpoint_config_from_before_the_key_uses_imagenet() -> None:
    raw = load_config(CONFIGS / "depth_mbv3_unet.yaml", [f"model.encoder={TF_ENCODER}"]).to_dict()
    del raw["data"]["normalize"]  # as saved before data.normalize existed
    task = TASKS.get("depth")(raw)
    assert task.config.data.normalize.std == pytest.approx((0.229, 0.224, 0.225))
