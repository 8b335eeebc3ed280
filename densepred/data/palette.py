"""Class colours of segmentation masks: the Pascal VOC palette (data files and pictures share it)."""

from __future__ import annotations

import numpy as np

VOID_COLOR = (224, 224, 192)  # Pascal VOC's colour of its void label (255)


def class_palette(num_colors: int = 256) -> np.ndarray:
    """The Pascal VOC colour map: class ``i`` -> a distinct RGB colour (class 0 is black).

    Args:
        num_colors: Number of colours (classes).

    Returns:
        ``num_colors`` x 3 uint8 array.
    """
    ids = np.arange(num_colors)
    palette = np.zeros((num_colors, 3), dtype=np.uint8)
    for bit in range(8):  # spread the bits of each id over the three channels, high bits first
        for channel in range(3):
            bits = (ids >> (3 * bit + channel)) & 1
            palette[:, channel] |= (bits << (7 - bit)).astype(np.uint8)
    return palette


def mask_colors(ignore_index: int | None = 255) -> np.ndarray:
    """The 256 x 3 uint8 colours :func:`colorize_mask` draws class ids 0..255 in: the palette,
    with :data:`VOID_COLOR` for ``ignore_index``."""
    palette = class_palette(256)
    if ignore_index is not None and 0 <= ignore_index < 256:
        palette[ignore_index] = VOID_COLOR
    return palette


def colorize_mask(mask: np.ndarray, ignore_index: int | None = 255) -> np.ndarray:
    """Colour a class-id mask with :func:`class_palette`; void pixels get :data:`VOID_COLOR`.

    Args:
        mask: HxW integer class ids.
        ignore_index: Value of void pixels (None: no void).

    Returns:
        HxWx3 uint8 RGB image.
    """
    mask = np.asarray(mask)
    rgb = class_palette(256)[mask.astype(np.int64) % 256]  # H,W,3
    if ignore_index is not None:
        rgb[mask == ignore_index] = VOID_COLOR
    return rgb
