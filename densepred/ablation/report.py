"""Sweep reports: merge result records, score and rank them, write results.csv/.md and pareto.png."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from densepred.ablation.score import ScoreSettings, challenge_score
from densepred.ablation.sweep import Sweep, Trial
from densepred.core.benchmark import csv_table, markdown_table
from densepred.core.fileio import atomic_write_text, read_jsonl
from densepred.metrics.depth import METRIC_DIRECTIONS
from densepred.viz.plots import pareto_front, pareto_plot

RESULTS_JSONL = "results.jsonl"
# Fidelity columns of results.md, MAI challenge metrics first.
METRIC_COLUMNS = ("mai_si_rmse", "mai_rmse", "mai_log10", "mai_rel", "abs_rel", "delta1")
# Cost columns are found by prefix, since their names carry the benchmark sizes.
COST_PREFIXES = ("params_", "macs_g_", "latency_ms_")
FIRST_CSV_COLUMNS = ("trial_id", "label", "status", "score")
ERROR_CHARS = 160


def merge_records(
    trials: Sequence[Trial], records: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The latest record of each trial of this sweep, in grid order.

    Records of trials that are not in ``trials`` (from an earlier version of the sweep) are left
    out; trials without a record (not run yet) are absent.

    Args:
        trials: The sweep's trials.
        records: Result records in the order they were written (later ones win).
    """
    latest = {r.get("trial_id"): r for r in records}
    return [
        {**latest[t.trial_id], **teacher_column(t.config)} for t in trials if t.trial_id in latest
    ]


def teacher_column(config: dict[str, Any]) -> dict[str, str]:
    """``{"teacher": path}`` for a trial config with ``task.distill``, else ``{}``."""
    distill = (config.get("task") or {}).get("distill")
    return {"teacher": str(distill["teacher"])} if isinstance(distill, dict) else {}


def rank_records(records: Iterable[dict[str, Any]], score: ScoreSettings) -> list[dict[str, Any]]:
    """Copies of ``records`` with ``score`` added, best score first; unscored and failed ones last.

    Args:
        records: Result records.
        score: Score settings.
    """
    scored = [{**r, "score": challenge_score(r, score)} for r in records]
    return sorted(
        scored, key=lambda r: (r.get("status") != "ok", r["score"] is None, -(r["score"] or 0.0))
    )


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


def best_values(records: Sequence[dict[str, Any]], columns: Sequence[str]) -> dict[str, float]:
    """Best value of each column that has a direction, over the finished (``ok``) records.

    Args:
        records: Result records.
        columns: Columns to look at.
    """
    best: dict[str, float] = {}
    for col in columns:
        direction = column_direction(col)
        values = [
            v for r in records if r.get("status") == "ok" and (v := _number(r.get(col))) is not None
        ]
        if direction and values:
            best[col] = min(values) if direction == "min" else max(values)
    return best


def _format(column: str, value: float) -> str:
    if column == "score":
        return f"{value:.3e}"
    if column == "train_s":
        return f"{value:.0f}"
    if column.startswith("latency_ms_"):
        return f"{value:.1f}"
    if column.startswith(COST_PREFIXES):
        return f"{value:.2f}"
    return f"{value:.4f}"


def _cost_columns(records: Sequence[dict[str, Any]]) -> list[str]:
    keys = dict.fromkeys(k for r in records for k in r)
    return [k for k in keys if k.startswith(COST_PREFIXES)]


def _front_ids(records: Sequence[dict[str, Any]], score: ScoreSettings) -> set[str]:
    rows = [
        r
        for r in records
        if _number(r.get(score.runtime)) is not None and _number(r.get(score.metric)) is not None
    ]
    points = [(float(r[score.runtime]), float(r[score.metric])) for r in rows]
    return {rows[i]["trial_id"] for i in pareto_front(points)}


def markdown_report(
    records: Sequence[dict[str, Any]], score: ScoreSettings, axes: Sequence[str]
) -> str:
    """The ranked table in Markdown, best value per column in bold, with the score formula below.

    Args:
        records: Ranked records (:func:`rank_records`).
        score: Score settings (named under the table).
        axes: The sweep's varied keys (header of the trial column).
    """
    trial_col = " / ".join(axes) or "trial"
    columns = [*METRIC_COLUMNS, *_cost_columns(records), "train_s", "score"]
    best = best_values(records, columns)
    front = _front_ids(records, score)
    rows = []
    for rank, record in enumerate(records, start=1):
        label = str(record.get("label", record.get("trial_id")))
        row: dict[str, Any] = {"rank": rank, trial_col: label + (" (distilled)" if "teacher" in record else "")}
        row["front"] = "yes" if record.get("trial_id") in front else ""
        for col in columns:
            value = _number(record.get(col))
            text = "" if value is None else _format(col, value)
            row[col] = f"**{text}**" if value is not None and value == best.get(col) else text
        error = " ".join(str(record.get("error", "")).split()).replace("|", "\\|")
        row["status"] = record.get("status", "") + (f": {error[:ERROR_CHARS]}" if error else "")
        rows.append(row)
    threads = sorted({str(r["latency_threads"]) for r in records if "latency_threads" in r})
    runtimes = sorted({str(r["latency_runtime"]) for r in records if "latency_runtime" in r})
    notes = [
        f"Ranked by score = {score.base:g}^(-{score.alpha:g} * {score.metric}) / "
        f"({score.C:g} * {score.runtime}^{score.runtime_power:g}) (UNVERIFIED challenge form, see docs/ablation.md).",
        "Best value per column in **bold**; `front`: on the Pareto front of "
        f"{score.metric} against {score.runtime}.",
        "Metrics are validation values; latency is the median CPU time in ms of one forward pass "
        f"in {', '.join(runtimes) or 'torch'} with {', '.join(threads) or '?'} thread(s); `train` "
        "columns are at the training resolution.",
    ]
    teachers = sorted({str(r["teacher"]) for r in records if "teacher" in r})
    if teachers:
        notes.append(f"`(distilled)`: trained with task.distill from {', '.join(teachers)}.")
    header = f"# Ablation results ({len(records)} trials)\n\n"
    return header + markdown_table(rows) + "\n" + "\n".join(f"- {n}" for n in notes) + "\n"


def csv_columns(records: Sequence[dict[str, Any]]) -> list[str]:
    """Every key of ``records``: ids, status and score first, then first-seen order, error last."""
    keys = [
        k
        for k in dict.fromkeys(k for r in records for k in r)
        if k not in FIRST_CSV_COLUMNS and k != "error"
    ]
    return [*FIRST_CSV_COLUMNS, *keys, "error"]


def write_report(folder: str | Path, sweep: Sweep, trials: Sequence[Trial]) -> list[dict[str, Any]]:
    """Write ``results.csv``, ``results.md`` and ``pareto.png`` from ``folder/results.jsonl``.

    Args:
        folder: The sweep folder.
        sweep: The sweep (score settings, axes).
        trials: Its trials (which records belong to the report).

    Returns:
        The ranked records.
    """
    folder = Path(folder)
    score = sweep.settings.score
    records = rank_records(merge_records(trials, read_jsonl(folder / RESULTS_JSONL)), score)
    atomic_write_text(folder / "results.csv", csv_table(records, csv_columns(records)))
    atomic_write_text(folder / "results.md", markdown_report(records, score, sweep.axes))
    title = f"{len(records)} trials: {' / '.join(sweep.axes)}"
    pareto_plot(records, x=score.runtime, y=score.metric, path=folder / "pareto.png", title=title)
    return records
