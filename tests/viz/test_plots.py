"""Pareto front and the fidelity-against-cost plot."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.image as mpimg
from matplotlib.text import Text

from densepred.viz.plots import pareto_front, pareto_plot


def test_front_keeps_only_undominated_points() -> None:
    points = [(10.0, 0.5), (20.0, 0.3), (15.0, 0.6), (30.0, 0.3), (5.0, 0.9), (40.0, 0.1)]
    # (15, 0.6) is beaten by (10, 0.5); (30, 0.3) by (20, 0.3) (same y, faster).
    assert pareto_front(points) == [4, 0, 1, 5]


def test_front_of_ties_and_single_points() -> None:
    assert pareto_front([]) == []
    assert pareto_front([(1.0, 1.0)]) == [0]
    assert pareto_front([(1.0, 1.0), (1.0, 1.0)]) == [0, 1]


def test_plot_labels_every_point_and_draws_the_front(tmp_path: Path) -> None:
    records = [
        {"label": "fast", "latency_ms_640x480": 10.0, "mai_si_rmse": 0.5},
        {"label": "good", "latency_ms_640x480": 40.0, "mai_si_rmse": 0.2},
        {"label": "dominated", "latency_ms_640x480": 50.0, "mai_si_rmse": 0.6},
        {"label": "failed", "status": "failed"},
        {"label": "nan", "latency_ms_640x480": 5.0, "mai_si_rmse": math.nan},
    ]
    path = tmp_path / "sub" / "pareto.png"
    fig = pareto_plot(records, path=path, title="t")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["fast", "good", "dominated"]
    (front,) = [line for line in ax.get_lines() if line.get_label() == "Pareto front"]
    assert list(front.get_xdata()) == [10.0, 40.0]
    assert list(front.get_ydata()) == [0.5, 0.2]
    assert "latency_ms_640x480" in ax.get_xlabel() and "mai_si_rmse" in ax.get_ylabel()
    image = mpimg.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert [p.name for p in path.parent.iterdir()] == ["pareto.png"]  # no temporary file left


def test_plot_with_no_finished_point_still_writes(tmp_path: Path) -> None:
    fig = pareto_plot([{"label": "x", "status": "failed"}], path=tmp_path / "p.png")
    assert (tmp_path / "p.png").is_file()
    assert "no finished trial" in [t.get_text() for t in fig.axes[0].texts]


def test_any_columns_can_be_plotted() -> None:
    x, y = "macs_g_train", "abs_rel"
    records = [{"label": "a", x: 1.0, y: 0.2}, {"label": "b", x: 2.0, y: 0.1}]
    ax = pareto_plot(records, x=x, y=y, log_x=True).axes[0]
    assert ax.get_xscale() == "log" and len(ax.texts) == 2


def _crowded(count: int = 8) -> list[dict[str, float | str]]:
    """Rows whose points and intervals overlap, as nearly equal encoders do."""
    return [
        {
            "label": f"encoder_{i}_long_name",
            "latency_ms_640x480": 50.0 + 0.4 * i,
            "latency_ms_640x480_low": 49.0 + 0.4 * i,
            "latency_ms_640x480_high": 51.5 + 0.4 * i,
            "mai_si_rmse": 0.30 + 0.0015 * (i % 3),
            "mai_si_rmse_low": 0.29 + 0.0015 * (i % 3),
            "mai_si_rmse_high": 0.31 + 0.0015 * (i % 3),
        }
        for i in range(count)
    ]


def test_error_bars_in_both_axes_come_from_the_low_and_high_columns() -> None:
    rows = _crowded(2)
    ax = pareto_plot(rows).axes[0]
    segments = [s for c in ax.collections for s in getattr(c, "get_segments", list)()]
    horizontal = sorted(
        (round(s[0][0], 3), round(s[1][0], 3)) for s in segments if s[0][1] == s[1][1]
    )
    vertical = sorted(
        (round(s[0][1], 4), round(s[1][1], 4)) for s in segments if s[0][0] == s[1][0]
    )
    assert horizontal == [(49.0, 51.5), (49.4, 51.9)]
    assert vertical == [(0.29, 0.31), (0.2915, 0.3115)]


def test_labels_of_crowded_points_do_not_overlap(tmp_path: Path) -> None:
    fig = pareto_plot(_crowded(), path=tmp_path / "p.png")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    boxes = [Text.get_window_extent(t, renderer) for t in ax.texts]  # the text, not its leader line
    assert len(boxes) == 8
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)
    markers = ax.transData.transform(
        [(r["latency_ms_640x480"], r["mai_si_rmse"]) for r in _crowded()]
    )
    for box in boxes:
        assert not any(box.contains(x, y) for x, y in markers)  # no label covers a point
