"""Interleaved timing of grid points: rounds, shuffled order, sessions in timing.jsonl."""

from __future__ import annotations

from pathlib import Path

import pytest

from densepred.ablation.sweep import BenchmarkSettings
from densepred.ablation.timing import covers, latest_timing, record_timing
from densepred.core.benchmark import time_interleaved


def test_rounds_time_every_callable_in_a_shuffled_order() -> None:
    order: list[str] = []
    runs = {name: (lambda name=name: order.append(name)) for name in "abcd"}
    rounds = time_interleaved(runs, warmup=1, repeats=2, rounds=5, seed=3)
    assert set(rounds) == set("abcd") and all(len(v) == 5 for v in rounds.values())
    assert all(v > 0 for values in rounds.values() for v in values)
    assert len(order) == 4 * 5 * 3  # (warmup + repeats) calls per callable and round
    firsts = [order[i * 12] for i in range(5)]  # who opened each round
    assert len(set(firsts)) > 1  # the order changes from round to round
    for r in range(5):  # a callable's calls of one round are consecutive
        block = order[r * 12 : (r + 1) * 12]
        assert all(block[k] == block[k - k % 3] for k in range(12))
    with pytest.raises(ValueError, match="rounds"):
        time_interleaved(runs, rounds=0)


def test_the_report_uses_the_latest_session_with_the_same_settings(tmp_path: Path) -> None:
    bench = BenchmarkSettings()
    assert (
        latest_timing(tmp_path, bench) is None and covers(None, set()) and not covers(None, {"a"})
    )
    same = bench.model_dump(mode="json")
    record_timing(tmp_path, {"settings": same, "points": {"a": {}}, "errors": {}, "n": 1})
    record_timing(tmp_path, {"settings": same, "points": {"a": {}}, "errors": {"b": "x"}, "n": 2})
    other = {**same, "runtime": "onnxruntime"}
    record_timing(tmp_path, {"settings": other, "points": {}, "errors": {}, "n": 3})
    timing = latest_timing(tmp_path, bench)
    assert timing is not None and timing["n"] == 2
    assert covers(timing, {"a", "b"}) and not covers(timing, {"a", "c"})
    assert latest_timing(tmp_path, BenchmarkSettings(runtime="onnxruntime"))["n"] == 3
