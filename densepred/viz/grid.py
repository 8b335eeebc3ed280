"""Pieces of the labelled sample grids of every task: cell enlargement and the label band."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

MIN_CELL_WIDTH = 160  # small images are enlarged (nearest) so labels stay readable
HEADER_HEIGHT = 20  # black band above the first row holding the column labels


def cell_zoom(width: int) -> int:
    """The integer zoom that makes a cell ``width`` pixels wide at least :data:`MIN_CELL_WIDTH` wide."""
    return max(1, -(-MIN_CELL_WIDTH // width))


def put_label(band: np.ndarray, text: str, left: int, width: int) -> None:
    """Write ``text`` in white into a label band, in place.

    The font scales with the band's height and shrinks until the text fits ``width``.

    Args:
        band: HxWx3 uint8 RGB strip, e.g. the header above a grid's first row.
        text: The label.
        left: First column of the label's cell in ``band``.
        width: Width of that cell in pixels.
    """
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = band.shape[0] / 40.0
    text_w = cv2.getTextSize(text, font, scale, 1)[0][0]
    scale *= min(1.0, (width - 4) / text_w)
    text_h = cv2.getTextSize(text, font, scale, 1)[0][1]
    origin = (left + 2, (band.shape[0] + text_h) // 2)
    cv2.putText(band, text, origin, font, scale, (255, 255, 255), 1, cv2.LINE_AA)


def labelled_columns(grid: np.ndarray, labels: Sequence[str], cell_width: int) -> np.ndarray:
    """Enlarge a grid of equal columns (see :func:`cell_zoom`) and label each column on top.

    Args:
        grid: HxWx3 uint8 RGB grid whose columns are ``cell_width`` pixels wide.
        labels: One label per column, left to right.
        cell_width: Width of one column before enlarging.

    Returns:
        The enlarged grid (nearest neighbour) with a :data:`HEADER_HEIGHT` label band above it.
    """
    zoom = cell_zoom(cell_width)
    grid = cv2.resize(grid, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    header = np.zeros((HEADER_HEIGHT, grid.shape[1], 3), dtype=np.uint8)  # h,W,3
    for k, label in enumerate(labels):
        put_label(header, label, k * cell_width * zoom, cell_width * zoom)
    return np.concatenate([header, grid], axis=0)  # h+H,W,3
