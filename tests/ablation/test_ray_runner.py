"""The ray launcher (issue 15): records as trials end, rerun without retraining, ASHA stops."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from densepred.ablation.ray_runner import RayRunner, stopped_record
from densepred.ablation.runner import pending_trials, run_sweep
from densepred.ablation.sweep import BenchmarkSettings, expand_grid, load_sweep
from densepred.core.errors import ConfigError
from densepred.core.fileio import read_jsonl

# Later trials learn less per epoch: with trials run one at a time, ASHA sees a worse value
# at the first rung than the one before it and stops it.
LRS = [0.003, 0.001, 1e-7]


@pytest.fixture
def lr_sweep(tmp_path: Path, make_tiny: Callable[..., list[str]]) -> Callable[[int], Path]:
    """Write a sweep of three trials (learning rates) of ``epochs`` epochs of 3 steps on tiny data."""
    return lambda epochs: _write_sweep(tmp_path, make_tiny, epochs)


def _write_sweep(tmp_path: Path, make_tiny: Callable[..., list[str]], epochs: int) -> Path:
    content = {
        "base": str(Path(__file__).resolve().parents[2] / "configs" / "depth_mbv3_unet.yaml"),
        "base_overrides": [
            *make_tiny(tmp_path, max_steps=-1),
            f"trainer.max_epochs={epochs}",
            "trainer.limit_val_batches=1",
        ],
        "grid": {"task.optimizer.lr": LRS},
        "benchmark": {"sizes": [[48, 64]], "threads": 1, "warmup": 0, "repeats": 1},
        "score": {"runtime": "latency_ms_64x48"},
        "output_dir": str(tmp_path / "sweep"),
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def test_without_ray_the_launcher_names_the_extra(
    lr_sweep: Callable[[int], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as if not installed
    sweep = load_sweep(lr_sweep(1))
    with pytest.raises(ConfigError, match=r'pip install -e "\.\[ray\]"'):
        run_sweep(sweep, launcher="ray", log=lambda _: None)
    assert not Path(sweep.settings.output_dir).exists()  # no empty report, no sweep folder


def test_stopped_record_keeps_the_last_metrics(
    lr_sweep: Callable[[int], Path], tmp_path: Path
) -> None:
    trial = expand_grid(load_sweep(lr_sweep(1)))[0]
    result = {"mai_si_rmse": 0.25, "epoch": 1, "time_this_iter_s": 3.0, "training_iteration": 1}
    record = stopped_record(trial, result, tmp_path / "run")
    assert record["status"] == "stopped" and record["error"].startswith("stopped early at epoch 1")
    assert record["mai_si_rmse"] == 0.25 and "time_this_iter_s" not in record


def test_failed_ray_trial_is_recorded_with_its_error(
    lr_sweep: Callable[[int], Path], tmp_path: Path
) -> None:
    """A trial whose Ray worker failed (no record of its own) gets a failed record naming Ray's
    error; ``--retry-failed`` runs it again."""
    sweep = load_sweep(lr_sweep(1))
    trial = expand_grid(sweep)[0]
    folder = tmp_path / "out"
    folder.mkdir()
    runner = RayRunner(
        folder=folder, bench=sweep.settings.benchmark, sweep=sweep, log=lambda _: None
    )
    runner.collect(trial, {"mai_si_rmse": 0.3, "epoch": 1}, "RayActorError: the actor died")
    (record,) = read_jsonl(folder / "results.jsonl")
    assert record["status"] == "failed" and record["error"] == "RayActorError: the actor died"
    assert record["trial_id"] == trial.trial_id and record["run_dir"] == str(runner.run_dir(trial))
    assert "failed: RayActorError" in (folder / "results.md").read_text()
    assert [t.trial_id for t in pending_trials([trial], [record], retry_failed=True)] == [
        trial.trial_id
    ]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.tune")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def keep_sigint() -> Iterator[None]:
    """Give pytest its SIGINT handler back."""
    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)


class Interrupt:
    """A log that presses Ctrl-C (SIGINT to this process, which Ray Tune catches) when the first
    trial's record is written."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        if line.startswith("[1/"):
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.slow
def test_ray_sweep_interrupted_then_rerun_finishes_without_retraining(
    local_ray: None, lr_sweep: Callable[[int], Path], keep_sigint: None
) -> None:
    sweep = load_sweep(lr_sweep(1))
    folder = Path(sweep.settings.output_dir)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, launcher="ray", cpus_per_trial=1, log=Interrupt())
    first = read_jsonl(folder / "results.jsonl")
    assert len(first) == 1 and first[0]["status"] == "ok"
    assert (folder / "results.md").is_file()

    lines: list[str] = []
    ranked = run_sweep(sweep, launcher="ray", cpus_per_trial=1, log=lines.append)
    assert "3 trials, 1 already finished, 2 to run" in lines[0]
    records = read_jsonl(folder / "results.jsonl")
    assert len(records) == 3 and len({r["trial_id"] for r in records}) == 3
    assert records[0] == first[0]  # the first trial was not trained again
    assert [r["status"] for r in ranked] == ["ok"] * 3
    for name in ("results.csv", "results.md", "pareto.png"):
        assert (folder / name).is_file()
    assert all(Path(r["run_dir"], "metrics.json").is_file() for r in records)


