"""Execution of a sweep by a launcher (``LAUNCHERS``: local processes or a Ray cluster),
resumable and Ctrl-C safe.

Each finished trial's record is appended (and fsynced) to ``results.jsonl`` by this process, the
only writer, as soon as the trial ends (a line torn by a crash is repaired when the sweep starts); a rerun skips every trial that already has a record
(failed ones too, unless ``retry_failed``; trials stopped early by a scheduler always). An
interrupted trial has no record, so a rerun trains it again from scratch in a clean run folder.
When no trial is left to train, the grid points are timed together
(:mod:`~densepred.ablation.timing`), unless a timing with the same settings already covers them.
The report is rewritten as each trial ends and after every run, including an interrupted one.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import torch

from densepred.ablation.launcher import Log, Runner, prepare_data
from densepred.ablation.report import RESULTS_JSONL, merge_records, write_report
from densepred.ablation.sweep import Sweep, Trial, expand_grid
from densepred.ablation.timing import covers, latest_timing, record_timing, time_points
from densepred.ablation.trial import run_trial
from densepred.app.config import config_from_dict
from densepred.config.run import Config
from densepred.core.errors import ConfigError, DensepredError
from densepred.core.fileio import atomic_write_text, ensure_folder, read_jsonl, repair_jsonl
from densepred.core.registry import Registry

logger = logging.getLogger(__name__)


def pending_trials(
    trials: Sequence[Trial], records: Sequence[dict[str, Any]], retry_failed: bool = False
) -> list[Trial]:
    """Trials without a record; with ``retry_failed`` also those whose latest record failed
    (never those a scheduler stopped early: they were judged hopeless, not broken).

    Args:
        trials: The sweep's trials.
        records: Records read from ``results.jsonl``.
        retry_failed: Run failed trials again.
    """
    latest = {r.get("trial_id"): r.get("status") for r in records}
    return [
        t
        for t in trials
        if t.trial_id not in latest or (retry_failed and latest[t.trial_id] == "failed")
    ]


def visible_gpus() -> list[str]:
    """CUDA device ids this process may use (``CUDA_VISIBLE_DEVICES`` if set)."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip()]
    return [str(i) for i in range(torch.cuda.device_count())]


def assign_devices(jobs: int, gpus: Sequence[str]) -> list[str | None]:
    """``CUDA_VISIBLE_DEVICES`` of each worker: round-robin over several GPUs, else unchanged (None).

    Args:
        jobs: Number of worker processes.
        gpus: Visible GPU ids.
    """
    if len(gpus) < 2:
        return [None] * jobs
    return [gpus[i % len(gpus)] for i in range(jobs)]


def _init_worker(devices: Any, threads: int) -> None:
    """Worker start-up: take one device from the queue, share the CPU cores with the other workers."""
    device = devices.get()
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = device
    torch.set_num_threads(threads)


