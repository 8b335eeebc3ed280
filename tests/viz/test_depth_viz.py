"""Depth pictures: colour maps, sample grids and PNG writing."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from densepred.viz.depth import (
    GAP,
    colorize_depth,
    denormalize_image,
    depth_sample_grid,
    save_png,
)
from densepred.viz.grid import HEADER_HEIGHT, MIN_CELL_WIDTH


def test_colorize_depth_draws_invalid_black_and_valid_in_colour() -> None:
    depth = np.array([[0.0, 1.0], [np.nan, 5.0]], dtype=np.float32)
    rgb = colorize_depth(depth)
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8
    assert (rgb[0, 0] == 0).all() and (rgb[1, 0] == 0).all()
    assert rgb[0, 1].sum() > 0 and rgb[1, 1].sum() > 0
    assert not np.array_equal(rgb[0, 1], rgb[1, 1])


def test_colorize_depth_clips_to_the_given_range_and_takes_tensors() -> None:
    depth = torch.tensor([[[1.0, 2.0, 3.0, 9.0]]])  # 1,1,4 with channel axis
    rgb = colorize_depth(depth, vmin=2.0, vmax=3.0)
    assert rgb.shape == (1, 4, 3)
    assert np.array_equal(rgb[0, 0], rgb[0, 1])  # below vmin -> low end
    assert np.array_equal(rgb[0, 2], rgb[0, 3])  # above vmax -> high end


def test_colorize_depth_with_explicit_mask_and_no_valid_pixel() -> None:
    depth = np.zeros((3, 4), dtype=np.float32)
    assert not colorize_depth(depth).any()
    coloured = colorize_depth(depth, vmin=0.0, vmax=1.0, valid=np.ones((3, 4), dtype=bool))
    assert (coloured.sum(axis=-1) > 0).all()  # a zero error is a colour, not "invalid"


def test_denormalize_image_inverts_imagenet_normalisation() -> None:
    rgb = torch.rand(3, 4, 5)
    mean = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
    std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    out = denormalize_image((rgb - mean) / std)
    assert out.shape == (4, 5, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(float) - rgb.permute(1, 2, 0).numpy() * 255).max() <= 1


@pytest.mark.parametrize("error", [True, False])
def test_depth_sample_grid_layout(error: bool) -> None:
    images = torch.randn(3, 3, 24, 32)
    gts = torch.rand(3, 1, 24, 32) * 5 + 1
    gts[:, :, :4] = 0
    preds = torch.rand(3, 1, 24, 32) * 5 + 1
    grid = depth_sample_grid(images, gts, preds, max_depth=10.0, error=error)
    zoom = -(-MIN_CELL_WIDTH // 32)
    cols = 4 if error else 3
    assert grid.dtype == np.uint8
    assert grid.shape == (HEADER_HEIGHT + 3 * (24 * zoom + GAP), cols * (32 * zoom + GAP) - GAP, 3)
    assert grid[:HEADER_HEIGHT].max() >= 240  # white (anti-aliased) labels in the header band
    first_gt_cell = grid[HEADER_HEIGHT + GAP :, 32 * zoom + GAP :]
    assert (first_gt_cell[: 4 * zoom, : 32 * zoom] == 0).all()  # invalid ground truth is black


def test_depth_sample_grid_rejects_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="same non-zero number"):
        depth_sample_grid(
            torch.zeros(2, 3, 8, 8), torch.ones(1, 1, 8, 8), torch.ones(2, 1, 8, 8), 10.0
        )
    with pytest.raises(ValueError, match="differ in size"):
        depth_sample_grid(
            torch.zeros(1, 3, 8, 8), torch.ones(1, 1, 8, 8), torch.ones(1, 1, 8, 9), 10.0
        )


def test_save_png_round_trips_rgb(tmp_path: Path) -> None:
    rgb = np.zeros((4, 6, 3), dtype=np.uint8)
    rgb[..., 0] = 200  # red
    path = save_png(tmp_path / "sub" / "grid.png", rgb)
    back = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    assert np.array_equal(back, rgb)
    assert [p.name for p in path.parent.iterdir()] == ["grid.png"]


def test_depth_sample_grid_uses_the_given_normalisation() -> None:
    """The image column undoes the run's own mean/std (e.g. 0.5/0.5 of tf_ encoders)."""
    rgb = torch.full((1, 3, 24, 32), 0.25)  # 0..1 RGB, grey
    half = (0.5, 0.5, 0.5)
    grid = depth_sample_grid(
        (rgb - 0.5) / 0.5,
        torch.ones(1, 1, 24, 32),
        torch.ones(1, 1, 24, 32),
        10.0,
        mean=half,
        std=half,
    )
    zoom = -(-MIN_CELL_WIDTH // 32)
    image_cell = grid[HEADER_HEIGHT + GAP : HEADER_HEIGHT + GAP + 24 * zoom, : 32 * zoom]
    assert np.abs(image_cell.astype(float) - 0.25 * 255).max() <= 1
