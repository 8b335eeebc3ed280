"""The ``ray`` launcher: a sweep's trials as Ray Tune trials on a local or remote Ray cluster.

Each Tune trial calls :func:`~densepred.ablation.trial.run_trial` (a pure function of the trial's
config) and reports the validation metrics after every epoch; the driver (this process) appends
each trial's record to ``results.jsonl`` as Tune reports the trial finished, failed or stopped.
With ``scheduler="asha"`` Tune's ASHA stops trials whose per-epoch value of the sweep's ranking
metric (``score.metric``) trails the others; such a trial is recorded as ``stopped`` ("stopped
early at epoch k") with its last metrics, and a rerun does not train it again.

Run folders are written by the worker that trains the trial, under ``trials_dir``: on a cluster
of several machines that must be a folder every node can write (a shared filesystem), and the
data root too.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from lightning.pytorch.callbacks import Callback

from densepred.ablation.launcher import Runner, fresh_folder, prepare_data
from densepred.ablation.sweep import BenchmarkSettings, Trial
from densepred.ablation.trial import STAGE_PREFIX, run_trial, trial_fields
from densepred.core.errors import ConfigError

RECORD_KEY = "densepred_record"
EPOCH_KEY = "epoch"
SCHEDULERS = ("fifo", "asha")


def import_ray() -> Any:
    """The ``ray`` module, or a clear error naming the optional extra."""
    try:
        import ray
        from ray import tune  # noqa: F401
    except ImportError:
        raise ConfigError(
            '--launcher ray needs Ray Tune, an optional extra: pip install -e ".[ray]"'
        ) from None
    return ray


class EpochReport(Callback):
    """Reports the validation metrics (without ``val/``) and the epoch (from 1) to Ray Tune."""

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking or trainer.state.fn != "fit" or not trainer.is_global_zero:
            return
        from ray import tune

        metrics = {
            k.removeprefix(STAGE_PREFIX): float(v)
            for k, v in trainer.callback_metrics.items()
            if k.startswith(STAGE_PREFIX)
        }
        tune.report({**metrics, EPOCH_KEY: trainer.current_epoch + 1})


def train_trial(
    config: dict[str, Any],
    trials: dict[str, Trial],
    bench: BenchmarkSettings,
    trials_dir: str,
    cwd: str,
    metric: str,
) -> None:
    """The Tune trainable: run one trial and report its record as the last result."""
    if Path(cwd).is_dir():  # relative paths of the configs mean the driver's folder
        os.chdir(cwd)
    trial = trials[config["trial_id"]]
    reporter = EpochReport()
    record = run_trial(trial, fresh_folder(Path(trials_dir) / trial.trial_id), bench, [reporter])
    from ray import tune

    value = record.get(metric)
    tune.report(
        {
            RECORD_KEY: json.dumps(record),
            metric: float(value) if isinstance(value, int | float) else math.inf,
            EPOCH_KEY: _epochs(Path(record["run_dir"])),
        }
    )


def _epochs(run_dir: Path) -> int:
    """Epochs trained (``metrics.json``), 0 if the run wrote none."""
    try:
        return int(json.loads((run_dir / "metrics.json").read_text())["epochs"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def ended_record(
    trial: Trial, run_dir: Path, status: str, error: str, **fields: Any
) -> dict[str, Any]:
    """The record of a trial that ended without a record of its own (stopped, or its worker died)."""
    return {
        **trial_fields(trial),
        "status": status,
        "error": error,
        "run_dir": str(run_dir),
        **fields,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def stopped_record(trial: Trial, result: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """The record of a trial the scheduler stopped: its last reported metrics, no measurements."""
    epoch = int(result.get(EPOCH_KEY, 0))
    metrics = {
        k: v
        for k, v in result.items()
        if isinstance(v, float) and not k.startswith(("time_", "timestamp"))
    }
    best = run_dir / "checkpoints" / "best.ckpt"
    return ended_record(
        trial,
        run_dir,
        "stopped",
        f"stopped early at epoch {epoch} (ASHA)",
        **metrics,
        epochs=epoch,
        checkpoint=str(best) if best.is_file() else "",
    )


class RayRunner(Runner):
    """Runs the pending trials of a sweep as Ray Tune trials.

    Args:
        address: Ray cluster address (``auto``, ``HOST:6379``); None: the running instance of
            this process, else a new local one.
        cpus_per_trial: CPUs Tune reserves for each trial.
        gpus_per_trial: GPUs Tune reserves for each trial (fractions allowed).
        scheduler: ``fifo`` (every trial runs to the end) or ``asha`` (stop hopeless trials).
        grace_period: ASHA: epochs every trial trains before it may be stopped.
        reduction_factor: ASHA: 1/reduction_factor of the trials go on at each rung.
        **kwargs: See :class:`~densepred.ablation.launcher.Runner`.
    """

    def __init__(
        self,
        *,
        address: str | None = None,
        cpus_per_trial: float = 1.0,
        gpus_per_trial: float = 0.0,
        scheduler: Literal["fifo", "asha"] = "fifo",
        grace_period: int = 1,
        reduction_factor: int = 2,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if scheduler not in SCHEDULERS:
            raise ConfigError(f"--scheduler: unknown '{scheduler}'; choose one of {SCHEDULERS}.")
        if grace_period < 1 or reduction_factor < 2:
            raise ConfigError(
                f"--grace-period must be >= 1 and --reduction-factor >= 2, got {grace_period} "
                f"and {reduction_factor}."
            )
        if cpus_per_trial <= 0 or gpus_per_trial < 0:
            raise ConfigError(
                f"--cpus-per-trial must be > 0 and --gpus-per-trial >= 0, got {cpus_per_trial} "
                f"and {gpus_per_trial}."
            )
        self.address = address
        self.resources = {"cpu": cpus_per_trial, "gpu": gpus_per_trial}
        self.scheduler = scheduler
        self.grace_period = grace_period
        self.reduction_factor = reduction_factor
        self.trials_dir = self.trials_dir.resolve()

    def check_engine(self) -> None:
        """Ray Tune must be importable (the ``ray`` extra) and a cluster named by ``address``
        reachable: connected here, before any file of the sweep is written.

        Raises:
            ConfigError: No Ray cluster at ``address`` (the message says how to start one).
        """
        ray = import_ray()
        if self.address is None or ray.is_initialized():
            return
        try:
            ray.init(address=self.address)
        except ConnectionError as exc:
            first = str(exc).split(". ")[0].rstrip(".")
            raise ConfigError(
                f"--address {self.address}: no Ray cluster to connect to ({first}). Start one "
                "with 'ray start --head' on this machine (and 'ray start --address=HEAD:6379' on "
                "the others), or leave out --address to run a local Ray instance."
            ) from None

    def run(self, trials: Sequence[Trial]) -> None:
        """Run ``trials`` on Ray; each record is appended as Tune reports its trial ended.

        Raises:
            KeyboardInterrupt: Ctrl-C (Tune catches it, stops the running trials and returns;
                those have no record and are trained again by the next run).
        """
        ray = import_ray()
        from ray import tune

        self.done, self.total = 0, len(trials)
        if not trials:
            return
        if not ray.is_initialized():
            ray.init(address=self.address)
        prepare_data(trials)
        metric = self.sweep.settings.score.metric
        by_id = {t.trial_id: t for t in trials}
        trainable = tune.with_parameters(
            train_trial,
            trials=by_id,
            bench=self.bench,
            trials_dir=str(self.trials_dir),
            cwd=os.getcwd(),
            metric=metric,
        )
        tuner = tune.Tuner(
            tune.with_resources(trainable, self.resources),
            param_space={"trial_id": tune.grid_search(list(by_id))},
            tune_config=tune.TuneConfig(
                metric=metric, mode="min", scheduler=self._scheduler(), reuse_actors=False
            ),
            run_config=tune.RunConfig(
                name="tune",
                storage_path=str((self.folder / "ray").resolve()),
                callbacks=[_make_collect()(self, by_id)],
                verbose=0,
            ),
        )
        tuner.fit()  # Ctrl-C: Tune stops its trials and returns
        if self.done < self.total:
            self.log(
                f"interrupted: {self.total - self.done} trials unfinished; "
                "the same command continues the sweep"
            )
            raise KeyboardInterrupt

    def _scheduler(self) -> Any:
        if self.scheduler == "fifo":
            return None
        from ray.tune.schedulers import ASHAScheduler

        return ASHAScheduler(
            time_attr=EPOCH_KEY,
            max_t=10**6,
            grace_period=self.grace_period,
            reduction_factor=self.reduction_factor,
        )

    def collect(self, trial: Trial, result: dict[str, Any] | None, error: str | None) -> None:
        """Append the record of a Tune trial that ended (finished, stopped or failed)."""
        run_dir = self.run_dir(trial)
        if error is not None:
            record = ended_record(trial, run_dir, "failed", error)
        elif result and RECORD_KEY in result:
            record = json.loads(result[RECORD_KEY])
        elif self.scheduler == "asha":
            record = stopped_record(trial, result or {}, run_dir)
        else:
            record = ended_record(trial, run_dir, "failed", "the Ray trial ended without a result")
        self._record(record)


def _error_text(tune_trial: Any) -> str:
    """The error Ray kept for a failed trial (first line of its traceback file)."""
    path = getattr(tune_trial, "error_file", None)
    try:
        text = Path(path).read_text() if path else ""
    except OSError:
        text = ""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "the Ray trial failed (no error file)"


def _make_collect() -> type:
    """A ``tune.Callback`` that hands each ended trial to :meth:`RayRunner.collect` (Ray is
    imported only when the launcher runs, so the class is made then)."""
    from ray import tune

    class Collect(tune.Callback):
        def __init__(self, runner: RayRunner, trials: dict[str, Trial]) -> None:
            self.runner = runner
            self.trials = trials

        def __getstate__(self) -> dict[str, Any]:
            # Tune pickles the run config into tuner.pkl for its own restore, which the sweep
            # does not use (results.jsonl is the resume state); the live object keeps the runner.
            return {}

        def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self.runner.collect(self.trials[trial.config["trial_id"]], trial.last_result, None)

        def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            error = _error_text(trial)
            self.runner.collect(self.trials[trial.config["trial_id"]], trial.last_result, error)

    return Collect
