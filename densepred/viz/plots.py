"""Plots of result tables: fidelity against cost with the Pareto front and error bars."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from densepred.core.fileio import atomic_path
from densepred.viz.labels import Box, freeze_layout, label_points


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points that no other point dominates, lower being better on both axes.

    A point is dominated when another one is at least as good on both axes and better on one.

    Args:
        points: ``(x, y)`` pairs.

    Returns:
        Indices into ``points``, sorted by increasing ``x``.
    """

    def dominated(i: int) -> bool:
        xi, yi = points[i]
        return any(x <= xi and y <= yi and (x < xi or y < yi) for x, y in points)

    front = [i for i in range(len(points)) if not dominated(i)]
    return sorted(front, key=lambda i: points[i])


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _interval(row: dict[str, Any], key: str, value: float) -> tuple[float, float]:
    """Distances below and above ``value`` of the row's ``<key>_low`` / ``<key>_high`` (0 if absent)."""
    low, high = row.get(f"{key}_low"), row.get(f"{key}_high")
    if not (_finite(low) and _finite(high)):
        return 0.0, 0.0
    return max(value - float(low), 0.0), max(float(high) - value, 0.0)


def pareto_plot(
    records: Sequence[dict[str, Any]],
    x: str = "latency_ms_640x480",
    y: str = "mai_si_rmse",
    label: str = "label",
    path: str | Path | None = None,
    title: str = "",
    log_x: bool = False,
) -> Figure:
    """Scatter ``y`` against ``x`` (both lower-is-better), label each point, draw the Pareto front.

    Rows with ``<x>_low`` / ``<x>_high`` (or ``<y>_low`` / ``<y>_high``) get error bars to those
    values. Labels are placed where they cover no other label or marker
    (:func:`~densepred.viz.labels.label_points`). Records without finite ``x`` and ``y`` values
    (e.g. failed trials) are left out.

    Args:
        records: Rows with the keys ``x``, ``y`` and ``label``.
        x: Key of the horizontal axis (e.g. latency in ms).
        y: Key of the vertical axis (e.g. si-RMSE).
        label: Key of each point's text.
        path: Where to save the figure as an image (PNG by suffix); not saved if None.
        title: Figure title.
        log_x: Logarithmic horizontal axis.

    Returns:
        The figure (no pyplot state is touched).
    """
    rows = [r for r in records if _finite(r.get(x)) and _finite(r.get(y))]
    points = [(float(r[x]), float(r[y])) for r in rows]
    fig = Figure(figsize=(7.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(f"{x} (lower is better)")
    ax.set_ylabel(f"{y} (lower is better)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if points:
        xerr = np.array([_interval(r, x, p[0]) for r, p in zip(rows, points, strict=True)]).T
        yerr = np.array([_interval(r, y, p[1]) for r, p in zip(rows, points, strict=True)]).T
        bars = ax.errorbar(
            [p[0] for p in points],
            [p[1] for p in points],
            xerr=xerr if xerr.any() else None,
            yerr=yerr if yerr.any() else None,
            fmt="o",
            color="tab:blue",
            ecolor="tab:blue",
            elinewidth=1.0,
            capsize=2.5,
            alpha=0.9,
            zorder=3,
        )
        front = pareto_front(points)
        ax.plot(
            [points[i][0] for i in front],
            [points[i][1] for i in front],
            color="tab:red",
            drawstyle="steps-post",
            label="Pareto front",
            zorder=2,
        )
        ax.scatter(
            [points[i][0] for i in front],
            [points[i][1] for i in front],
            s=80,
            facecolors="none",
            edgecolors="tab:red",
            zorder=4,
        )
        ax.margins(x=0.15, y=0.12)  # room for the labels of the outermost points
        ax.legend(loc="best")
        freeze_layout(fig)  # the error bars' pixels are final from here on
        bar_boxes = [b for line in bars.lines[2] for b in _segment_boxes(ax, line.get_segments())]
        label_points(ax, points, [str(r.get(label, "")) for r in rows], bar_boxes)
    else:
        ax.text(0.5, 0.5, "no finished trial", ha="center", va="center", transform=ax.transAxes)
    if path is not None:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=120, format=Path(path).suffix.lstrip(".") or "png")
    return fig


def _segment_boxes(ax: Axes, segments: Sequence[np.ndarray]) -> list[Box]:
    """Display boxes (2 px thick) around error-bar segments given in data coordinates."""
    boxes = []
    for segment in segments:
        (x0, y0), (x1, y1) = ax.transData.transform(np.asarray(segment))
        boxes.append((min(x0, x1) - 1, min(y0, y1) - 1, max(x0, x1) + 1, max(y0, y1) + 1))
    return boxes
