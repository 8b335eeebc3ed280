"""Latency in the runtime a model ships in: eager PyTorch, onnxruntime or the LiteRT interpreter.

For ``onnxruntime`` and ``tflite`` the module is exported once (float, fresh file in a temporary
folder) with the format whose runtime it is, then timed at each thread count on one random input.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from densepred.core.benchmark import count_macs, count_parameters, time_calls
from densepred.core.errors import ConfigError
from densepred.export.formats import EXPORT_FORMATS
from densepred.export.pipeline import convert
from densepred.export.runtimes import RUNTIMES, Runner

TORCH_RUNTIME = "torch"


def format_for(runtime: str) -> str | None:
    """The export format a runtime runs (``None`` for eager PyTorch)."""
    RUNTIMES.get(runtime)  # unknown names fail with the valid ones
    if runtime == TORCH_RUNTIME:
        return None
    names = [n for n in EXPORT_FORMATS.names() if EXPORT_FORMATS.get(n).runtime == runtime]
    if not names:
        raise ConfigError(f"no export format runs in the runtime '{runtime}'.")
    return names[0]


def example_input(input_shape: Sequence[int]) -> np.ndarray:
    """The fixed random ``float32`` input every latency run feeds."""
    return np.random.default_rng(0).standard_normal(tuple(input_shape)).astype(np.float32)


def runtime_source(model: nn.Module, x: np.ndarray, runtime: str, folder: str | Path) -> Any:
    """What ``runtime`` runs: the module itself (eval mode) for ``torch``, else the module
    exported into a new file under ``folder`` (which must outlive its use).

    Raises:
        ExportError: The export failed (:class:`~densepred.export.diagnose.ExportError`).
    """
    model = model.eval()
    fmt = format_for(runtime)
    if fmt is None:
        return model
    spec = EXPORT_FORMATS.get(fmt)
    spec.check_installed()
    path = Path(tempfile.mkdtemp(dir=folder)) / f"model{spec.suffix}"
    convert(model, torch.from_numpy(x), fmt, path, None)
    return path


def runtime_call(source: Any, x: np.ndarray, runtime: str, threads: int) -> Callable[[], Any]:
    """One forward pass of ``source`` (a :func:`runtime_source`) on ``x``, as a callable to time."""
    run: Runner = RUNTIMES.get(runtime)(source, threads)
    return lambda: run(x)


def runtime_latency(
    model: nn.Module,
    input_shape: Sequence[int],
    runtime: str,
    threads: Sequence[int],
    warmup: int = 3,
    repeats: int = 10,
) -> list[dict[str, Any]]:
    """Median latency of one forward pass of ``model`` in ``runtime`` at each thread count.

    Args:
        model: The module (eval mode is set); for ONNX/TFLite it is exported first, once.
        input_shape: Full input shape, e.g. ``(1, 480, 640, 3)`` for the MAI contract.
        runtime: Name in :data:`~densepred.export.runtimes.RUNTIMES`.
        threads: Thread counts to time.
        warmup: Untimed runs before timing.
        repeats: Timed runs.

    Returns:
        One dict per thread count: ``runtime``, ``threads`` and the :func:`time_calls` fields.
        An export failure raises :class:`~densepred.export.diagnose.ExportError`.
    """
    x = example_input(input_shape)
    old_threads = torch.get_num_threads()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        source = runtime_source(model, x, runtime, folder)
        try:
            for count in threads:
                stats = time_calls(runtime_call(source, x, runtime, count), warmup, repeats)
                rows.append({"runtime": runtime, "threads": count, **stats})
        finally:
            torch.set_num_threads(old_threads)
    return rows


def benchmark_runtime(
    name: str,
    model: nn.Module,
    size: Sequence[int],
    runtime: str,
    threads: Sequence[int],
    in_channels: int = 3,
    nhwc: bool = False,
    warmup: int = 3,
    repeats: int = 10,
) -> list[dict[str, Any]]:
    """Table rows (one per thread count): name, input, params, MACs (PyTorch count) and latency.

    Args:
        name: Row label.
        model: The module.
        size: Input ``(height, width)``.
        runtime: Runtime name.
        threads: Thread counts.
        in_channels: Input channels.
        nhwc: The module takes channels-last input (e.g. the MAI contract).
        warmup: Untimed runs before timing.
        repeats: Timed runs.
    """
    height, width = size
    shape = (1, height, width, in_channels) if nhwc else (1, in_channels, height, width)
    common = {
        "name": name,
        "input": f"{height}x{width}",
        "params_m": count_parameters(model) / 1e6,
        "macs_g": count_macs(model, shape) / 1e9,
    }
    rows = runtime_latency(model, shape, runtime, threads, warmup, repeats)
    return [{**common, **row} for row in rows]
