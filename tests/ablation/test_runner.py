"""Running sweeps locally: outputs, failed trials, resume after Ctrl-C, parallel workers."""

from __future__ import annotations

import csv
import json
import math
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from lightning.pytorch.callbacks import Callback

from densepred.ablation import runner as runner_module
from densepred.ablation import trial as trial_module
from densepred.ablation.runner import (
    assign_devices,
    pending_trials,
    remeasure,
    run_sweep,
    visible_gpus,
)
from densepred.ablation.sweep import Trial, expand_grid, load_sweep
from densepred.app.train import run_training
from densepred.cli.main import main
from densepred.core.fileio import read_jsonl

MAI_AND_STANDARD = ("mai_si_rmse", "mai_rmse", "mai_log10", "mai_rel", "abs_rel", "delta1")


def _trial(name: str) -> Trial:
    return Trial(trial_id=name, values={}, overrides=[], config={})


def test_pending_skips_finished_and_optionally_retries_failed() -> None:
    trials = [_trial(n) for n in ("a", "b", "c", "d")]
    records = [
        {"trial_id": "a", "status": "ok"},
        {"trial_id": "b", "status": "failed"},
        {"trial_id": "c", "status": "failed"},
        {"trial_id": "c", "status": "ok"},
    ]
    assert [t.trial_id for t in pending_trials(trials, records)] == ["d"]
    assert [t.trial_id for t in pending_trials(trials, records, retry_failed=True)] == ["b", "d"]