@pytest.mark.slow
def test_asha_stops_a_trial_early_and_rerun_keeps_it(
    local_ray: None, lr_sweep: Callable[[int], Path], tmp_path: Path
) -> None:
    sweep = load_sweep(lr_sweep(2))
    options = {"cpus_per_trial": 2, "scheduler": "asha", "grace_period": 1, "reduction_factor": 2}
    trials_dir = tmp_path / "shared" / "trials"
    run_sweep(sweep, launcher="ray", trials_dir=trials_dir, log=lambda _: None, **options)
    records = read_jsonl(Path(sweep.settings.output_dir) / "results.jsonl")
    stopped = [r for r in records if r["status"] == "stopped"]
    assert stopped, records
    for record in stopped:  # ASHA's rungs are at epochs 1, 2, 4, ...: it may stop at 1 or 2
        match = re.match(r"stopped early at epoch (\d+) \(ASHA\)", record["error"])
        assert match and 1 <= int(match[1]) == record["epochs"] <= 2, record
    assert all(isinstance(r.get("mai_si_rmse"), float) for r in records)
    assert all(Path(r["run_dir"]).parent == trials_dir.resolve() for r in records)

    lines: list[str] = []
    run_sweep(sweep, launcher="ray", retry_failed=True, log=lines.append, **options)
    assert "0 to run" in lines[0]


def test_ray_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="--scheduler"):
        RayRunner(
            scheduler="hyperband",
            folder=Path("x"),
            bench=BenchmarkSettings(),
            sweep=None,  # type: ignore[arg-type]
        )


def test_tune_can_save_the_driver_callback_with_any_log(tmp_path: Path) -> None:
    """Tune pickles its run config (tuner.pkl); a log that cannot be pickled (the CLI's print
    once Ray has redirected it) must not fail the sweep."""
    pytest.importorskip("ray.tune")
    from ray import cloudpickle

    from densepred.ablation.ray_runner import _make_collect

    class LockedLog:
        def __init__(self) -> None:
            self.lock = threading.Lock()

        def __call__(self, line: str) -> None:
            pass

    runner = RayRunner(folder=tmp_path, bench=BenchmarkSettings(), sweep=None, log=LockedLog())  # type: ignore[arg-type]
    cloudpickle.dumps(_make_collect()(runner, {}))


def test_address_auto_without_a_cluster_is_one_line(
    lr_sweep: Callable[[int], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Issue 24, unclear case: the README's '--launcher ray --address auto' with no cluster was
    Ray's ConnectionError traceback; now one line saying how to start one, before any file."""
    from densepred.cli.main import main

    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path / "ray"))  # no cluster another test started
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    path = lr_sweep(1)
    assert main(["ablate", str(path), "--launcher", "ray", "--address", "auto"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --address auto: no Ray cluster to connect to")
    assert "'ray start --head'" in err and err.count("\n") == 1
    assert not (tmp_path / "sweep").exists()
