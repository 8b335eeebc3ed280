"""Median frequency class weights (SegNet) from the training masks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from densepred.app.config import load_config
from densepred.app.train import run_training
from densepred.config.data import SegmentationDataConfig
from densepred.data.io import write_image, write_mask
from densepred.data.segmentation import SegmentationDataModule
from densepred.tasks.checkpoint import read_checkpoint
from densepred.tasks.references import resolve_section

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _masks(root: Path) -> None:
    """Two 4x4 training masks: class 0 in both, class 1 only in the first, class 2 never, void."""
    first = np.array([[0, 0, 1, 1]] * 4, np.uint8)
    second = np.array([[0, 0, 0, 255]] * 4, np.uint8)
    for i, mask in enumerate([first, second]):
        write_image(root / "train" / "images" / f"{i}.png", np.zeros((4, 4, 3), np.uint8))
        write_mask(root / "train" / "masks" / f"{i}.png", mask)


def test_median_frequency_by_hand(tmp_path: Path) -> None:
    _masks(tmp_path)
    cfg = resolve_section(
        SegmentationDataConfig, {"format": "folder", "root": str(tmp_path), "classes": ["a", "b", "c"]}
    )
    weights = SegmentationDataModule(cfg).median_frequency_weights()
    # class 0: 8 + 12 pixels of 16 + 12 labelled ones -> 20/28; class 1: 8 of 16 (only image 1)
    freq = [20 / 28, 8 / 16]
    median = float(np.median(freq))
    assert weights == pytest.approx([median / freq[0], median / freq[1], 0.0])


def test_training_saves_the_resolved_weights(tmp_path: Path, make_tiny: Callable) -> None:
    overrides = [*make_tiny(tmp_path, max_steps=1), "task.class_weights=median_frequency"]
    config = load_config(CONFIGS / "seg_mbv3_unet.yaml", overrides)
    result = run_training(config)
    saved = read_checkpoint(result.best_checkpoint)["hyper_parameters"]["config"]["task"]
    weights = saved["class_weights"]
    assert isinstance(weights, list) and len(weights) == len(config.data.classes)
    assert all(w >= 0 for w in weights) and any(w != 1.0 for w in weights)
