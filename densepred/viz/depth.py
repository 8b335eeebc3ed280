"""Depth pictures: colour-mapped depth maps and image | ground truth | prediction | error grids."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import torch
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from torch import Tensor

from densepred.core.fileio import atomic_path
from densepred.viz.grid import HEADER_HEIGHT, cell_zoom, put_label

DEPTH_CMAP = "plasma_r"  # near = bright yellow, far = dark blue; never black, so invalid stands out
ERROR_CMAP = "inferno"
GAP = 2  # grey lines between cells, distinct from the black of invalid pixels
GAP_GREY = 128
COLUMN_LABELS = ("image", "ground truth", "prediction", "abs error")


def _to_numpy_map(depth: np.ndarray | Tensor) -> np.ndarray:
    """HxW, 1xHxW or HxWx1 array or tensor -> HxW float32 array."""
    if isinstance(depth, Tensor):
        depth = depth.detach().float().cpu().numpy()
    depth = np.asarray(depth, dtype=np.float32)
    if depth.ndim == 3 and depth.shape[0] == 1:
        depth = depth[0]  # H,W
    elif depth.ndim == 3 and depth.shape[-1] == 1:
        depth = depth[..., 0]  # H,W
    if depth.ndim != 2:
        raise ValueError(f"a depth map must have one channel, got shape {depth.shape}")
    return depth


def colorize_depth(
    depth: np.ndarray | Tensor,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str = DEPTH_CMAP,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Colour-map a depth map; invalid pixels are drawn black.

    Args:
        depth: Depth map, HxW (or with a singleton channel), in any unit.
        vmin: Value at the low end of the colour map (default: smallest valid value).
        vmax: Value at the high end of the colour map (default: largest valid value).
        cmap: Matplotlib colour map name.
        valid: HxW bool mask of the pixels to colour (default: finite and ``> 0``).

    Returns:
        HxWx3 uint8 RGB image.
    """
    depth = _to_numpy_map(depth)  # H,W
    if valid is None:
        valid = np.isfinite(depth) & (depth > 0)  # H,W
    if not valid.any():
        return np.zeros((*depth.shape, 3), dtype=np.uint8)
    lo = float(depth[valid].min()) if vmin is None else vmin
    hi = float(depth[valid].max()) if vmax is None else vmax
    scaled = np.clip((depth - lo) / max(hi - lo, 1e-12), 0.0, 1.0)  # H,W
    rgb = matplotlib.colormaps[cmap](np.where(valid, scaled, 0.0))[..., :3]  # H,W,3 in [0, 1]
    rgb = (rgb * 255.0 + 0.5).astype(np.uint8)  # H,W,3
    rgb[~valid] = 0
    return rgb


PERCENTILES = (2.0, 98.0)
"""Percentiles of an image's valid depths that span its colour map in :func:`depth_legend_image`."""


def percentile_range(
    depth: np.ndarray, percentiles: tuple[float, float] = PERCENTILES
) -> tuple[float, float] | None:
    """The ``percentiles`` of the valid (finite, > 0) depths, or ``None`` when none is valid."""
    valid = depth[np.isfinite(depth) & (depth > 0)]
    if valid.size == 0:
        return None
    lo, hi = (float(v) for v in np.percentile(valid, percentiles))
    return lo, max(hi, lo + 1e-6)


