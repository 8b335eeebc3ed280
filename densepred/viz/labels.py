"""Point labels that do not collide: each label takes the free spot nearest its point.

:func:`place_boxes` works on plain boxes (display pixels), so it is testable without a figure;
:func:`label_points` applies it to a Matplotlib axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.text import Annotation

Box = tuple[float, float, float, float]  # x0, y0, x1, y1
# Directions tried around a point, nearest-looking first: upper right, then around.
DIRECTIONS = ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1))
OUTSIDE_WEIGHT = 10.0  # leaving the axes costs more than covering another label
DISTANCE_WEIGHT = 0.01  # per pixel: among equally free spots, the nearest wins
LEADER_PIXELS = 14.0  # a label farther than this from its point gets a line to it


def overlap(a: Box, b: Box) -> float:
    """Area shared by two boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(width, 0.0) * max(height, 0.0)


def _outside(box: Box, bounds: Box) -> float:
    area = (box[2] - box[0]) * (box[3] - box[1])
    return area - overlap(box, bounds)


def _candidate(
    anchor: Sequence[float], size: Sequence[float], direction: tuple[int, int], gap: float
) -> Box:
    """The box of a label ``gap`` pixels from ``anchor`` in ``direction``."""
    (ax, ay), (w, h), (dx, dy) = anchor, size, direction
    x0 = ax + gap if dx > 0 else ax - gap - w if dx < 0 else ax - w / 2
    y0 = ay + gap if dy > 0 else ay - gap - h if dy < 0 else ay - h / 2
    return (x0, y0, x0 + w, y0 + h)


def place_boxes(
    anchors: Sequence[Sequence[float]],
    sizes: Sequence[Sequence[float]],
    obstacles: Sequence[Box] = (),
    bounds: Box | None = None,
    gap: float = 4.0,
    rings: int = 8,
) -> list[Box]:
    """A box per label, near its anchor, overlapping other labels and obstacles as little as it can.

    Labels are placed one after the other, the most crowded anchors first; each tries 8
    directions at growing distances (``gap``, then steps of its own height) and takes the spot
    with the least overlap with the labels placed so far and the obstacles (and the least area
    outside ``bounds``), the nearest among equals.

    Args:
        anchors: ``(x, y)`` of each labelled point (pixels).
        sizes: ``(width, height)`` of each label (pixels).
        obstacles: Boxes no label should cover (the markers, error bars).
        bounds: The box labels should stay inside (the axes).
        gap: Distance of the first ring from the anchor.
        rings: Distances tried.

    Returns:
        Each label's box ``(x0, y0, x1, y1)``, in the input order.
    """
    points = np.asarray(anchors, dtype=float).reshape(-1, 2)
    gaps = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    order = np.argsort(gaps.min(axis=1), kind="stable") if len(points) > 1 else range(len(points))
    placed: dict[int, Box] = {}
    for i in order:
        width, height = sizes[i]
        best: tuple[float, Box] | None = None
        for ring in range(rings):
            distance = gap + ring * height
            for direction in DIRECTIONS:
                box = _candidate(points[i], (width, height), direction, distance)
                cost = sum(overlap(box, other) for other in placed.values())
                cost += sum(overlap(box, other) for other in obstacles)
                if bounds is not None:
                    cost += OUTSIDE_WEIGHT * _outside(box, bounds)
                cost += DISTANCE_WEIGHT * distance
                if best is None or cost < best[0]:
                    best = (cost, box)
        assert best is not None
        placed[i] = best[1]
    return [placed[i] for i in range(len(points))]


def freeze_layout(fig: Figure) -> RendererAgg:
    """Draw ``fig`` once so its layout is applied, then keep that layout (display pixels stay
    valid for later placement); returns the renderer for text sizes."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    if fig.get_layout_engine() is not None:
        canvas.draw()
        fig.set_layout_engine("none")
    return canvas.get_renderer()


def label_points(
    ax: Axes,
    xy: Sequence[tuple[float, float]],
    texts: Sequence[str],
    obstacles: Sequence[Box] = (),
    fontsize: float = 8.0,
) -> list[Annotation]:
    """Label data points of ``ax`` without overlaps; a line joins a label moved away to its point.

    Freezes the figure's layout first (:func:`freeze_layout`: the positions are display pixels).

    Args:
        ax: The axes, with its limits final.
        xy: Data coordinates of the points.
        texts: One label per point.
        obstacles: Display boxes labels should not cover, besides the points' markers (taken
            after :func:`freeze_layout`).
        fontsize: Label font size.
    """
    fig = ax.get_figure()
    renderer = freeze_layout(fig)
    anchors = ax.transData.transform(np.asarray(xy, dtype=float).reshape(-1, 2))
    sizes = []
    for text in texts:
        probe = ax.text(0.0, 0.0, text, fontsize=fontsize)
        extent = probe.get_window_extent(renderer)
        sizes.append((extent.width, extent.height))
        probe.remove()
    markers = [(x - 4.0, y - 4.0, x + 4.0, y + 4.0) for x, y in anchors]
    boxes = place_boxes(anchors, sizes, [*markers, *obstacles], tuple(ax.bbox.extents))
    scale = 72.0 / fig.dpi  # pixels -> points
    notes = []
    for text, (x, y), box, anchor in zip(texts, xy, boxes, anchors, strict=True):
        far = _distance(box, anchor) > LEADER_PIXELS
        notes.append(
            ax.annotate(
                text,
                (x, y),
                xytext=((box[0] - anchor[0]) * scale, (box[1] - anchor[1]) * scale),
                textcoords="offset points",
                ha="left",
                va="bottom",
                fontsize=fontsize,
                arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.6} if far else None,
            )
        )
    return notes


def _distance(box: Box, point: Sequence[float]) -> float:
    """Distance in pixels from ``point`` to the nearest point of ``box``."""
    dx = max(box[0] - point[0], 0.0, point[0] - box[2])
    dy = max(box[1] - point[1], 0.0, point[1] - box[3])
    return float(np.hypot(dx, dy))
