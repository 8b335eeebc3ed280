"""Training a config end to end: run folder, Trainer, checkpoints, metrics.json.

``densepred train`` and the ablation runner both call :func:`run_training`.
"""

from __future__ import annotations

import logging
import math
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.callbacks import Callback, LearningRateMonitor
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only

from densepred.app.resume import check_resume
from densepred.app.tasks import TASKS
from densepred.app.trainer import OBJECT_KEYS, build_objects
from densepred.config.run import Config
from densepred.core.errors import ConfigError, DataError
from densepred.core.fileio import (
    atomic_write_json,
    atomic_write_text,
    claim_folder,
    ensure_folder,
    output_errors,
    remove_temp_files,
)
from densepred.core.lock import folder_lock
from densepred.tasks import BaseTask, NonFiniteLossError
from densepred.tasks.checkpoint import FiniteModelCheckpoint, SafeCheckpointIO, kept_checkpoint_note
from densepred.tasks.finetune import parameter_counts

logger = logging.getLogger(__name__)

RUN_DIR_ENV = "DENSEPRED_RUN_DIR"
"""Environment variable naming the run folder that every process of one multi-process run shares."""

TRAINER_DEFAULTS: dict[str, Any] = {
    "max_epochs": 10,
    "accelerator": "auto",
    "devices": 1,
    "log_every_n_steps": 10,
    "enable_progress_bar": True,
}


@dataclass
class TrainResult:
    """What a finished training run produced.

    Attributes:
        run_dir: The run folder.
        metrics: Validation metrics of the best checkpoint (``metrics.json``'s ``val``).
        best_checkpoint: Path of the best checkpoint, or None if none was written.
        initial_metrics: Validation metrics before the first step (``metrics.json``'s
            ``initial_val``; empty when resuming or without validation).
        is_global_zero: This process is global rank 0 (always, without DDP): the one that
            wrote the run's files.
    """

    run_dir: Path
    metrics: dict[str, float]
    best_checkpoint: Path | None
    initial_metrics: dict[str, float]
    is_global_zero: bool = True


def _validate(
    trainer: L.Trainer, task: L.LightningModule, datamodule: Any, **kwargs: Any
) -> dict[str, float]:
    """``trainer.validate`` as a plain ``{name: float}`` dict."""
    results = trainer.validate(task, datamodule=datamodule, verbose=False, **kwargs)
    return {k: float(v) for k, v in (results[0] if results else {}).items()}


def _quiet_validate(
    trainer: L.Trainer, task: L.LightningModule, datamodule: Any, checkpoint: Path
) -> dict[str, float]:
    """Validate ``checkpoint`` without logging: its metrics go to metrics.json, and the loggers'
    curves end at the last training step instead of gaining a point for this re-validation."""
    loggers = trainer.loggers
    trainer.loggers = []
    try:
        return _validate(trainer, task, datamodule, ckpt_path=checkpoint)
    finally:
        trainer.loggers = loggers


def choose_run_dir(config: Config, resume: bool, run_dir: str | Path | None = None) -> Path:
    """The folder of this run: ``output_dir/name``; never overwrites an earlier run.

    A new run claims its folder atomically: ``output_dir/name`` if that does not exist yet,
    else the first free ``name_1``, ``name_2``, ... (two runs started together get two folders).
    Under DDP only global rank 0 claims; the other ranks take the folder named by
    ``$DENSEPRED_RUN_DIR``, which rank 0 sets before Lightning starts them (under torchrun or
    SLURM the job script sets it for every rank).

    Args:
        config: The run's config.
        resume: Continue the run in ``run_dir`` (which must hold ``checkpoints/last.ckpt``).
        run_dir: Explicit folder instead of ``output_dir/name``.

    Raises:
        ConfigError: ``resume`` without a ``last.ckpt``.
        ConfigError: A rank other than 0 without ``$DENSEPRED_RUN_DIR``.
        OutputError: The output folder is a file, read-only or cannot be created.
    """
    shared = os.environ.get(RUN_DIR_ENV)
    if shared:
        return ensure_folder(shared)
    if rank_zero_only.rank != 0:
        raise ConfigError(
            f"process of global rank {rank_zero_only.rank} was started without ${RUN_DIR_ENV}: "
            "ranks started by torchrun or SLURM must share one run folder. Set "
            f"{RUN_DIR_ENV}=<new run folder> in the job script for every rank."
        )
    base = Path(run_dir) if run_dir is not None else Path(config.output_dir) / config.name
    if resume:
        last = base / "checkpoints" / "last.ckpt"
        if not last.is_file():
            raise ConfigError(
                f"--resume: no checkpoint at '{last}'. Start the run without --resume first."
            )
        return base
    return claim_folder(base)