def test_devices_round_robin_only_over_several_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    assert assign_devices(3, []) == [None, None, None]
    assert assign_devices(2, ["0"]) == [None, None]
    assert assign_devices(3, ["2", "5"]) == ["2", "5", "2"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3, 5")
    assert visible_gpus() == ["3", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert visible_gpus() == []


@pytest.fixture
def keep_sigint() -> Iterator[None]:
    """Lightning ignores SIGINT after it handled a Ctrl-C; give pytest its handler back."""
    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)


def test_sweep_records_a_broken_trial_and_completes_the_others(
    tiny_sweep: Callable[..., Path],
) -> None:
    sweep = load_sweep(tiny_sweep(["mobilenet_v3_small", "no_such_net", "mobilenet_v2"]))
    folder = Path(sweep.settings.output_dir)
    ranked = run_sweep(sweep, log=lambda _: None)

    records = {r["model.encoder"]: r for r in read_jsonl(folder / "results.jsonl")}
    rows = {r["model.encoder"]: r for r in ranked}
    broken = records["no_such_net"]
    assert broken["status"] == "failed" and "Unknown encoder 'no_such_net'" in broken["error"]
    assert "Unknown encoder" in (Path(broken["run_dir"]) / "error.txt").read_text()
    assert ranked[-1] is rows["no_such_net"] and "score" not in ranked[-1]
    for name in ("mobilenet_v3_small", "mobilenet_v2"):
        record, row = records[name], rows[name]
        assert record["status"] == "ok" and record["error"] == "" and record["seed"] == 0
        assert all(math.isfinite(record[key]) for key in MAI_AND_STANDARD)
        for key in ("mai_si_rmse", "score", "latency_ms_64x48", "latency_ms_train", "macs_g_64x48"):
            assert math.isfinite(row[key]) and row[key] > 0, key
        assert (
            row["latency_ms_64x48_low"] <= row["latency_ms_64x48"] <= row["latency_ms_64x48_high"]
        )
        assert record["train_size"] == "48x32" and "latency_ms_64x48" not in record
        assert record["params_m"] > 0.1 and record["train_s"] > 0
        run = Path(record["run_dir"])
        assert run.parent == folder / "trials"
        assert (run / "config.yaml").is_file() and Path(
            record["checkpoint"]
        ).parent == run / "checkpoints"
        assert Path(record["checkpoint"]).is_file()
        assert (
            json.loads((run / "metrics.json").read_text())["val"]["val/mai_si_rmse"]
            == record["mai_si_rmse"]
        )
    assert records["mobilenet_v3_small"]["params_m"] < records["mobilenet_v2"]["params_m"]
    (timing,) = read_jsonl(folder / "timing.jsonl")
    assert timing["threads"] == 1 and timing["runtime"] == "torch" and len(timing["points"]) == 2

    with open(folder / "results.csv", newline="") as fh:
        assert [r["model.encoder"] for r in csv.DictReader(fh)] == [
            r["model.encoder"] for r in ranked
        ]
    table = (folder / "results.md").read_text()
    assert "no_such_net" in table and "failed: ConfigError" in table and "**" in table
    assert "1 thread(s)" in table
    assert (folder / "pareto.png").stat().st_size > 1000


def test_interrupted_sweep_resumes_without_retraining(
    tiny_sweep: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, keep_sigint: None
) -> None:
    sweep = load_sweep(
        tiny_sweep(["mobilenet_v3_small", "mobilenet_v2", "mobilenet_v3_small_minimal"])
    )
    first, second, third = expand_grid(sweep)
    folder = Path(sweep.settings.output_dir)
    trained: list[str] = []

    class CtrlC(Callback):
        def on_train_batch_end(self, *args: Any) -> None:
            raise KeyboardInterrupt

    def train(config, run_dir, interrupt_at: str | None = None):
        trained.append(config.name)
        return run_training(
            config, run_dir=run_dir, callbacks=[CtrlC()] if config.name == interrupt_at else None
        )

    monkeypatch.setattr(
        trial_module,
        "run_training",
        lambda c, run_dir, callbacks=None: train(c, run_dir, second.trial_id),
    )
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, log=lambda _: None)
    assert trained == [first.trial_id, second.trial_id]
    assert [r["trial_id"] for r in read_jsonl(folder / "results.jsonl")] == [first.trial_id]
    assert "(1 grid points, 1 trials)" in (folder / "results.md").read_text()  # finished ones
    checkpoint = Path(read_jsonl(folder / "results.jsonl")[0]["checkpoint"])
    stamp = checkpoint.stat().st_mtime_ns

    trained.clear()
    monkeypatch.setattr(
        trial_module, "run_training", lambda c, run_dir, callbacks=None: train(c, run_dir)
    )
    ranked = run_sweep(
        load_sweep(tiny_sweep(["mobilenet_v3_small", "mobilenet_v2", "mobilenet_v3_small_minimal"]))
    )
    assert trained == [second.trial_id, third.trial_id]
    assert checkpoint.stat().st_mtime_ns == stamp
    assert sorted(r["point_id"] for r in ranked) == sorted(
        t.point_id for t in (first, second, third)
    )
    assert all(r["status"] == "ok" and "score" in r for r in ranked)
    assert sorted(p.name for p in (folder / "trials").iterdir()) == sorted(
        t.trial_id for t in (first, second, third)
    )

    trained.clear()
    assert len(run_sweep(sweep, log=lambda _: None)) == 3 and trained == []