class LocalRunner(Runner):
    """Runs the pending trials of a sweep in this machine's processes.

    Args:
        jobs: Parallel worker processes (1: in this process).
        **kwargs: See :class:`Runner`.
    """

    def __init__(self, *, jobs: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if jobs < 1:
            raise DensepredError(f"--jobs must be at least 1, got {jobs}.")
        self.jobs = jobs

    def check_engine(self) -> None:
        """Local processes need nothing beyond this package."""

    def run(self, trials: Sequence[Trial]) -> None:
        """Run ``trials``, appending each record as soon as its trial ends."""
        self.done, self.total = 0, len(trials)
        jobs = min(self.jobs, len(trials))
        if jobs <= 1:
            for trial in trials:
                self.log(f"training {trial.trial_id}")
                self._record(run_trial(trial, self._fresh_run_dir(trial), self.bench))
        else:
            self._run_parallel(trials, jobs)

    def _run_parallel(self, trials: Sequence[Trial], jobs: int) -> None:
        prepare_data(trials)
        ctx = mp.get_context("spawn")
        devices = ctx.Queue()
        for device in assign_devices(jobs, visible_gpus()):
            devices.put(device)
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with ProcessPoolExecutor(
            jobs, mp_context=ctx, initializer=_init_worker, initargs=(devices, threads)
        ) as pool:
            futures = [
                pool.submit(run_trial, t, self._fresh_run_dir(t), self.bench) for t in trials
            ]
            recorded: set[Future[dict[str, Any]]] = set()
            try:
                for future in as_completed(futures):
                    self._record(future.result())
                    recorded.add(future)
            except KeyboardInterrupt:
                self.log("interrupted: waiting for running trials to stop (Ctrl-C again to abort)")
                self._drain(futures, recorded)
                raise
            except BrokenProcessPool as exc:
                raise DensepredError(
                    f"a worker process died ({exc}); finished trials are kept in "
                    f"{self.folder / RESULTS_JSONL}. Run the same command again to continue."
                ) from None

    def _drain(
        self, futures: Sequence[Future[dict[str, Any]]], recorded: set[Future[dict[str, Any]]]
    ) -> None:
        """Cancel trials not started; record those that still finish."""
        for future in futures:
            future.cancel()
        for future in as_completed(futures):
            if future not in recorded and not future.cancelled() and future.exception() is None:
                self._record(future.result())


def _ray_runner(**kwargs: Any) -> Runner:
    """The Ray launcher, imported only when chosen (Ray is an optional extra)."""
    from densepred.ablation.ray_runner import RayRunner

    return RayRunner(**kwargs)


LAUNCHERS: Registry[Callable[..., Runner]] = Registry("launcher")
LAUNCHERS.add("local", LocalRunner)
LAUNCHERS.add("ray", _ray_runner)


def make_runner(name: str, options: dict[str, Any], **kwargs: Any) -> Runner:
    """The launcher ``name`` with its own ``options`` (e.g. ``jobs`` or ``address``).

    Raises:
        ConfigError: An unknown launcher, or an option it does not take.
    """
    launcher = LAUNCHERS.get(name)
    try:
        return launcher(**options, **kwargs)
    except TypeError as exc:
        raise ConfigError(f"--launcher {name}: {exc}") from None


def sweep_folder(sweep: Sweep, out_dir: str | Path | None = None) -> Path:
    """``out_dir``, or the sweep file's ``output_dir``."""
    return Path(out_dir if out_dir is not None else sweep.settings.output_dir)


def run_sweep(
    sweep: Sweep,
    out_dir: str | Path | None = None,
    retry_failed: bool = False,
    log: Log = logger.info,
    launcher: str = "local",
    trials_dir: str | Path | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """Run the trials of ``sweep`` that have no result yet and write the report.

    Args:
        sweep: The loaded sweep.
        out_dir: Sweep folder (default: the sweep file's ``output_dir``).
        retry_failed: Also rerun trials recorded as failed.
        log: Progress messages.
        launcher: A name in ``LAUNCHERS``: ``local`` (processes of this machine) or ``ray``.
        trials_dir: Parent of the trials' run folders (default ``<sweep folder>/trials``; on a
            cluster a folder every node can write).
        **options: The launcher's options, e.g. ``jobs`` (local) or ``address`` (ray).

    Returns:
        The ranked records of all finished trials of the sweep.
    """
    folder = sweep_folder(sweep, out_dir)
    runner = make_runner(
        launcher,
        options,
        folder=folder,
        bench=sweep.settings.benchmark,
        sweep=sweep,
        trials_dir=trials_dir,
        log=log,
    )
    runner.check_engine()  # e.g. Ray missing: the error comes before any file is written
    ensure_folder(folder)
    repair_jsonl(folder / RESULTS_JSONL)  # a torn last line must not swallow the next record
    trials = expand_grid(sweep)
    atomic_write_text(folder / "sweep.yaml", sweep.to_yaml())
    todo = pending_trials(trials, read_jsonl(folder / RESULTS_JSONL), retry_failed)
    log(
        f"{len(trials)} trials, {len(trials) - len(todo)} already finished, {len(todo)} to run in {folder}"
    )
    try:
        runner.run(todo)
        if not pending_trials(trials, read_jsonl(folder / RESULTS_JSONL)):
            time_sweep(sweep, folder, trials, log, again=False)
    finally:
        records = write_report(folder, sweep, trials)
        log(f"report: {folder / 'results.md'}, {folder / 'results.csv'}, {folder / 'pareto.png'}")
    return records


def finished_points(trials: Sequence[Trial], folder: Path) -> dict[str, Config]:
    """Point id -> config (of its first trial) of every grid point with a finished trial."""
    finished = {
        r["trial_id"]
        for r in merge_records(trials, read_jsonl(folder / RESULTS_JSONL))
        if r["status"] == "ok"
    }
    configs: dict[str, Config] = {}
    for trial in trials:
        point = trial.point_id or trial.trial_id
        if trial.trial_id in finished and point not in configs:
            configs[point] = config_from_dict(trial.config, source=f"trial {trial.trial_id}")
    return configs


def time_sweep(sweep: Sweep, folder: Path, trials: Sequence[Trial], log: Log, again: bool) -> None:
    """Time the finished grid points together and append the session to ``timing.jsonl``.

    Args:
        sweep: The sweep (benchmark settings).
        folder: The sweep folder.
        trials: Its trials.
        log: Progress messages.
        again: Time even if a timing with the same settings covers every finished point.
    """
    configs = finished_points(trials, folder)
    bench = sweep.settings.benchmark
    if not configs or (not again and covers(latest_timing(folder, bench), set(configs))):
        return
    record_timing(folder, time_points(configs, bench, log))


def remeasure(
    sweep: Sweep, out_dir: str | Path | None = None, log: Log = logger.info
) -> list[dict[str, Any]]:
    """Time the finished grid points again, interleaved, without retraining; rewrite the report.

    For timings on a quieter or another machine, or in another runtime (``benchmark.runtime``
    override): a new session is appended to ``timing.jsonl`` and the report uses it.

    Args:
        sweep: The loaded sweep.
        out_dir: Sweep folder (default: the sweep file's ``output_dir``).
        log: Progress messages.

    Returns:
        The ranked point rows.
    """
    folder = sweep_folder(sweep, out_dir)
    trials = expand_grid(sweep)
    try:
        time_sweep(sweep, folder, trials, log, again=True)
    finally:
        rows = write_report(folder, sweep, trials)
    return rows