def build_trainer(
    config: Config, run_dir: Path, callbacks: list[Callback] | None = None
) -> L.Trainer:
    """A Trainer with loggers (CSV, TensorBoard) and checkpointing in ``run_dir``.

    Raises:
        ConfigError: Lightning refuses a ``trainer`` value (the types are checked at load).
    """
    task = config.task
    checkpoint = FiniteModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename="best",
        monitor=task.monitor,
        mode=task.monitor_mode,
        save_last=True,
        save_top_k=1,
        auto_insert_metric_name=False,
        enable_version_counter=False,
    )
    loggers = [CSVLogger(run_dir, name="logs"), TensorBoardLogger(run_dir, name="tensorboard")]
    loggers += build_objects(config.trainer, "logger")
    kwargs = {k: v for k, v in {**TRAINER_DEFAULTS, **config.trainer}.items() if k not in OBJECT_KEYS}
    if kwargs.get("strategy") == "ddp" and TASKS.get(config.task_name).ddp_unused_parameters:
        kwargs["strategy"] = "ddp_find_unused_parameters_true"
    all_callbacks: list[Callback] = [checkpoint, LearningRateMonitor(logging_interval="step")]
    try:
        return L.Trainer(
            default_root_dir=run_dir,
            logger=loggers,
            callbacks=all_callbacks + build_objects(config.trainer, "callbacks") + list(callbacks or []),
            plugins=[SafeCheckpointIO()],
            **kwargs,
        )
    except (MisconfigurationException, ValueError, TypeError, ImportError) as exc:
        # Values of the right type that Lightning refuses (max_epochs=-5, accelerator=foo).
        raise ConfigError(
            f"Lightning refuses the trainer settings: {str(exc).strip()} Fix the trainer "
            "section of the config (or its trainer.* overrides)."
        ) from None


def run_training(
    config: Config,
    resume: bool = False,
    run_dir: str | Path | None = None,
    callbacks: list[Callback] | None = None,
) -> TrainResult:
    """Check the data, validate the initial model, train ``config``, validate its best checkpoint,
    write ``metrics.json``.

    Before any work the data module's pre-flight check (``data.check``) reads every split's files
    and the task checks its targets (:meth:`~densepred.tasks.base.BaseTask.check_data`). A run in
    which no validation gave a finite monitored score writes no checkpoint and ends in a
    ``DataError`` after writing ``metrics.json`` (non-finite values as ``null``).

    The initial validation (skipped when resuming) shows what training gained; it is logged at
    step 0 and its sample grid is ``samples/val_init.png``. The seed is set again after it, so
    the training itself does not depend on it.

    Args:
        config: Validated config.
        resume: Continue from ``run_dir/checkpoints/last.ckpt``.
        run_dir: Run folder (default ``output_dir/name``, suffixed if it already holds a run).
        callbacks: Extra Lightning callbacks.
    """
    L.seed_everything(config.seed, workers=True, verbose=False)
    task = TASKS.get(config.task_name)(config)  # a model the config cannot build claims no folder
    folder = choose_run_dir(config, resume, run_dir)
    with output_errors(folder), _one_writer(folder), _shared_with_ranks(folder):
        return _train(config, task, folder, resume, callbacks)


@contextmanager
def _one_writer(folder: Path) -> Iterator[None]:
    """Global rank 0 holds the run folder's lock file (:func:`~densepred.core.lock.folder_lock`)
    while it trains; the other ranks of its run share the folder."""
    if rank_zero_only.rank != 0:
        yield
        return
    with folder_lock(folder):
        yield


