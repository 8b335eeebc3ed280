"""Segmentation pictures: class palette, colour masks, overlays and image | gt | pred grids."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from torch import Tensor

from densepred.data.palette import colorize_mask
from densepred.viz.depth import denormalize_image
from densepred.viz.grid import labelled_columns

COLUMN_LABELS = ("image", "ground truth", "prediction")


def overlay_mask(
    rgb: np.ndarray, mask: np.ndarray, alpha: float = 0.5, ignore_index: int | None = 255
) -> np.ndarray:
    """Blend the colour mask over the image; void pixels show the image unchanged.

    Args:
        rgb: HxWx3 uint8 RGB image.
        mask: HxW class ids of the same size.
        alpha: Weight of the mask colours (0 = image only, 1 = mask only).
        ignore_index: Value of void pixels (None: no void).

    Returns:
        HxWx3 uint8 RGB image.
    """
    if rgb.shape[:2] != mask.shape:
        raise ValueError(f"image {rgb.shape[:2]} and mask {mask.shape} differ in size")
    colors = colorize_mask(mask, ignore_index).astype(np.float32)  # H,W,3
    blend = (1 - alpha) * rgb.astype(np.float32) + alpha * colors  # H,W,3
    out = np.clip(blend + 0.5, 0, 255).astype(np.uint8)
    if ignore_index is not None:
        out[mask == ignore_index] = rgb[mask == ignore_index]
    return out


def segmentation_sample_grid(
    images: Tensor,
    masks: Tensor,
    preds: Tensor,
    ignore_index: int | None = 255,
    mean: Sequence[float] = IMAGENET_DEFAULT_MEAN,
    std: Sequence[float] = IMAGENET_DEFAULT_STD,
) -> np.ndarray:
    """One row per sample: image | ground truth | prediction, labelled on top.

    Args:
        images: Bx3xHxW images normalised with ``mean`` and ``std``.
        masks: BxHxW ground-truth class ids (``ignore_index`` = void).
        preds: BxHxW predicted class ids.
        ignore_index: Value of void pixels.
        mean: Per-channel mean the images were normalised with.
        std: Per-channel standard deviation the images were normalised with.

    Returns:
        HxWx3 uint8 RGB grid with a label band above the first row.
    """
    if not len(images) == len(masks) == len(preds) > 0:
        raise ValueError(
            f"need the same non-zero number of images ({len(images)}), masks ({len(masks)}) "
            f"and predictions ({len(preds)})"
        )
    rows = [
        np.concatenate(
            [
                denormalize_image(image, mean, std),
                colorize_mask(mask.cpu().numpy(), ignore_index),
                colorize_mask(pred.cpu().numpy(), ignore_index),
            ],
            axis=1,
        )  # H,3*W,3
        for image, mask, pred in zip(images, masks, preds, strict=True)
    ]
    grid = np.concatenate(rows, axis=0)  # B*H,3*W,3
    return labelled_columns(grid, COLUMN_LABELS, images.shape[-1])
