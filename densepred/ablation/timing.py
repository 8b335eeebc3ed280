"""Latency of a sweep's grid points, timed together, interleaved, in one process.

Latency depends on the architecture, not on the trained weights or the seed, so each grid
point is timed once, on a freshly built model (exported first for ``onnxruntime``/``tflite``),
after its trials are trained. All points are timed in the same session with
:func:`~densepred.core.benchmark.time_interleaved`: ``benchmark.rounds`` rounds, each timing
every point once in a shuffled order, so a slow phase of the machine falls on all points about
alike. Each session is one line of ``timing.jsonl`` in the sweep folder: the settings, the
runtime and thread count, and each point's per-round medians; the report uses the latest line
measured with the sweep's current benchmark settings.
"""

from __future__ import annotations

import os
import platform
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from densepred.ablation.sweep import BenchmarkSettings
from densepred.ablation.trial import latency_targets
from densepred.config.run import Config
from densepred.core.benchmark import time_interleaved
from densepred.core.errors import DensepredError
from densepred.core.fileio import append_jsonl, read_jsonl
from densepred.export.latency import example_input, runtime_call, runtime_source

TIMING_JSONL = "timing.jsonl"
Log = Callable[[str], None]


def runtime_label(bench: BenchmarkSettings) -> str:
    """The runtime as the report names it, e.g. ``tflite (MAI contract)``."""
    return bench.runtime + (" (MAI contract)" if bench.mai else "")


def time_points(
    configs: Mapping[str, Config], bench: BenchmarkSettings, log: Log = print
) -> dict[str, Any]:
    """Time every point's model at every benchmark size, interleaved.

    Args:
        configs: Point id -> validated config (the model is built from it).
        bench: Sizes, contract, runtime, threads, warmup, repeats and rounds.
        log: Progress messages.

    Returns:
        One ``timing.jsonl`` line: ``measured_at``, ``settings`` (the benchmark settings),
        ``runtime``, ``threads``, ``torch``, ``cpu``, ``points`` (point id -> ``latency_ms_<tag>``
        -> per-round medians in ms) and ``errors`` (point id -> why it has no timing, e.g. a
        failed export).
    """
    runs: dict[tuple[str, str], Callable[[], Any]] = {}
    errors: dict[str, str] = {}
    old_threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as folder:
        try:
            for point_id, config in configs.items():
                try:
                    prepared = {
                        (point_id, tag): runtime_call(
                            runtime_source(module, example_input(shape), bench.runtime, folder),
                            example_input(shape),
                            bench.runtime,
                            bench.threads,
                        )
                        for tag, (module, shape) in latency_targets(config, bench).items()
                    }
                except DensepredError as exc:  # e.g. an export failure: the other points go on
                    errors[point_id] = str(exc)
                    log(f"no timing for {point_id}: {exc}")
                    continue
                runs.update(prepared)
            log(
                f"timing {len(configs) - len(errors)} points, {bench.rounds} rounds interleaved, "
                f"{bench.runtime} with {bench.threads} thread(s)"
            )
            rounds = time_interleaved(runs, bench.warmup, bench.repeats, bench.rounds)
        finally:
            torch.set_num_threads(old_threads)
    points: dict[str, dict[str, list[float]]] = {}
    for (point_id, tag), values in rounds.items():
        points.setdefault(point_id, {})[f"latency_ms_{tag}"] = values
    return {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": bench.model_dump(mode="json"),
        "runtime": runtime_label(bench),
        "threads": bench.threads,
        "torch": torch.__version__,
        "cpu": f"{platform.machine()}, {os.cpu_count()} logical cores",
        "points": points,
        "errors": errors,
    }


def latest_timing(folder: str | Path, bench: BenchmarkSettings) -> dict[str, Any] | None:
    """The last timing session of ``folder`` measured with ``bench``'s settings, if any."""
    settings = bench.model_dump(mode="json")
    lines = [t for t in read_jsonl(Path(folder) / TIMING_JSONL) if t.get("settings") == settings]
    return lines[-1] if lines else None


def covers(timing: dict[str, Any] | None, point_ids: set[str]) -> bool:
    """Whether ``timing`` has a timing (or a recorded failure) for every point in ``point_ids``."""
    if timing is None:
        return not point_ids
    return point_ids <= set(timing["points"]) | set(timing["errors"])


def record_timing(folder: str | Path, timing: dict[str, Any]) -> None:
    """Append a timing session to ``folder/timing.jsonl`` (fsynced, one line)."""
    append_jsonl(Path(folder) / TIMING_JSONL, timing)