@contextmanager
def _shared_with_ranks(folder: Path) -> Iterator[None]:
    """``$DENSEPRED_RUN_DIR`` names ``folder`` while it trains: the ranks Lightning's DDP launcher
    starts inherit it and use the same run folder. The earlier value comes back afterwards, so a
    later run in this process (a sweep) claims its own folder."""
    before = os.environ.get(RUN_DIR_ENV)
    os.environ[RUN_DIR_ENV] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(RUN_DIR_ENV, None)
        else:
            os.environ[RUN_DIR_ENV] = before


@contextmanager
def _stops_cleanly(trainer: L.Trainer, checkpoints: Path) -> Iterator[None]:
    """Ctrl-C raises ``KeyboardInterrupt`` (Lightning turns it into ``SystemExit(1)`` and ignores
    SIGINT afterwards); a non-finite loss error names the newest finite checkpoint."""
    handler = signal.getsignal(signal.SIGINT)
    try:
        yield
    except SystemExit:
        if not trainer.interrupted:
            raise
        signal.signal(signal.SIGINT, handler)
        raise KeyboardInterrupt from None
    except NonFiniteLossError as exc:
        raise NonFiniteLossError(f"{exc} {kept_checkpoint_note(checkpoints)}") from None


def _train(
    config: Config,
    task: BaseTask,
    folder: Path,
    resume: bool,
    callbacks: list[Callback] | None,
) -> TrainResult:
    """:func:`run_training` of ``task`` in its claimed (and locked) run ``folder``; only global
    rank 0 writes its files.

    A resume is checked before anything is written (:func:`~densepred.app.resume.check_resume`):
    a refused one leaves the folder as it was.
    """
    if resume:
        check_resume(folder, config, task)
    if rank_zero_only.rank == 0:
        remove_temp_files(folder)  # of writes a killed run left; nobody else writes here
        atomic_write_text(folder / "config.yaml", config.to_yaml())
    task_cls = TASKS.get(config.task_name)
    params = parameter_counts(task)
    if rank_zero_only.rank == 0:
        logger.info(f"parameters: {params['trainable']:,} trainable of {params['total']:,}")
    datamodule = task_cls.build_datamodule(config)
    trainer = build_trainer(config, folder, callbacks)
    last = folder / "checkpoints" / "last.ckpt"
    datamodule.preflight()  # every split's files, all problems at once (data.check)
    task.check_data(datamodule, tuple(config.data.splits()))
    validate = trainer.limit_val_batches != 0
    with _stops_cleanly(trainer, last.parent):
        initial = _validate(trainer, task, datamodule) if validate and not resume else {}
        L.seed_everything(config.seed, workers=True, verbose=False)
        trainer.fit(task, datamodule=datamodule, ckpt_path=last if resume else None)
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        best_path = Path(best) if best else (last if last.is_file() else None)
        metrics: dict[str, float] = {}
        if best_path is not None and validate:
            metrics = _quiet_validate(trainer, task, datamodule, best_path)
    monitor = config.task.monitor
    unscored = monitor in metrics and not math.isfinite(metrics[monitor])
    if unscored:  # the checkpoint cannot be chosen on a NaN score
        best_path = None
    record = {
        "checkpoint": str(best_path) if best_path else None,
        "epochs": trainer.current_epoch,
        "global_step": trainer.global_step,
        "val": metrics,
        "initial_val": initial,
        "parameters": params,
    }
    if trainer.is_global_zero:
        atomic_write_json(folder / "metrics.json", record)
    if unscored:
        raise DataError(
            f"no checkpoint was chosen: the validation gave a non-finite {monitor} (see "
            f"'{folder / 'metrics.json'}'), so no model could be scored. The validation "
            "split likely has no valid targets: check the data and its settings (depth: "
            "data.depth_scale, task.min_depth / task.max_depth), and keep data.check on."
        )
    return TrainResult(
        run_dir=folder,
        metrics=metrics,
        best_checkpoint=best_path,
        initial_metrics=initial,
        is_global_zero=trainer.is_global_zero,
    )
