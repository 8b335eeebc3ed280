"""One trial of a sweep as a pure function: config in, result record out.

:func:`run_trial` trains the trial's config with :func:`densepred.app.train.run_training`, reads the
validation metrics of the best checkpoint and measures parameters, MACs and CPU latency. It never
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

from densepred.ablation.sweep import BenchmarkSettings, Trial, size_tag
from densepred.app.config import config_from_dict
from densepred.app.tasks import TASKS
from densepred.app.train import run_training
from densepred.config.run import Config
from densepred.core.benchmark import count_macs, count_parameters
from densepred.core.errors import ConfigError, DensepredError, user_message
from densepred.core.fileio import atomic_write_text
from densepred.export.latency import runtime_latency
from densepred.export.wrappers import MaiDepth

STAGE_PREFIX = "val/"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def measure_model(config: Config, bench: BenchmarkSettings) -> dict[str, Any]:
    """Parameters, MACs and median CPU latency of the config's model at the benchmark sizes.

    Sizes from ``bench.sizes`` give the keys ``macs_g_<W>x<H>`` and ``latency_ms_<W>x<H>``; the
    training resolution (``data.image_size``) gives ``macs_g_train`` and ``latency_ms_train``.
    The training resolution is skipped when the data is fed at native size (``image_size: null``).
    The model is freshly built on the CPU: its cost does not depend on the trained weights.
    Latency is measured in ``bench.runtime``; with ``bench.mai`` the benchmark sizes time the MAI
    contract (network at the training size). An export failure leaves the latency keys out and
    records ``export_error``.

    Args:
        config: A validated config of a dense task.
        bench: Sizes, threads, warmup, repeats, runtime and contract.
    """
    model = TASKS.get(config.task_name)(config).model.cpu()
    sizes = bench.tagged_sizes()
    train_size = config.data.image_size  # None: native image sizes
    if bench.include_train_size and train_size is not None:
        sizes["train"] = tuple(train_size)
    out: dict[str, Any] = {
        "train_size": size_tag(*train_size) if train_size is not None else "native",
        "params_m": count_parameters(model) / 1e6,
        "latency_threads": bench.threads,
        "latency_runtime": bench.runtime + (" (MAI contract)" if bench.mai else ""),
        "measured_at": _now(),
    }
    for tag, size in sizes.items():
        mai = bench.mai and tag != "train"
        if mai and (not TASKS.get(config.task_name).mai_export or train_size is None):
            raise ConfigError("benchmark.mai times a depth model trained at a fixed data.image_size.")
        module = MaiDepth(model, train_size, size) if mai else model
        shape = (1, *size, 3) if mai else (1, config.model.in_channels, *size)
        out[f"macs_g_{tag}"] = count_macs(module, shape) / 1e9
        try:
            (row,) = runtime_latency(
                module, shape, bench.runtime, [bench.threads], bench.warmup, bench.repeats
            )
        except DensepredError as exc:  # the export failed: the training result stays
            out["export_error"] = str(exc)
            continue
        out[f"latency_ms_{tag}"] = row["median_ms"]
    return out


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
        ``failed``), ``error``, validation metrics without their ``val/`` prefix, ``checkpoint``,
        ``train_s``, the :func:`measure_model` values (with ``measured_at``), ``wall_s``,
        ``finished_at`` and ``run_dir``.
    """
    run_dir = Path(run_dir)
    start = time.perf_counter()
    record: dict[str, Any] = {"trial_id": trial.trial_id, "label": trial.label, **trial.values}
    record.update(status="ok", error="", run_dir=str(run_dir))
    try:
        config = config_from_dict(trial.config, source=f"trial {trial.trial_id}")
        result = run_training(config, run_dir=run_dir, callbacks=callbacks)
        record["train_s"] = time.perf_counter() - start
        record.update({k.removeprefix(STAGE_PREFIX): v for k, v in result.metrics.items()})
        record["checkpoint"] = str(result.best_checkpoint) if result.best_checkpoint else ""
        record.update(measure_model(config, bench))
    except Exception as exc:  # any error fails this trial only
        record.update(status="failed", error=f"{type(exc).__name__}: {user_message(exc)}")
        atomic_write_text(run_dir / "error.txt", traceback.format_exc())
    record["wall_s"] = time.perf_counter() - start
    record["finished_at"] = _now()
    return record
