"""Segmentation pictures: palette, colour masks, overlays and sample grids."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from densepred.data.palette import VOID_COLOR, class_palette, colorize_mask
from densepred.viz.segmentation import overlay_mask, segmentation_sample_grid


def test_palette_is_pascal_voc() -> None:
    palette = class_palette()
    assert palette.shape == (256, 3) and palette.dtype == np.uint8
    assert palette[0].tolist() == [0, 0, 0] and palette[1].tolist() == [128, 0, 0]
    assert palette[15].tolist() == [192, 128, 128]  # person
    assert palette[255].tolist() == list(VOID_COLOR)
    assert len({tuple(c) for c in palette}) == 256


def test_colorize_mask_uses_the_palette_and_void_colour() -> None:
    mask = np.array([[0, 1], [2, 7]])
    rgb = colorize_mask(mask, ignore_index=7)
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8
    assert rgb[0, 1].tolist() == [128, 0, 0] and rgb[1, 1].tolist() == list(VOID_COLOR)
    assert colorize_mask(mask, None)[1, 1].tolist() == class_palette()[7].tolist()


def test_overlay_blends_classes_and_keeps_void_pixels() -> None:
    rgb = np.full((2, 2, 3), 100, np.uint8)
    mask = np.array([[1, 1], [255, 0]])
    out = overlay_mask(rgb, mask, alpha=0.5)
    assert out[0, 0].tolist() == [114, 50, 50]  # (100 + 128) / 2, (100 + 0) / 2
    assert out[1, 0].tolist() == [100, 100, 100]
    assert np.array_equal(overlay_mask(rgb, mask, alpha=0.0), rgb)
    with pytest.raises(ValueError, match="differ in size"):
        overlay_mask(rgb, np.zeros((3, 2), int))


def test_sample_grid_has_three_labelled_columns_per_sample() -> None:
    images = torch.zeros(2, 3, 16, 20)
    masks = torch.randint(0, 3, (2, 16, 20))
    masks[0, 0] = 255
    grid = segmentation_sample_grid(images, masks, masks.clone())
    assert grid.dtype == np.uint8 and grid.ndim == 3
    assert grid.shape[1] >= 3 * 160  # small cells are enlarged for legible labels
    assert grid.shape[0] > 2 * grid.shape[1] / 3 * 16 / 20  # two rows plus the label band
    with pytest.raises(ValueError, match="same non-zero number"):
        segmentation_sample_grid(images, masks[:1], masks)
