"""Framework overhead: a training step through densepred against a plain PyTorch loop.

Both sides train the same freshly seeded task model, with the same loss modules, optimizers and
per-step schedules (:meth:`~densepred.tasks.base.BaseTask.build_optimizers`) and the same data
loader. The densepred side is what ``densepred train`` runs: the Trainer of
:func:`densepred.app.train.build_trainer` (CSV and TensorBoard loggers, checkpoint callback,
learning-rate monitor, progress bar as configured), the task's ``training_step`` with its logging,
training metrics and non-finite checks. The plain side is the loop a PyTorch user would write:
each task's :meth:`~densepred.tasks.base.BaseTask.plain_training_step`. Validation is off on both sides; the run stays
inside one epoch, so the per-epoch checkpoint is not timed.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback

from densepred.app.tasks import TASKS
from densepred.app.train import build_trainer
from densepred.config.run import Config
from densepred.core.errors import ConfigError
from densepred.models.execution import compile_for_training
from densepred.tasks.base import BaseTask


@dataclass
class Overhead:
    """One config's comparison (milliseconds per training step, best repeat of each side)."""

    name: str
    task: str
    batch_size: int
    image_size: tuple[int, ...]
    plain_ms: float
    densepred_ms: float
    data_wait_ms: float

    @property
    def overhead_pct(self) -> float:
        """How much longer a densepred step takes than a plain one, in percent."""
        return 100.0 * (self.densepred_ms / self.plain_ms - 1.0)

    def row(self) -> dict[str, Any]:
        """The table row of this comparison."""
        return {
            "config": self.name,
            "task": self.task,
            "batch": self.batch_size,
            "input": "x".join(map(str, self.image_size)),
            "plain_ms": self.plain_ms,
            "densepred_ms": self.densepred_ms,
            "overhead_pct": self.overhead_pct,
            "data_wait_ms": self.data_wait_ms,
        }


def _fresh_task(config: Config) -> tuple[BaseTask, L.LightningDataModule]:
    L.seed_everything(config.seed, verbose=False)
    task_cls = TASKS.get(config.task_name)
    datamodule = task_cls.build_datamodule(config)
    datamodule.setup("fit")
    return task_cls(config), datamodule


def _batches(loader: Any) -> Iterator[tuple[dict[str, Any], float]]:
    """Batches of ``loader`` forever (a new epoch when one ends), each with its wait in seconds."""
    while True:
        iterator = iter(loader)
        while True:
            start = time.perf_counter()
            try:
                batch = next(iterator)
            except StopIteration:
                break
            yield batch, time.perf_counter() - start


def _per_step_ms(stamps: list[float], warmup: int) -> float:
    return 1000.0 * (stamps[-1] - stamps[warmup - 1]) / (len(stamps) - warmup)


def plain_run(config: Config, steps: int, warmup: int) -> tuple[float, float]:
    """Milliseconds per step of the plain loop, and of that the mean wait for data."""
    task, datamodule = _fresh_task(config)
    compile_for_training(task.model, config.model)  # as the Trainer does when fit starts
    optimizers, schedulers = task.build_optimizers(steps + warmup)
    task.train()
    stamps, waits = [], []
    for batch, wait in _batches(datamodule.train_dataloader()):
        task.plain_training_step(batch, optimizers)
        for scheduler in schedulers:
            scheduler.step()
        stamps.append(time.perf_counter())
        waits.append(wait)
        if len(stamps) == steps + warmup:
            break
    return _per_step_ms(stamps, warmup), 1000.0 * statistics.fmean(waits[warmup:])


class _StepClock(Callback):
    """Time stamps at the end of every training batch."""

    def __init__(self) -> None:
        self.stamps: list[float] = []

    def on_train_batch_end(self, *args: Any) -> None:
        self.stamps.append(time.perf_counter())


def densepred_run(config: Config, steps: int, warmup: int) -> float:
    """Milliseconds per step of ``densepred train``'s Trainer, without validation."""
    # batches, not max_steps: the GAN task counts two optimizer steps per batch
    limits = {"max_epochs": 1, "max_steps": -1, "limit_train_batches": steps + warmup}
    trainer = {**config.trainer, **limits, "limit_val_batches": 0}
    config = dataclasses.replace(config, trainer=trainer)
    task, datamodule = _fresh_task(config)
    clock = _StepClock()
    with tempfile.TemporaryDirectory(prefix="densepred-overhead-") as folder:
        trainer = build_trainer(config, Path(folder), [clock])
        trainer.fit(task, datamodule=datamodule)
    return _per_step_ms(clock.stamps, warmup)


def measure_overhead(
    config: Config, steps: int = 40, warmup: int = 8, repeats: int = 2
) -> Overhead:
    """Interleave ``repeats`` plain and densepred runs of ``steps`` timed steps after ``warmup``.

    Raises:
        ConfigError: The run would cross an epoch (the epoch-end checkpoint would be timed).
    """
    task_cls = TASKS.get(config.task_name)
    probe = task_cls.build_datamodule(config)
    probe.setup("fit")
    per_epoch = len(probe.train_dataloader())
    if steps + warmup > per_epoch:
        raise ConfigError(
            f"{config.name}: {steps + warmup} steps do not fit in one epoch of {per_epoch} batches; "
            "lower --steps/--warmup or raise the training set size."
        )
    plain, ours, waits = [], [], []
    for _ in range(repeats):
        ms, wait = plain_run(config, steps, warmup)
        plain.append(ms)
        waits.append(wait)
        ours.append(densepred_run(config, steps, warmup))
    data = config.data
    return Overhead(
        name=config.name,
        task=config.task_name,
        batch_size=data.batch_size,
        image_size=tuple(data.image_size),
        plain_ms=min(plain),
        densepred_ms=min(ours),
        data_wait_ms=min(waits),
    )
