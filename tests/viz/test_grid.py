"""Shared pieces of the sample grids: cell zoom, labels and the label band."""

from __future__ import annotations

import numpy as np

from densepred.viz.grid import HEADER_HEIGHT, MIN_CELL_WIDTH, cell_zoom, labelled_columns, put_label


def test_cell_zoom_reaches_the_minimum_width() -> None:
    assert cell_zoom(MIN_CELL_WIDTH) == 1 and cell_zoom(1000) == 1
    assert cell_zoom(32) * 32 >= MIN_CELL_WIDTH > (cell_zoom(32) - 1) * 32


def test_put_label_writes_white_text_inside_its_cell() -> None:
    band = np.zeros((HEADER_HEIGHT, 300, 3), dtype=np.uint8)
    put_label(band, "a rather long column label", 100, 60)
    columns = np.flatnonzero(band.max(axis=(0, 2)))
    assert band.any() and (band[..., 0] == band[..., 2]).all()  # white (anti-aliased)
    assert columns.min() >= 100 and columns.max() < 160


def test_labelled_columns_enlarges_and_adds_the_band() -> None:
    grid = np.full((10, 3 * 40, 3), 7, dtype=np.uint8)
    out = labelled_columns(grid, ["a", "b", "c"], 40)
    zoom = cell_zoom(40)
    assert out.shape == (HEADER_HEIGHT + 10 * zoom, 3 * 40 * zoom, 3)
    # white anti-aliased labels: their brightest pixel is 255 with OpenCV 4.12, 245 with 4.9
    assert (out[HEADER_HEIGHT:] == 7).all() and out[:HEADER_HEIGHT].max() >= 240
