"""Merging, ranking and writing sweep results (no training involved)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from densepred.ablation.report import (
    RESULTS_JSONL,
    column_direction,
    merge_records,
    write_report,
)
from densepred.ablation.sweep import BenchmarkSettings, Sweep, SweepConfig, Trial
from densepred.ablation.timing import record_timing
from densepred.core.fileio import append_jsonl

BENCH = BenchmarkSettings()


def _trial(name: str, seed: int = 0) -> Trial:
    return Trial(
        trial_id=f"encoder-{name}__seed-{seed}__0000",
        values={"model.encoder": name},
        overrides=[],
        config={},
        point_id=f"encoder-{name}__0000",
        seed=seed,
    )


def _ok(name: str, seed: int, si: float, **extra: float) -> dict:
    return {
        "trial_id": f"encoder-{name}__seed-{seed}__0000",
        "label": name,
        "model.encoder": name,
        "seed": seed,
        "status": "ok",
        "error": "",
        "mai_si_rmse": si,
        "mai_rmse": 2 * si,
        "delta1": 1 - si,
        "params_m": 1.0,
        "train_s": 10.0 + seed,
        **extra,
    }


def _failed(name: str, seed: int, error: str) -> dict:
    return {
        "trial_id": f"encoder-{name}__seed-{seed}__0000",
        "label": name,
        "seed": seed,
        "status": "failed",
        "error": error,
    }


def _timing(latencies: dict[str, float], rounds: int = 12, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    drift = rng.lognormal(0.0, 0.1, rounds)  # the whole machine slower in some rounds
    return {
        "measured_at": "2026-12-07T00:00:00+00:00",
        "settings": BENCH.model_dump(mode="json"),
        "runtime": "torch",
        "threads": 2,
        "torch": "x",
        "cpu": "test",
        "points": {
            f"encoder-{n}__0000": {
                "latency_ms_640x480": list(v * drift * rng.lognormal(0.0, 0.01, rounds)),
                "latency_ms_train": list(v / 10 * drift),
            }
            for n, v in latencies.items()
        },
        "errors": {},
    }


def _sweep(tmp_path: Path, names: list[str], seeds: list[int]) -> Sweep:
    return Sweep(
        settings=SweepConfig(base="base.yaml", grid={"model.encoder": names}, seeds=seeds),
        base_path=tmp_path / "base.yaml",
        source="sweep.yaml",
    )


def _table(text: str) -> dict[str, dict[str, str]]:
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    cells = [[c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))] for line in lines]
    header, rows = cells[0], cells[1:]
    return {row[header.index("model.encoder")]: dict(zip(header, row, strict=True)) for row in rows}


def test_merge_keeps_latest_record_of_current_trials_in_trial_order() -> None:
    trials = [_trial("a"), _trial("b")]
    records = [
        _failed("b", 0, "first attempt"),
        _ok("a", 0, 0.3),
        {"trial_id": "from-an-older-sweep", "status": "ok"},
        _ok("b", 0, 0.2),  # the retry wins
    ]
    merged = merge_records(trials, records)
    assert [r["label"] for r in merged] == ["a", "b"]
    assert merged[1]["status"] == "ok" and merged[1]["point_id"] == "encoder-b__0000"


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


def _write(tmp_path: Path, records: list[dict], timing: dict | None) -> None:
    for record in records:
        append_jsonl(tmp_path / RESULTS_JSONL, record)
    if timing is not None:
        record_timing(tmp_path, timing)


def test_report_gives_seed_means_spreads_intervals_and_groups(tmp_path: Path) -> None:
    names = ["fast", "slow", "twin_a", "twin_b", "bad"]
    seeds = [0, 1, 2]
    trials = [_trial(n, s) for s in seeds for n in names]
    si = {"fast": [0.30, 0.302, 0.298], "slow": [0.30, 0.301, 0.299], "twin_a": [0.36, 0.37, 0.35]}
    si["twin_b"] = si["twin_a"]  # the same config trained twice
    records = [_ok(n, s, si[n][s]) for s in seeds for n in si]
    records += [_failed("bad", s, "Unknown encoder 'x|y'.\nHint") for s in seeds]
    _write(
        tmp_path, records, _timing({"fast": 50.0, "slow": 100.0, "twin_a": 70.0, "twin_b": 70.0})
    )
    rows = write_report(tmp_path, _sweep(tmp_path, names, seeds), trials)

    assert [r["label"] for r in rows][:2] == ["fast", "slow"]
    assert {r["label"] for r in rows[2:4]} == {"twin_a", "twin_b"}
    by_label = {r["label"]: r for r in rows}
    assert by_label["twin_a"]["group"] == by_label["twin_b"]["group"]  # not separable
    assert len({by_label[n]["group"] for n in ("fast", "twin_a", "slow")}) == 3
    assert by_label["fast"]["p_best"] > 0.95 and by_label["fast"]["rank_high"] == 1
    assert rows[-1]["label"] == "bad" and "score" not in rows[-1]
    assert by_label["fast"]["mai_si_rmse"] == pytest.approx(0.30)
    assert by_label["fast"]["mai_si_rmse_sd"] == pytest.approx(0.002)
    assert by_label["fast"]["seeds_ok"] == 3
    low, high = (
        by_label["fast"]["latency_ms_640x480_low"],
        by_label["fast"]["latency_ms_640x480_high"],
    )
    assert low < by_label["fast"]["latency_ms_640x480"] < high

    table = _table((tmp_path / "results.md").read_text())
    assert table["fast"]["rank"] == "1" and table["fast"]["seeds"] == "3/3"
    assert table["fast"]["mai_si_rmse"] == "**0.3000 ± 0.0020**"  # best mean in bold
    assert table["twin_a"]["mai_si_rmse"] == "0.3600 ± 0.0100"
    assert table["fast"]["latency_ms_640x480"].count("[") == 1
    assert table["twin_a"]["group"] == table["twin_b"]["group"] != table["fast"]["group"]
    assert table["bad"]["status"].startswith("failed: Unknown encoder 'x\\|y'. Hint")
    text = (tmp_path / "results.md").read_text()
    assert "UNVERIFIED" in text and "not separable" in text and "interleaved" in text
    assert "torch, 2 thread(s)" in text

    with open(tmp_path / "results.csv", newline="") as fh:
        seed_rows = list(csv.DictReader(fh))
    assert len(seed_rows) == 15  # one row per trial (seed), failed ones too
    assert list(seed_rows[0])[:7] == [
        "trial_id",
        "point_id",
        "label",
        "seed",
        "status",
        "rank",
        "score",
    ]
    assert [r["seed"] for r in seed_rows[:3]] == ["0", "1", "2"] and seed_rows[0]["label"] == "fast"
    assert float(seed_rows[0]["latency_ms_640x480"]) == pytest.approx(
        by_label["fast"]["latency_ms_640x480"]
    )
    with open(tmp_path / "points.csv", newline="") as fh:
        assert [r["label"] for r in csv.DictReader(fh)] == [r["label"] for r in rows]
    ranking = json.loads((tmp_path / "ranking.json").read_text())
    assert sorted(map(sorted, ranking["not_separable"])) == sorted(
        [
            ["encoder-fast__0000"],
            ["encoder-slow__0000"],
            ["encoder-twin_a__0000", "encoder-twin_b__0000"],
        ]
    )
    assert ranking["p_ahead"]["encoder-fast__0000"]["encoder-slow__0000"] > 0.95
    assert (tmp_path / "pareto.png").stat().st_size > 1000


def test_before_timing_the_report_has_metrics_and_says_latency_comes_later(tmp_path: Path) -> None:
    trials = [_trial("a"), _trial("b")]
    _write(tmp_path, [_ok("a", 0, 0.3), _ok("b", 0, 0.2)], None)
    rows = write_report(tmp_path, _sweep(tmp_path, ["a", "b"], [0]), trials)
    assert [r["label"] for r in rows] == ["b", "a"]  # unscored: lowest metric first
    assert all("score" not in r for r in rows)
    assert "not measured yet" in (tmp_path / "results.md").read_text()


def test_a_timing_with_other_settings_is_not_used(tmp_path: Path) -> None:
    trials = [_trial("a")]
    other = {**_timing({"a": 50.0}), "settings": {**BENCH.model_dump(mode="json"), "rounds": 3}}
    _write(tmp_path, [_ok("a", 0, 0.3)], other)
    (row,) = write_report(tmp_path, _sweep(tmp_path, ["a"], [0]), trials)
    assert "score" not in row and "latency_ms_640x480" not in row
    record_timing(tmp_path, _timing({"a": 50.0}))
    (row,) = write_report(tmp_path, _sweep(tmp_path, ["a"], [0]), trials)
    assert row["score"] > 0 and row["p_best"] == 1.0


def test_partly_failed_points_are_ranked_on_their_finished_seeds(tmp_path: Path) -> None:
    trials = [_trial(n, s) for s in (0, 1) for n in ("a", "b")]
    records = [_ok("a", 0, 0.3), _ok("a", 1, 0.31), _ok("b", 0, 0.3), _failed("b", 1, "NaN loss")]
    _write(tmp_path, records, _timing({"a": 50.0, "b": 50.0}))
    rows = write_report(tmp_path, _sweep(tmp_path, ["a", "b"], [0, 1]), trials)
    b = next(r for r in rows if r["label"] == "b")
    assert b["seeds_ok"] == 1 and b["status"].startswith("1/2 ok; failed: NaN loss")
    assert "score" in b
    assert "one finished seed" in (tmp_path / "results.md").read_text()


def test_distilled_points_carry_their_teacher_and_are_marked(tmp_path: Path) -> None:
    distilled = Trial(
        trial_id="encoder-a__seed-0__0000",
        values={"model.encoder": "a"},
        overrides=[],
        config={"task": {"name": "depth", "distill": {"teacher": "t/best.ckpt"}}},
        point_id="encoder-a__0000",
    )
    merged = merge_records([distilled, _trial("b")], [_ok("a", 0, 0.3), _ok("b", 0, 0.2)])
    assert merged[0]["teacher"] == "t/best.ckpt" and "teacher" not in merged[1]
    _write(tmp_path, [_ok("a", 0, 0.3), _ok("b", 0, 0.2)], _timing({"a": 5.0, "b": 5.0}))
    write_report(tmp_path, _sweep(tmp_path, ["a", "b"], [0]), [distilled, _trial("b")])
    text = (tmp_path / "results.md").read_text()
    assert "| a (distilled) |" in text and "| b |" in text
    assert "task.distill from t/best.ckpt" in text


def test_a_point_stopped_early_shows_its_last_metrics_unscored(tmp_path: Path) -> None:
    trials = [_trial("a"), _trial("b")]
    stopped = {**_ok("b", 0, 0.25), "status": "stopped", "error": "stopped early at epoch 1 (ASHA)"}
    _write(tmp_path, [_ok("a", 0, 0.3), stopped], _timing({"a": 50.0}))
    rows = write_report(tmp_path, _sweep(tmp_path, ["a", "b"], [0]), trials)
    assert [r["label"] for r in rows] == ["a", "b"]
    assert rows[1]["mai_si_rmse"] == 0.25 and "score" not in rows[1] and rows[1]["seeds_ok"] == 0
    assert rows[1]["status"] == "stopped: stopped early at epoch 1 (ASHA)"
