"""Running sweeps locally: outputs, failed trials, resume after Ctrl-C, parallel workers."""

from __future__ import annotations

import csv
import json
import math
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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

    by_encoder = {r["model.encoder"]: r for r in ranked}
    broken = by_encoder["no_such_net"]
    assert broken["status"] == "failed" and "Unknown encoder 'no_such_net'" in broken["error"]
    assert "Unknown encoder" in (Path(broken["run_dir"]) / "error.txt").read_text()
    assert ranked[-1] is broken
    for name in ("mobilenet_v3_small", "mobilenet_v2"):
        record = by_encoder[name]
        assert record["status"] == "ok" and record["error"] == ""
        assert all(math.isfinite(record[key]) for key in MAI_AND_STANDARD)
        for key in ("mai_si_rmse", "score", "latency_ms_64x48", "latency_ms_train", "macs_g_64x48"):
            assert math.isfinite(record[key]) and record[key] > 0, key
        assert record["train_size"] == "48x32" and record["latency_threads"] == 1
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
    assert by_encoder["mobilenet_v3_small"]["params_m"] < by_encoder["mobilenet_v2"]["params_m"]

    with open(folder / "results.csv", newline="") as fh:
        assert [r["model.encoder"] for r in csv.DictReader(fh)] == [
            r["model.encoder"] for r in ranked
        ]
    table = (folder / "results.md").read_text()
    assert "no_such_net" in table and "failed: ConfigError" in table and "**" in table
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
    assert "(1 trials)" in (folder / "results.md").read_text()  # the report covers finished trials
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
    assert sorted(r["trial_id"] for r in ranked) == sorted(
        t.trial_id for t in (first, second, third)
    )
    assert all(r["status"] == "ok" for r in ranked)
    assert sorted(p.name for p in (folder / "trials").iterdir()) == sorted(
        t.trial_id for t in (first, second, third)
    )

    trained.clear()
    assert len(run_sweep(sweep, log=lambda _: None)) == 3 and trained == []


def test_remeasure_times_finished_trials_again_without_training(
    tiny_sweep: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    sweep = load_sweep(tiny_sweep(["mobilenet_v3_small", "no_such_net"]))
    (trained,) = [r for r in run_sweep(sweep, log=lambda _: None) if r["status"] == "ok"]

    def no_training(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("remeasure must not train")

    monkeypatch.setattr(trial_module, "run_training", no_training)
    monkeypatch.setattr(
        runner_module,
        "measure_model",
        lambda config, bench: {"latency_ms_64x48": 1234.5, "measured_at": "later"},
    )
    ranked = remeasure(sweep, log=lambda _: None)
    assert [r["status"] for r in ranked] == ["ok", "failed"]
    assert ranked[0]["latency_ms_64x48"] == 1234.5 and ranked[0]["measured_at"] == "later"
    assert ranked[0]["mai_si_rmse"] == trained["mai_si_rmse"]  # the trained results are kept
    assert len(read_jsonl(Path(sweep.settings.output_dir) / "results.jsonl")) == 3
    assert "1234.5" in (Path(sweep.settings.output_dir) / "results.md").read_text()


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
            assert "(1 trials)" in (folder / "results.md").read_text()
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
