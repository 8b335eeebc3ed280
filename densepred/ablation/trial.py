"""One trial of a sweep as a pure function: config in, result record out.

:func:`run_trial` trains the trial's config with :func:`densepred.app.train.run_training`, reads the
validation metrics of the best checkpoint and counts parameters and MACs (latency is timed later,
for all grid points together: :mod:`~densepred.ablation.timing`). It never
raises for a broken trial (an unknown encoder, a NaN loss, ...): the record says ``failed`` with the
error, and the traceback is kept in ``run_dir/error.txt``. Ctrl-C is not a failure and propagates.
Everything it takes and returns is plain, picklable data, so any launcher can run it.
"""

from __future__ import annotations

import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lightning.pytorch.callbacks import Callback
from torch import nn

from densepred.ablation.sweep import BenchmarkSettings, Trial, size_tag
from densepred.app.config import config_from_dict
from densepred.app.tasks import TASKS
from densepred.app.train import run_training
from densepred.config.run import Config
from densepred.core.benchmark import count_macs, count_parameters
from densepred.core.errors import ConfigError, user_message
from densepred.core.fileio import atomic_write_text
from densepred.export.wrappers import MaiDepth

STAGE_PREFIX = "val/"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _sizes(config: Config, bench: BenchmarkSettings) -> dict[str, tuple[int, int]]:
    """Tag -> ``(height, width)``: the benchmark sizes, and ``train`` for ``data.image_size``."""
    sizes = bench.tagged_sizes()
    train_size = config.data.image_size  # None: native image sizes
    if bench.include_train_size and train_size is not None:
        sizes["train"] = (int(train_size[0]), int(train_size[1]))
    return sizes


def latency_targets(
    config: Config, bench: BenchmarkSettings, model: nn.Module | None = None
) -> dict[str, tuple[nn.Module, tuple[int, ...]]]:
    """What is timed for each size tag: the module and its full input shape.

    The benchmark sizes give the tags ``<W>x<H>``, the training resolution (``data.image_size``)
    ``train`` (skipped when the data is fed at native size). With ``bench.mai`` the benchmark
    sizes time the MAI contract: RGB in at that size, the network at the training size.

    Args:
        config: A validated config of a dense task.
        bench: Sizes and contract.
        model: The config's model (default: freshly built on the CPU; its cost does not depend
            on trained weights).
    """
    if model is None:
        model = TASKS.get(config.task_name)(config).model.cpu()
    train_size = config.data.image_size
    targets: dict[str, tuple[nn.Module, tuple[int, ...]]] = {}
    for tag, size in _sizes(config, bench).items():
        mai = bench.mai and tag != "train"
        if mai and (not TASKS.get(config.task_name).mai_export or train_size is None):
            raise ConfigError(
                "benchmark.mai times a depth model trained at a fixed data.image_size."
            )
        module = MaiDepth(model, train_size, size) if mai else model
        shape = (1, *size, 3) if mai else (1, config.model.in_channels, *size)
        targets[tag] = (module, shape)
    return targets


def model_cost(config: Config, bench: BenchmarkSettings) -> dict[str, Any]:
    """Parameters and MACs of the config's model at the benchmark sizes (``macs_g_<tag>``).

    Args:
        config: A validated config of a dense task.
        bench: Sizes and contract (with ``bench.mai`` the MACs of the MAI contract).
    """
    model = TASKS.get(config.task_name)(config).model.cpu()
    train_size = config.data.image_size
    out: dict[str, Any] = {
        "train_size": size_tag(*train_size) if train_size is not None else "native",
        "params_m": count_parameters(model) / 1e6,
    }
    for tag, (module, shape) in latency_targets(config, bench, model).items():
        out[f"macs_g_{tag}"] = count_macs(module, shape) / 1e9
    return out


def trial_fields(trial: Trial) -> dict[str, Any]:
    """The fields every record of ``trial`` starts with: ids, label, varied values and seed."""
    return {
        "trial_id": trial.trial_id,
        "point_id": trial.point_id or trial.trial_id,
        "label": trial.label,
        **trial.values,
        "seed": trial.seed,
    }


def run_trial(
    trial: Trial,
    run_dir: str | Path,
    bench: BenchmarkSettings,
    callbacks: list[Callback] | None = None,
) -> dict[str, Any]:
    """Train, evaluate and measure one trial.

    Args:
        trial: The trial (its raw config is validated here, so a bad value fails only this trial).
        run_dir: The trial's run folder (config, checkpoints, logs, metrics.json).
        bench: Measurement settings.
        callbacks: Extra Lightning callbacks of the training (e.g. a launcher's progress report).

    Returns:
        A flat record: ``trial_id``, ``label``, the varied values, ``status`` (``ok`` or
        ``failed``), ``error``, ``point_id``, ``seed``, validation metrics without their ``val/``
        prefix, ``checkpoint``, ``train_s``, the :func:`model_cost` values, ``wall_s``,
        ``finished_at`` and ``run_dir``.
    """
    run_dir = Path(run_dir)
    start = time.perf_counter()
    record = trial_fields(trial)
    record.update(status="ok", error="", run_dir=str(run_dir))
    try:
        config = config_from_dict(trial.config, source=f"trial {trial.trial_id}")
        result = run_training(config, run_dir=run_dir, callbacks=callbacks)
        record["train_s"] = time.perf_counter() - start
        record.update({k.removeprefix(STAGE_PREFIX): v for k, v in result.metrics.items()})
        record["checkpoint"] = str(result.best_checkpoint) if result.best_checkpoint else ""
        record.update(model_cost(config, bench))
    except Exception as exc:  # any error fails this trial only
        record.update(status="failed", error=f"{type(exc).__name__}: {user_message(exc)}")
        atomic_write_text(run_dir / "error.txt", traceback.format_exc())
    record["wall_s"] = time.perf_counter() - start
    record["finished_at"] = _now()
    return record