def depth_legend_image(
    depth: np.ndarray, units: str = "m", percentiles: tuple[float, float] = PERCENTILES
) -> tuple[np.ndarray, tuple[float, float] | None]:
    """A depth map coloured over its own range, with that range written below it.

    The colour map spans the ``percentiles`` (2nd to 98th) of the image's valid depths, so an
    indoor picture uses the whole map; a strip below the picture holds the colour bar and the
    two ends in ``units``.

    Args:
        depth: HxW depth.
        units: Unit name written in the legend.
        percentiles: Low and high percentile of the colour range.

    Returns:
        The (H + strip)xWx3 uint8 RGB image and the ``(low, high)`` range (``None``: no valid
        pixel; the picture is black).
    """
    depth = _to_numpy_map(depth)
    span = percentile_range(depth, percentiles)
    lo, hi = span if span is not None else (0.0, 1.0)
    rgb = colorize_depth(depth, vmin=lo, vmax=hi)  # H,W,3
    width = rgb.shape[1]
    strip = np.zeros((max(16, width // 16), width, 3), dtype=np.uint8)  # h,W,3
    bar = strip.shape[0] // 3
    ramp = np.linspace(lo, hi, width, dtype=np.float32)[None].repeat(bar, axis=0)  # bar,W
    strip[:bar] = colorize_depth(ramp, vmin=lo, vmax=hi, valid=np.ones_like(ramp, bool))
    text = (
        "no valid depth"
        if span is None
        else f"{lo:.3g} - {hi:.3g} {units} (p{percentiles[0]:g}-p{percentiles[1]:g})"
    )
    put_label(strip[bar:], text, 0, width)
    return np.concatenate([rgb, strip], axis=0), span


def denormalize_image(
    image: Tensor,
    mean: Sequence[float] = IMAGENET_DEFAULT_MEAN,
    std: Sequence[float] = IMAGENET_DEFAULT_STD,
) -> np.ndarray:
    """3xHxW normalised image tensor -> HxWx3 uint8 RGB (``image * std + mean``, clipped)."""
    mean_t = torch.tensor(mean, dtype=torch.float32)[:, None, None]  # 3,1,1
    std_t = torch.tensor(std, dtype=torch.float32)[:, None, None]  # 3,1,1
    rgb = (image.detach().float().cpu() * std_t + mean_t).clamp(0, 1)  # 3,H,W
    return (rgb.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)  # H,W,3


def _sample_row(
    image: Tensor,
    gt: Tensor,
    pred: Tensor,
    max_depth: float,
    error: bool,
    mean: Sequence[float],
    std: Sequence[float],
) -> list[np.ndarray]:
    """The HxWx3 uint8 cells of one sample: image, ground truth, prediction (, abs error)."""
    gt_map, pred_map = _to_numpy_map(gt), _to_numpy_map(pred)  # H,W
    if gt_map.shape != pred_map.shape:
        raise ValueError(
            f"ground truth {gt_map.shape} and prediction {pred_map.shape} differ in size"
        )
    valid = np.isfinite(gt_map) & (gt_map > 0)  # H,W
    lo = float(gt_map[valid].min()) if valid.any() else 0.0
    hi = min(float(gt_map[valid].max()), max_depth) if valid.any() else max_depth
    cells = [
        denormalize_image(image, mean, std),
        colorize_depth(gt_map, lo, hi),
        colorize_depth(pred_map, lo, hi),
    ]
    if error:
        abs_err = np.abs(pred_map - gt_map)  # H,W
        cells.append(colorize_depth(abs_err, 0.0, None, cmap=ERROR_CMAP, valid=valid))
    return cells


def depth_sample_grid(
    images: Tensor,
    gts: Tensor,
    preds: Tensor,
    max_depth: float,
    error: bool = True,
    mean: Sequence[float] = IMAGENET_DEFAULT_MEAN,
    std: Sequence[float] = IMAGENET_DEFAULT_STD,
) -> np.ndarray:
    """One row per sample: image | ground truth | prediction (| absolute error), labelled on top.

    Ground truth and prediction of a row share one colour range: the row's valid ground-truth
    depths, capped at ``max_depth``. The error map shows ``|pred - gt|`` on valid pixels from 0
    (dark) to the row's largest error (bright); black marks pixels without ground truth. Images
    narrower than :data:`~densepred.viz.grid.MIN_CELL_WIDTH` are enlarged (nearest neighbour) so the labels stay legible.

    Args:
        images: Bx3xHxW images normalised with ``mean`` and ``std``.
        gts: Bx1xHxW ground-truth depth in metres (0 = invalid).
        preds: Bx1xHxW predicted depth in metres.
        max_depth: Upper end of the depth colour range.
        error: Add the absolute-error column.
        mean: Per-channel mean the images were normalised with.
        std: Per-channel standard deviation the images were normalised with.

    Returns:
        HxWx3 uint8 RGB grid with a label band above the first row.
    """
    if not len(images) == len(gts) == len(preds) > 0:
        raise ValueError(
            f"need the same non-zero number of images ({len(images)}), ground truths ({len(gts)}) "
            f"and predictions ({len(preds)})"
        )
    rows = [
        _sample_row(img, gt, pred, max_depth, error, mean, std)
        for img, gt, pred in zip(images, gts, preds, strict=True)
    ]
    zoom = cell_zoom(images.shape[-1])
    height, width = images.shape[-2] * zoom, images.shape[-1] * zoom
    num_cols = len(rows[0])
    canvas = np.full(
        (HEADER_HEIGHT + len(rows) * (height + GAP), num_cols * (width + GAP) - GAP, 3),
        GAP_GREY,
        dtype=np.uint8,
    )  # h+B*(H+g),K*(W+g)-g,3
    canvas[:HEADER_HEIGHT] = 0
    for k, label in enumerate(COLUMN_LABELS[:num_cols]):
        put_label(canvas[:HEADER_HEIGHT], label, k * (width + GAP), width)
    for i, row in enumerate(rows):
        top = HEADER_HEIGHT + i * (height + GAP) + GAP
        for k, cell in enumerate(row):
            left = k * (width + GAP)
            canvas[top : top + height, left : left + width] = cv2.resize(
                cell, (width, height), interpolation=cv2.INTER_NEAREST
            )  # H,W,3
    return canvas


def save_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an HxWx3 uint8 RGB image as PNG atomically, creating parent folders.

    Args:
        path: Destination file.
        rgb: HxWx3 uint8 RGB image.

    Returns:
        The path written.
    """
    path = Path(path)
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"could not encode an image of shape {rgb.shape} as PNG for {path}")
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.tobytes())
    return path
