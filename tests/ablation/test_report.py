"""Merging, ranking and writing sweep results (no training involved)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from densepred.ablation.report import (
    RESULTS_JSONL,
    column_direction,
    markdown_report,
    merge_records,
    rank_records,
    write_report,
)
from densepred.ablation.score import ScoreSettings
from densepred.ablation.sweep import Sweep, SweepConfig, Trial
from densepred.core.fileio import append_jsonl


def _trial(name: str) -> Trial:
    return Trial(
        trial_id=f"encoder-{name}__0000", values={"model.encoder": name}, overrides=[], config={}
    )


def _ok(name: str, si: float, latency: float, delta1: float, **extra: float) -> dict:
    return {
        "trial_id": f"encoder-{name}__0000",
        "label": name,
        "model.encoder": name,
        "status": "ok",
        "error": "",
        "mai_si_rmse": si,
        "mai_rmse": 2 * si,
        "delta1": delta1,
        "params_m": latency / 10,
        "latency_ms_640x480": latency,
        "latency_ms_train": latency / 10,
        "latency_threads": 2,
        **extra,
    }


def _failed(name: str, error: str) -> dict:
    return {"trial_id": f"encoder-{name}__0000", "label": name, "status": "failed", "error": error}


TRIALS = [_trial(n) for n in ("a", "b", "c", "bad")]


def test_merge_keeps_latest_record_of_current_trials_in_grid_order() -> None:
    records = [
        _failed("b", "first attempt"),
        _ok("a", 0.3, 10.0, 0.5),
        {"trial_id": "from-an-older-sweep", "status": "ok"},
        _ok("b", 0.2, 20.0, 0.6),  # the retry wins
    ]
    merged = merge_records(TRIALS, records)
    assert [r["label"] for r in merged] == ["a", "b"]  # c and bad have not run yet
    assert merged[1]["status"] == "ok"


def test_rank_by_score_then_unscored_then_failed() -> None:
    records = [
        _failed("bad", "boom"),
        _ok("slow", 0.10, 100.0, 0.9),  # 2^-2 / 100 = 0.0025
        {**_ok("nolat", 0.1, 1.0, 0.9), "latency_ms_640x480": None},
        _ok("fast", 0.20, 10.0, 0.5),  # 2^-4 / 10 = 0.00625
    ]
    ranked = rank_records(records, ScoreSettings())
    assert [r["label"] for r in ranked] == ["fast", "slow", "nolat", "bad"]
    assert ranked[0]["score"] == pytest.approx(2**-4 / 10)
    assert ranked[2]["score"] is None and ranked[3]["score"] is None
    assert "score" not in records[1]  # inputs are not modified


@pytest.mark.parametrize(
    "column, direction",
    [
        ("mai_si_rmse", "min"),
        ("abs_rel", "min"),
        ("delta1", "max"),
        ("score", "max"),
        ("latency_ms_640x480", "min"),
        ("macs_g_train", "min"),
        ("params_m", "min"),
        ("train_s", "min"),
        ("label", None),
    ],
)
def test_column_directions(column: str, direction: str | None) -> None:
    assert column_direction(column) == direction


def test_markdown_marks_best_per_column_and_shows_errors() -> None:
    records = rank_records(
        [
            _ok("fast", 0.20, 10.0, 0.5),
            _ok("accurate", 0.10, 100.0, 0.9),
            _failed("bad", "Unknown encoder 'x|y'.\nHint"),
        ],
        ScoreSettings(),
    )
    text = markdown_report(records, ScoreSettings(), ["model.encoder"])
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {
        r[1]: r for r in ([c.strip() for c in line.strip("|").split("|")] for line in lines[1:])
    }
    col = header.index
    assert header[:3] == ["rank", "model.encoder", "front"]
    assert rows["fast"][col("mai_si_rmse")] == "0.2000"
    assert rows["accurate"][col("mai_si_rmse")] == "**0.1000**"  # lower is better
    assert rows["accurate"][col("delta1")] == "**0.9000**"  # higher is better
    assert rows["fast"][col("latency_ms_640x480")] == "**10.0**"
    assert rows["fast"][col("score")].startswith("**6.25")  # best score, ranked first
    assert rows["fast"][col("rank")] == "1" and rows["bad"][col("rank")] == "3"
    assert rows["fast"][col("front")] == rows["accurate"][col("front")] == "yes"
    assert "failed: Unknown encoder 'x\\|y'. Hint" in lines[-1]
    assert "UNVERIFIED" in text and "2^(-20 * mai_si_rmse) / (1 * latency_ms_640x480^1)" in text


def test_write_report_writes_csv_md_and_plot(tmp_path: Path) -> None:
    for record in (
        _ok("a", 0.3, 10.0, 0.5, train_s=12.0),
        _failed("bad", "boom"),
        _ok("b", 0.2, 20.0, 0.7),
    ):
        append_jsonl(tmp_path / RESULTS_JSONL, record)
    sweep = Sweep(
        settings=SweepConfig(base="base.yaml", grid={"model.encoder": ["a", "b", "c", "bad"]}),
        base_path=tmp_path / "base.yaml",
        source="sweep.yaml",
    )
    ranked = write_report(tmp_path, sweep, TRIALS)
    assert [r["label"] for r in ranked] == ["b", "a", "bad"]
    with open(tmp_path / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["label"] for r in rows] == ["b", "a", "bad"]
    assert (
        list(rows[0])[:4] == ["trial_id", "label", "status", "score"]
        and list(rows[0])[-1] == "error"
    )
    assert float(rows[0]["score"]) == pytest.approx(2**-4 / 20.0)
    assert rows[2]["error"] == "boom" and rows[2]["score"] == ""
    assert "# Ablation results (3 trials)" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "pareto.png").stat().st_size > 1000


def test_distilled_trials_carry_their_teacher_and_are_marked() -> None:
    distilled = Trial(
        trial_id="encoder-a__0000",
        values={"model.encoder": "a"},
        overrides=[],
        config={"task": {"name": "depth", "distill": {"teacher": "t/best.ckpt"}}},
    )
    merged = merge_records([distilled, TRIALS[1]], [_ok("a", 0.3, 10.0, 0.5), _ok("b", 0.2, 20.0, 0.6)])
    assert merged[0]["teacher"] == "t/best.ckpt" and "teacher" not in merged[1]
    text = markdown_report(rank_records(merged, ScoreSettings()), ScoreSettings(), ["model.encoder"])
    assert "| a (distilled) |" in text and "| b |" in text
    assert "task.distill from t/best.ckpt" in text
