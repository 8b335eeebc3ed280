"""Sweep reports: merge the trials' records and the timing, rank the grid points with their
uncertainty, write results.csv (one row per seed), points.csv, ranking.json, results.md and
pareto.png."""

from __future__ import annotations

import math
import string
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from densepred.ablation.score import ScoreSettings, challenge_score
from densepred.ablation.sweep import TIME_KEYS, RankingSettings, Sweep, Trial
from densepred.ablation.timing import latest_timing
from densepred.ablation.uncertainty import PointSamples, Ranking, median_interval, rank_points
from densepred.core.benchmark import csv_table, markdown_table
from densepred.core.fileio import atomic_write_json, atomic_write_text, read_jsonl
from densepred.metrics.depth import METRIC_DIRECTIONS
from densepred.viz.plots import pareto_front, pareto_plot

RESULTS_JSONL = "results.jsonl"
# Fidelity columns of results.md, MAI challenge metrics first.
METRIC_COLUMNS = ("mai_si_rmse", "mai_rmse", "mai_log10", "mai_rel", "abs_rel", "delta1")
# Cost columns are found by prefix, since their names carry the benchmark sizes.
COST_PREFIXES = ("params_", "macs_g_", "latency_ms_")
LATENCY_PREFIX = "latency_ms_"
FIRST_CSV_COLUMNS = ("trial_id", "point_id", "label", "seed", "status", "rank", "score")
ERROR_CHARS = 160


