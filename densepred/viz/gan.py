"""GAN pictures: condition | target | generated grids of tensors in [-1, 1]."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from torch import Tensor

from densepred.viz.depth import colorize_depth
from densepred.viz.grid import labelled_columns


def unit_to_rgb(x: Tensor, kind: str) -> np.ndarray:
    """A CxHxW tensor in [-1, 1] -> HxWx3 uint8 RGB.

    Args:
        x: Image (3 channels) or depth map (1 channel) scaled to [-1, 1].
        kind: ``depth`` is colour-mapped (near bright, far dark, -1 = invalid black); ``rgb``
            and ``mask`` (palette colours) are shown as they are.
    """
    unit = (x.detach().float().cpu().clamp(-1, 1) + 1) * 0.5  # C,H,W in [0, 1]
    if kind == "depth":
        return colorize_depth(unit[0], vmin=0.0, vmax=1.0)
    return (unit.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)  # H,W,3


def gan_sample_grid(columns: Sequence[tuple[str, Tensor, str]]) -> np.ndarray:
    """One row per sample, one labelled column per batch (e.g. condition | target | generated).

    Args:
        columns: ``(label, BxCxHxW tensor in [-1, 1], kind)`` per column; all of one size.

    Returns:
        HxWx3 uint8 RGB grid with a label band above the first row.
    """
    sizes = {tuple(batch.shape[:1]) + tuple(batch.shape[-2:]) for _, batch, _ in columns}
    if len(sizes) != 1 or not columns or len(columns[0][1]) == 0:
        raise ValueError(f"need non-empty columns of one batch and image size, got {sorted(sizes)}")
    cells = [
        np.concatenate([unit_to_rgb(x, kind) for x in batch], axis=0)  # B*H,W,3
        for _, batch, kind in columns
    ]
    grid = np.concatenate(cells, axis=1)  # B*H,K*W,3
    return labelled_columns(grid, [label for label, _, _ in columns], columns[0][1].shape[-1])