def test_remeasure_times_finished_points_again_without_training(
    tiny_sweep: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    sweep = load_sweep(tiny_sweep(["mobilenet_v3_small", "no_such_net"]))
    folder = Path(sweep.settings.output_dir)
    trained = next(r for r in run_sweep(sweep, log=lambda _: None) if r["seeds_ok"])
    (first,) = read_jsonl(folder / "timing.jsonl")  # the sweep timed its finished point
    assert list(first["points"]) == [trained["point_id"]]
    assert len(first["points"][trained["point_id"]]["latency_ms_64x48"]) == 2  # rounds

    def no_training(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("remeasure must not train")

    def fake_timing(configs, bench, log):
        return {
            **first,
            "measured_at": "later",
            "points": {
                p: {"latency_ms_64x48": [1234.5] * 2, "latency_ms_train": [1.0] * 2}
                for p in configs
            },
        }

    monkeypatch.setattr(trial_module, "run_training", no_training)
    monkeypatch.setattr(runner_module, "time_points", fake_timing)
    rows = remeasure(sweep, log=lambda _: None)
    assert [r["status"].split(":")[0] for r in rows] == ["ok", "failed"]
    assert rows[0]["latency_ms_64x48"] == 1234.5
    assert rows[0]["mai_si_rmse"] == trained["mai_si_rmse"]  # the trained results are kept
    assert len(read_jsonl(folder / "results.jsonl")) == 2  # no trial record was added
    assert len(read_jsonl(folder / "timing.jsonl")) == 2
    assert "1234.5" in (folder / "results.md").read_text()
    assert "measured later" in (folder / "results.md").read_text()


def _fake_trial(log: list[str], stop_at: str | None = None) -> Callable[..., dict[str, Any]]:
    """A trial that trains nothing: a record whose metric depends on the encoder and seed."""

    def run(trial: Trial, run_dir: Path, bench: Any, callbacks: Any = None) -> dict[str, Any]:
        if trial.trial_id == stop_at:
            raise KeyboardInterrupt
        log.append(trial.trial_id)
        record = trial_module.trial_fields(trial)
        return {**record, "status": "ok", "error": "", "mai_si_rmse": 0.3 + 0.01 * trial.seed}

    return run


def _fake_timing(configs: dict[str, Any], bench: Any, log: Any) -> dict[str, Any]:
    """Every point timed at 50 ms with small noise from a fixed generator."""
    rng = np.random.default_rng(0)
    return {
        "measured_at": "now",
        "settings": bench.model_dump(mode="json"),
        "runtime": "torch",
        "threads": 1,
        "torch": "x",
        "cpu": "x",
        "errors": {},
        "points": {
            p: {"latency_ms_64x48": list(50 * rng.lognormal(0, 0.02, bench.rounds))}
            for p in configs
        },
    }


def test_seeds_are_trials_that_resume_one_by_one(
    tiny_sweep: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 28: with seeds, each (point, seed) is its own trial: an interrupted sweep keeps the
    finished seeds and the rerun trains only the missing ones; timing waits for the last trial."""
    path = tiny_sweep(["mobilenet_v3_small", "mobilenet_v2"], seeds=[0, 1])
    sweep = load_sweep(path)
    trials = expand_grid(sweep)
    folder = Path(sweep.settings.output_dir)
    ran: list[str] = []
    timed: list[int] = []

    def timing(configs, bench, log):
        timed.append(len(configs))
        return _fake_timing(configs, bench, log)

    monkeypatch.setattr(runner_module, "time_points", timing)
    monkeypatch.setattr(runner_module, "run_trial", _fake_trial(ran, stop_at=trials[3].trial_id))
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, log=lambda _: None)
    assert ran == [t.trial_id for t in trials[:3]] and timed == []
    assert "not measured yet" in (folder / "results.md").read_text()

    ran.clear()
    monkeypatch.setattr(runner_module, "run_trial", _fake_trial(ran))
    rows = run_sweep(load_sweep(path), log=lambda _: None)
    assert ran == [trials[3].trial_id] and timed == [2]
    assert [(r["seeds_ok"], r["seeds"]) for r in rows] == [(2, 2), (2, 2)]
    assert rows[0]["mai_si_rmse"] == pytest.approx(0.305)
    assert rows[0]["mai_si_rmse_sd"] == pytest.approx(0.01 / np.sqrt(2))
    with open(folder / "results.csv", newline="") as fh:
        assert sorted((r["model.encoder"], r["seed"]) for r in csv.DictReader(fh)) == [
            (e, s) for e in ("mobilenet_v2", "mobilenet_v3_small") for s in ("0", "1")
        ]
    ran.clear()
    run_sweep(load_sweep(path), log=lambda _: None)
    assert ran == [] and timed == [2]  # nothing to train, the timing still covers every point


def test_two_identical_configs_are_reported_not_separable(
    tiny_sweep: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 28: the same config twice (only the run name differs), trained for real, two seeds,
    timed as equals: the report puts both in one group."""
    path = tiny_sweep(
        ["mobilenet_v3_small"], seeds=[0, 1], extra_grid={"name": ["twin_a", "twin_b"]}
    )
    monkeypatch.setattr(runner_module, "time_points", _fake_timing)
    rows = run_sweep(load_sweep(path), log=lambda _: None)
    assert [r["seeds_ok"] for r in rows] == [2, 2]
    assert rows[0]["group"] == rows[1]["group"]
    assert 0.2 < rows[0]["p_best"] < 0.8
    text = (Path(load_sweep(path).settings.output_dir) / "results.md").read_text()
    assert text.count("| a | mobilenet_v3_small / twin_") == 2


@pytest.mark.slow  # spawns worker processes (about a minute); the in-process sweep tests above stay fast
def test_cli_runs_trials_in_parallel_workers(
    tiny_sweep: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tiny_sweep(["mobilenet_v3_small", "no_such_net"])
    out = path.parent / "parallel"
    assert main(["ablate", str(path), "--jobs", "2", "--out", str(out)]) == 0
    records = read_jsonl(out / "results.jsonl")
    assert sorted(r["status"] for r in records) == ["failed", "ok"]
    assert "2 trials, 0 already finished, 2 to run" in capsys.readouterr().err
    assert main(["ablate", str(path), "--out", str(out)]) == 0
    assert "2 already finished, 0 to run" in capsys.readouterr().err


def test_cli_reports_sweep_errors(
    tiny_sweep: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ablate", str(tiny_sweep(["resnet18"])), "benchmark.repets=3"]) == 2
    assert "'repeats'" in capsys.readouterr().err
    assert main(["ablate", str(tiny_sweep(["resnet18"])), "--jobs", "0"]) == 2


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--address", "auto"], "--address is an option of --launcher ray; add --launcher ray"),
        (
            ["--cpus-per-trial", "2", "--scheduler", "asha"],
            "--cpus-per-trial, --scheduler are options of --launcher ray",
        ),
        (["--launcher", "ray", "--jobs", "2"], "--jobs is for --launcher local"),
    ],
)
def test_flags_of_the_other_launcher_are_refused(
    tiny_sweep: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    message: str,
) -> None:
    """Nothing runs: the error names the flag and the launcher it belongs to (exit 2)."""
    path = tiny_sweep(["resnet18"])
    assert main(["ablate", str(path), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (path.parent / "sweep").exists()  # the sweep folder is not even created


def test_report_is_rewritten_as_each_trial_ends(tiny_sweep: Callable[..., Path]) -> None:
    """Issue 15: results.csv / results.md / pareto.png follow the sweep trial by trial, not only
    at its end (trials with an unknown encoder finish at once)."""
    sweep = load_sweep(tiny_sweep(["no_such_net_a", "no_such_net_b"]))
    folder = Path(sweep.settings.output_dir)
    seen: list[tuple[str, ...]] = []

    def log(line: str) -> None:
        if line.startswith("[1/"):
            with open(folder / "results.csv", newline="") as fh:
                seen.append(tuple(r["model.encoder"] for r in csv.DictReader(fh)))
            assert "(1 grid points, 1 trials)" in (folder / "results.md").read_text()
            assert (folder / "pareto.png").is_file()

    run_sweep(sweep, log=log)
    assert seen == [("no_such_net_a",)]


def test_torn_result_line_costs_one_rerun_not_every_rerun(
    tiny_sweep: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12, case 4: a record torn by a crash is repaired on open, so the trial it lost is
    run once more and then stays finished (trials with an unknown encoder finish at once)."""
    sweep = load_sweep(tiny_sweep(["no_such_net_a", "no_such_net_b"]))
    folder = Path(sweep.settings.output_dir)
    run_sweep(sweep, log=lambda _: None)
    results = folder / "results.jsonl"
    data = results.read_bytes()
    results.write_bytes(data[: data.rindex(b"\n", 0, -1) + 20])  # killed while writing line 2
    ran: list[str] = []
    real = runner_module.run_trial

    def counted(trial: Trial, *args: Any) -> dict[str, Any]:
        ran.append(trial.trial_id)
        return real(trial, *args)

    monkeypatch.setattr(runner_module, "run_trial", counted)
    with pytest.warns(RuntimeWarning, match="line 2 is torn"):
        run_sweep(sweep, log=lambda _: None)
    second = expand_grid(sweep)[1].trial_id
    assert ran == [second]
    ran.clear()
    run_sweep(sweep, log=lambda _: None)
    assert ran == []
    assert [r["trial_id"] for r in read_jsonl(results)] == [t.trial_id for t in expand_grid(sweep)]