def merge_records(
    trials: Sequence[Trial], records: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The latest record of each trial of this sweep, in trial order, with its point and seed.

    Records of trials that are not in ``trials`` (from an earlier version of the sweep) are left
    out; trials without a record (not run yet) are absent.

    Args:
        trials: The sweep's trials.
        records: Result records in the order they were written (later ones win).
    """
    latest = {r.get("trial_id"): r for r in records}
    return [
        {
            **latest[t.trial_id],
            "point_id": t.point_id or t.trial_id,
            "seed": t.seed,
            **teacher_column(t.config),
        }
        for t in trials
        if t.trial_id in latest
    ]


def teacher_column(config: dict[str, Any]) -> dict[str, str]:
    """``{"teacher": path}`` for a trial config with ``task.distill``, else ``{}``."""
    distill = (config.get("task") or {}).get("distill")
    return {"teacher": str(distill["teacher"])} if isinstance(distill, dict) else {}


def column_direction(name: str) -> Literal["min", "max"] | None:
    """Whether a lower (``min``) or higher (``max``) value of a record column is better."""
    if name in METRIC_DIRECTIONS:
        return METRIC_DIRECTIONS[name]
    if name == "score":
        return "max"
    if name.startswith(COST_PREFIXES) or name == "train_s":
        return "min"
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _values(records: Iterable[dict[str, Any]], key: str) -> list[float]:
    return [v for r in records if (v := _number(r.get(key))) is not None]


def group_points(
    trials: Sequence[Trial], records: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One entry per grid point that has a record: ``point_id``, ``label``, varied values,
    ``records`` (its seeds' records) and ``ok`` (the finished ones), in grid order."""
    points: dict[str, dict[str, Any]] = {}
    for trial in trials:
        pid = trial.point_id or trial.trial_id
        points.setdefault(
            pid,
            {
                "point_id": pid,
                "label": trial.label,
                "values": trial.values,
                "seeds": 0,
                "records": [],
            },
        )["seeds"] += 1
    for record in records:
        points[record["point_id"]]["records"].append(record)
    out = [p for p in points.values() if p["records"]]
    for point in out:
        point["ok"] = [r for r in point["records"] if r.get("status") == "ok"]
    return out


def _status(point: dict[str, Any]) -> str:
    """``ok``, ``2/3 ok``, or the status and error of a point none of whose seeds finished."""
    ok, records = len(point["ok"]), point["records"]
    if ok == len(records):
        return "ok"
    bad = next(r for r in records if r.get("status") != "ok")
    error = " ".join(str(bad.get("error", "")).split())
    if ok:
        return f"{ok}/{len(records)} ok; {bad.get('status')}: {error}"
    return f"{bad.get('status', '')}" + (f": {error}" if error else "")


def point_row(point: dict[str, Any], timing: dict[str, Any] | None) -> dict[str, Any]:
    """A point's summary: metric means and spreads over its finished seeds (over its stopped
    ones if none finished), seed counts, cost, latency medians with their intervals."""
    ok = point["ok"]
    row: dict[str, Any] = {
        "point_id": point["point_id"],
        "label": point["label"],
        **point["values"],
        "seeds_ok": len(ok),
        "seeds": len(point["records"]),
        "status": _status(point),
    }
    if any("teacher" in r for r in point["records"]):
        row["teacher"] = next(r["teacher"] for r in point["records"] if "teacher" in r)
    # a point stopped early by a scheduler shows the last metrics its seeds reported
    shown = ok or [r for r in point["records"] if r.get("status") == "stopped"]
    keys = dict.fromkeys(k for r in shown for k in r)
    for key in keys:
        values = _values(shown, key)
        if not values or key in ("seed", "wall_s") or key.startswith(LATENCY_PREFIX):
            continue
        row[key] = float(np.mean(values))
        if key in METRIC_DIRECTIONS or key in TIME_KEYS:
            row[f"{key}_sd"] = float(np.std(values, ddof=1)) if len(values) > 1 else None
    if timing is not None and point["point_id"] in timing["points"]:
        for key, rounds in timing["points"][point["point_id"]].items():
            row[key] = float(np.median(rounds))
            row[f"{key}_low"], row[f"{key}_high"] = median_interval(rounds)
    elif timing is not None and point["point_id"] in timing["errors"]:
        row["export_error"] = timing["errors"][point["point_id"]]
    return row


def _samples(
    point: dict[str, Any], timing: dict[str, Any] | None, score: ScoreSettings
) -> PointSamples | None:
    """What the ranking needs of a point, or None when it cannot be scored yet."""
    metric = _values(point["ok"], score.metric)
    if not metric:
        return None
    if score.runtime in TIME_KEYS:
        runtime = _values(point["ok"], score.runtime)
        return PointSamples(metric, runtime, paired=False) if runtime else None
    rounds = ((timing or {}).get("points") or {}).get(point["point_id"], {}).get(score.runtime)
    if not rounds or any(v <= 0 for v in rounds):
        return None
    return PointSamples(metric, rounds, paired=True)


def _group_names(count: int) -> list[str]:
    """``a, b, ..., z, aa, bb, ...``: one name per set of not separable points."""
    letters = string.ascii_lowercase
    return [letters[i % 26] * (1 + i // 26) for i in range(count)]


def rank_rows(
    rows: list[dict[str, Any]],
    samples: list[PointSamples | None],
    score: ScoreSettings,
    ranking: RankingSettings,
) -> tuple[list[dict[str, Any]], Ranking | None]:
    """Add the ranking to the scored rows; ranked rows first (best score first), then the
    unscored ones (lowest metric first), then points with no finished seed.

    Returns:
        The rows in that order, and the ranking of the scored ones (None if there are none).
    """
    scored = [i for i, s in enumerate(samples) if s is not None]
    result = None
    if scored:
        result = rank_points(
            [samples[i] for i in scored], score, ranking.resamples, ranking.level, ranking.seed
        )
        order = sorted(range(len(scored)), key=lambda k: -result.score[k])
        place = {k: i for i, k in enumerate(order)}
        # one letter per set of mutually not separable points, in the order of their best member
        sets = sorted(result.sets, key=lambda members: sorted(place[k] for k in members))
        names: dict[int, list[str]] = {k: [] for k in order}
        for name, members in zip(_group_names(len(sets)), sets, strict=True):
            for k in members:
                names[k].append(name)
        joiner = "" if len(sets) <= 26 else ","
        for k in order:
            row = rows[scored[k]]
            row["score"] = float(result.score[k])
            row["score_low"], row["score_high"] = map(float, result.score_interval[k])
            row[f"{score.metric}_low"], row[f"{score.metric}_high"] = map(
                float, result.metric_interval[k]
            )
            if score.runtime in TIME_KEYS:
                row[f"{score.runtime}_low"], row[f"{score.runtime}_high"] = map(
                    float, result.runtime_interval[k]
                )
            row["rank_low"], row["rank_high"] = map(int, result.rank_interval[k])
            row["p_best"] = float(result.p_best[k])
            row["p_front"] = float(result.p_front[k])
            row["group"] = joiner.join(names[k])
        ranked = [rows[scored[k]] for k in order]
    else:
        ranked = []
    rest = [r for i, r in enumerate(rows) if i not in scored]
    unscored = sorted(
        (r for r in rest if r["seeds_ok"]), key=lambda r: _number(r.get(score.metric)) or math.inf
    )
    failed = [r for r in rest if not r["seeds_ok"]]
    for rank, row in enumerate(ranked + unscored + failed, start=1):
        row["rank"] = rank
    return ranked + unscored + failed, result


def best_values(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> dict[str, float]:
    """Best value of each column that has a direction, over rows with at least one finished seed.

    Args:
        rows: Point rows.
        columns: Columns to look at.
    """
    best: dict[str, float] = {}
    for col in columns:
        direction = column_direction(col)
        values = _values((r for r in rows if r.get("seeds_ok")), col)
        if direction and values:
            best[col] = min(values) if direction == "min" else max(values)
    return best


def _format(column: str, value: float) -> str:
    if column == "score":
        return f"{value:.3e}"
    if column == "train_s":
        return f"{value:.0f}"
    if column.startswith(LATENCY_PREFIX):
        return f"{value:.1f}"
    if column.startswith(COST_PREFIXES):
        return f"{value:.2f}"
    return f"{value:.4f}"


def _cell(row: dict[str, Any], column: str) -> str:
    """Value with its spread (``± sd``) or interval (``[low, high]``), if the row has one."""
    value = _number(row.get(column))
    if value is None:
        return ""
    text = _format(column, value)
    low, high = _number(row.get(f"{column}_low")), _number(row.get(f"{column}_high"))
    sd = _number(row.get(f"{column}_sd"))
    if column in METRIC_DIRECTIONS and sd is not None:
        return f"{text} ± {_format(column, sd)}"
    if low is not None and high is not None:
        short = ".1e" if column == "score" else None
        lo, hi = (f"{v:{short}}" if short else _format(column, v) for v in (low, high))
        return f"{text} [{lo}, {hi}]"
    return text


def _cost_columns(rows: Sequence[dict[str, Any]], runtime: str) -> list[str]:
    keys = dict.fromkeys(k for r in rows for k in r)
    costs = [
        k for k in keys if k.startswith(COST_PREFIXES) and not k.endswith(("_low", "_high", "_sd"))
    ]
    return [*[k for k in costs if k == runtime], *[k for k in costs if k != runtime]]


def _front_ids(rows: Sequence[dict[str, Any]], score: ScoreSettings) -> set[str]:
    """Points on the front of the point estimates."""
    usable = [
        r
        for r in rows
        if _number(r.get(score.runtime)) is not None and _number(r.get(score.metric)) is not None
    ]
    points = [(float(r[score.runtime]), float(r[score.metric])) for r in usable]
    return {usable[i]["point_id"] for i in pareto_front(points)}


def markdown_report(
    rows: Sequence[dict[str, Any]],
    sweep: Sweep,
    timing: dict[str, Any] | None,
) -> str:
    """The ranked table in Markdown, with how to read it below.

    Args:
        rows: Ranked point rows (:func:`rank_rows`).
        sweep: The sweep (score, ranking and benchmark settings, axes).
        timing: The timing session the latencies come from (None: not timed yet).
    """
    score, ranking = sweep.settings.score, sweep.settings.ranking
    trial_col = " / ".join(sweep.axes) or "trial"
    others = [c for c in METRIC_COLUMNS if c != score.metric]
    costs = _cost_columns(rows, score.runtime)
    columns = [score.metric, *costs[:1], "score", *others, *costs[1:], "train_s"]
    best = best_values(rows, [score.metric, *others, *costs, "train_s", "score"])
    front = _front_ids(rows, score)
    level = f"{ranking.level:.0%}"
    table = []
    for row in rows:
        label = str(row.get("label", row["point_id"])) + (
            " (distilled)" if "teacher" in row else ""
        )
        cells: dict[str, Any] = {
            "rank": row["rank"],
            "group": row.get("group", ""),
            trial_col: label,
        }
        cells["seeds"] = f"{row['seeds_ok']}/{row['seeds']}"
        for col in columns[:3]:
            cells[col] = _bold(_cell(row, col), row, col, best)
        cells[f"rank {level}"] = (
            (
                f"{row['rank_low']}-{row['rank_high']}"
                if row.get("rank_low") != row.get("rank_high")
                else str(row["rank_low"])
            )
            if "rank_low" in row
            else ""
        )
        cells["P(best)"] = f"{row['p_best']:.2f}" if "p_best" in row else ""
        cells["P(front)"] = f"{row['p_front']:.2f}" if "p_front" in row else ""
        cells["front"] = "yes" if row["point_id"] in front else ""
        for col in columns[3:]:
            cells[col] = _bold(_cell(row, col), row, col, best)
        error = row["status"] if row["status"] == "ok" else row["status"][:ERROR_CHARS]
        if row.get("export_error"):
            error += f"; export failed: {row['export_error']}"[:ERROR_CHARS]
        cells["status"] = " ".join(error.split()).replace("|", "\\|")
        table.append(cells)
    notes = _notes(rows, sweep, timing, front_given=bool(front))
    header = (
        f"# Ablation results ({len(rows)} grid points, {sum(r['seeds'] for r in rows)} trials)\n\n"
    )
    return header + markdown_table(table) + "\n" + "\n".join(f"- {n}" for n in notes) + "\n"


def _bold(text: str, row: dict[str, Any], column: str, best: dict[str, float]) -> str:
    value = _number(row.get(column))
    return f"**{text}**" if value is not None and value == best.get(column) else text


def _notes(
    rows: Sequence[dict[str, Any]], sweep: Sweep, timing: dict[str, Any] | None, front_given: bool
) -> list[str]:
    score, ranking = sweep.settings.score, sweep.settings.ranking
    level = f"{ranking.level:.0%}"
    notes = [
        f"Ranked by score = {score.base:g}^(-{score.alpha:g} * {score.metric}) / "
        f"({score.C:g} * {score.runtime}^{score.runtime_power:g}) (UNVERIFIED challenge form, "
        f"see docs/ablation.md), from the mean of {score.metric} over the finished seeds and "
        f"the median {score.runtime}; [low, high]: its central {level} interval over "
        f"{ranking.resamples} resamples of seeds and timing rounds.",
        f"`group`: two rows that share a letter are not separable (neither ranks ahead of the "
        f"other in at least {level} of the resamples); two rows with no letter in common are in a "
        f"known order. A row may have several letters. `rank {level}`: central {level} interval of the rank; "
        "`P(best)`: share of resamples ranked first; `P(front)`: share on the Pareto front "
        f"of {score.metric} against {score.runtime}; `front`: on the front of the point "
        "estimates.",
        "Metrics: validation values, mean ± sample standard deviation over the finished seeds "
        "(`seeds`: finished / trained); a seed mean is resampled as mean + sd/sqrt(n) * t(n-1).",
    ]
    if timing is None:
        notes.append(
            "Latency: not measured yet (it is timed after all trials are trained, or with "
            "--remeasure)."
        )
    else:
        timed = timing["settings"]
        notes.append(
            f"Latency: median over {timed['rounds']} rounds [{level} bootstrap interval over "
            f"rounds] of the per-round median of {timed['repeats']} forward passes "
            f"({timed['warmup']} untimed first), batch 1, all grid points timed interleaved in "
            f"one process: {timing['runtime']}, {timing['threads']} thread(s), torch "
            f"{timing['torch']}, {timing['cpu']}, measured {timing['measured_at']}. A latency's "
            "interval includes the machine's drift from round to round; the ranking compares "
            "points round by round, which removes what the rounds share. `train` columns are at "
            "the training resolution."
        )
    if any(r.get("seeds_ok") == 1 for r in rows if "score" in r):
        notes.append(
            "A row with one finished seed has no seed spread: its intervals show timing noise only."
        )
    teachers = sorted({str(r["teacher"]) for r in rows if "teacher" in r})
    if teachers:
        notes.append(f"`(distilled)`: trained with task.distill from {', '.join(teachers)}.")
    return notes


def seed_rows(
    rows: Sequence[dict[str, Any]], records: Sequence[dict[str, Any]], score: ScoreSettings
) -> list[dict[str, Any]]:
    """One row per trial (seed), in the points' ranked order: the record, the point's rank,
    the point's latency medians and the seed's own score (its metric with that latency)."""
    by_point: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_point.setdefault(record["point_id"], []).append(record)
    out = []
    for row in rows:
        latency = {
            k: v
            for k, v in row.items()
            if k.startswith(LATENCY_PREFIX) and not k.endswith(("_low", "_high"))
        }
        for record in sorted(by_point.get(row["point_id"], []), key=lambda r: r["seed"]):
            seed = {**record, **latency, "rank": row["rank"]}
            seed["score"] = challenge_score(seed, score) if record.get("status") == "ok" else None
            out.append(seed)
    return out


def csv_columns(records: Sequence[dict[str, Any]]) -> list[str]:
    """Every key of ``records``: ids, status and score first, then first-seen order, error last."""
    keys = [
        k
        for k in dict.fromkeys(k for r in records for k in r)
        if k not in FIRST_CSV_COLUMNS and k != "error"
    ]
    return [*FIRST_CSV_COLUMNS, *keys, "error"]


def ranking_json(
    rows: Sequence[dict[str, Any]], result: Ranking | None, ids: Sequence[str], sweep: Sweep
) -> dict[str, Any]:
    """The ranking in a form two runs of a sweep can be compared by (``ranking.json``).

    Args:
        rows: Ranked point rows.
        result: The ranking of the scored points (None if none is scored).
        ids: Point ids in the ranking's index order.
        sweep: The sweep (score and ranking settings).
    """
    scored = [r for r in rows if "score" in r]
    index = {pid: k for k, pid in enumerate(ids)}
    ahead = {
        a["point_id"]: {
            b["point_id"]: float(result.p_ahead[index[a["point_id"]], index[b["point_id"]]])
            for b in scored
            if b is not a
        }
        for a in scored
        if result is not None
    }
    sets = [[ids[k] for k in members] for members in result.sets] if result is not None else []
    fields = ("point_id", "label", "rank", "group", "score", "score_low", "score_high")
    fields += ("rank_low", "rank_high", "p_best", "p_front", "seeds_ok")
    return {
        "score": sweep.settings.score.model_dump(),
        "ranking": sweep.settings.ranking.model_dump(),
        "points": [{k: r.get(k) for k in fields} for r in scored],
        "not_separable": sets,
        "p_ahead": ahead,
    }


def write_report(folder: str | Path, sweep: Sweep, trials: Sequence[Trial]) -> list[dict[str, Any]]:
    """Write the report from ``folder/results.jsonl`` and ``folder/timing.jsonl``.

    ``results.csv``: one row per trial (seed); ``points.csv``: one row per grid point;
    ``results.md``: the ranked table; ``ranking.json``: ranks, groups and pairwise
    probabilities; ``pareto.png``: metric against runtime with intervals on both axes.

    Args:
        folder: The sweep folder.
        sweep: The sweep (score, ranking and benchmark settings, axes).
        trials: Its trials (which records belong to the report).

    Returns:
        The ranked point rows.
    """
    folder = Path(folder)
    score = sweep.settings.score
    records = merge_records(trials, read_jsonl(folder / RESULTS_JSONL))
    timing = latest_timing(folder, sweep.settings.benchmark)
    points = group_points(trials, records)
    rows = [point_row(p, timing) for p in points]
    samples = [_samples(p, timing, score) for p in points]
    ids = [p["point_id"] for p, s in zip(points, samples, strict=True) if s is not None]
    rows, result = rank_rows(rows, samples, score, sweep.settings.ranking)
    per_seed = seed_rows(rows, records, score)
    atomic_write_text(folder / "results.csv", csv_table(per_seed, csv_columns(per_seed)))
    point_columns = ["point_id", "label", "rank", "group", "score", "status"]
    point_columns += [
        k for k in dict.fromkeys(k for r in rows for k in r) if k not in point_columns
    ]
    atomic_write_text(folder / "points.csv", csv_table(rows, point_columns))
    atomic_write_text(folder / "results.md", markdown_report(rows, sweep, timing))
    atomic_write_json(folder / "ranking.json", ranking_json(rows, result, ids, sweep))
    title = f"{len(rows)} grid points: {' / '.join(sweep.axes)}"
    pareto_plot(rows, x=score.runtime, y=score.metric, path=folder / "pareto.png", title=title)
    return rows
