"""Plots of result tables: fidelity against cost with the Pareto front."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from densepred.core.fileio import atomic_path


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

    Records without finite ``x`` and ``y`` values (e.g. failed trials) are left out.

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
    if points:
        ax.scatter([p[0] for p in points], [p[1] for p in points], color="tab:blue", zorder=3)
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
        for (px, py), row in zip(points, rows, strict=True):
            ax.annotate(
                str(row.get(label, "")),
                (px, py),
                textcoords="offset points",
                xytext=(5, 5),
                fontsize=8,
            )
        ax.margins(x=0.12, y=0.08)  # room for the labels of the outermost points
        ax.legend(loc="best")
    else:
        ax.text(0.5, 0.5, "no finished trial", ha="center", va="center", transform=ax.transAxes)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(f"{x} (lower is better)")
    ax.set_ylabel(f"{y} (lower is better)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if path is not None:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=120, format=Path(path).suffix.lstrip(".") or "png")
    return fig
