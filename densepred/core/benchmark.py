"""Model cost: parameters, multiply-accumulates (MACs) and CPU latency, plus table writers.

MACs are counted by :class:`torch.utils.flop_counter.FlopCounterMode` (FLOPs / 2): every
convolution (grouped and depthwise ones by their per-group weight), transposed convolution and
matrix product; normalisation, activations and pooling are not counted, as in the papers'
MAC figures.
"""

from __future__ import annotations

import csv
import io
import math
import random
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameter elements (shared parameters counted once).

    Args:
        model: Any module (meta-device modules work).
        trainable_only: Count only parameters with ``requires_grad``.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@contextmanager
def _inference(model: nn.Module, threads: int | None = None) -> Iterator[int]:
    """Eval mode, no autograd and ``threads`` CPU threads; restores all three on exit.

    Yields:
        The thread count in use.
    """
    was_training, old_threads = model.training, torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    model.eval()
    try:
        with torch.inference_mode():
            yield torch.get_num_threads()
    finally:
        model.train(was_training)
        torch.set_num_threads(old_threads)


def _example(model: nn.Module, input_size: Sequence[int]) -> torch.Tensor:
    """Random input of shape ``input_size`` on the model's device."""
    device = next(model.parameters(), torch.empty(0)).device
    return torch.randn(*input_size, device=device)


def count_macs(model: nn.Module, input_size: Sequence[int]) -> int:
    """Multiply-accumulates of one forward pass.

    Args:
        model: Any module taking one tensor.
        input_size: Full input shape, e.g. ``(1, 3, 480, 640)``.
    """
    with _inference(model), FlopCounterMode(display=False) as counter:
        model(_example(model, input_size))
    return counter.get_total_flops() // 2


def time_calls(
    run: Callable[[], Any], warmup: int = 3, repeats: int = 10
) -> dict[str, float | int]:
    """Wall-clock time of ``run()``: ``warmup`` untimed calls, then ``repeats`` timed ones.

    Returns:
        ``median_ms``, ``p90_ms`` (nearest rank), ``mean_ms``, ``min_ms`` and ``repeats``.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    times: list[float] = []
    for i in range(warmup + repeats):
        start = time.perf_counter()
        run()
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1000.0)
    ordered = sorted(times)
    return {
        "median_ms": statistics.median(ordered),
        "p90_ms": ordered[math.ceil(0.9 * len(ordered)) - 1],  # nearest-rank percentile
        "mean_ms": statistics.fmean(ordered),
        "min_ms": ordered[0],
        "repeats": repeats,
    }


def time_interleaved(
    runs: Mapping[str, Callable[[], Any]],
    warmup: int = 2,
    repeats: int = 5,
    rounds: int = 10,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Time several callables against each other: ``rounds`` rounds, each timing every callable
    once (``warmup`` untimed calls, then the median of ``repeats`` timed ones) in a shuffled order.

    A slow phase of the machine (another process, frequency scaling) then lands on every
    callable about alike instead of on whichever was timed during it, and round ``r`` of one
    callable can be compared with round ``r`` of another.

    Args:
        runs: Name -> callable.
        warmup: Untimed calls before the timed ones, in every round.
        repeats: Timed calls per round.
        rounds: Rounds.
        seed: Seed of the shuffled order.

    Returns:
        Name -> the median in milliseconds of each round, in round order.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    order = list(runs)
    shuffler = random.Random(seed)
    out: dict[str, list[float]] = {name: [] for name in order}
    for _ in range(rounds):
        shuffler.shuffle(order)
        for name in order:
            out[name].append(time_calls(runs[name], warmup, repeats)["median_ms"])
    return out


def measure_latency(
    model: nn.Module,
    input_size: Sequence[int],
    warmup: int = 3,
    repeats: int = 10,
    threads: int | None = None,
) -> dict[str, float | int]:
    """Wall-clock time of one forward pass in eval mode without autograd.

    Args:
        model: Any module taking one tensor (on CPU for CPU timings).
        input_size: Full input shape, e.g. ``(1, 3, 480, 640)``.
        warmup: Untimed runs first.
        repeats: Timed runs.
        threads: ``torch.set_num_threads`` for the runs (restored afterwards); ``None`` keeps
            the current setting.

    Returns:
        The :func:`time_calls` fields and ``threads``.
    """
    x = _example(model, input_size)
    with _inference(model, threads) as used_threads:
        stats = time_calls(lambda: model(x), warmup, repeats)
    return {**stats, "threads": used_threads}


def benchmark_module(
    name: str,
    model: nn.Module,
    size: Sequence[int],
    in_channels: int = 3,
    warmup: int = 3,
    repeats: int = 10,
    threads: int | None = None,
) -> dict[str, Any]:
    """Parameters, MACs and latency of any module on one ``in_channels x H x W`` image.

    Args:
        name: Row label.
        model: The module.
        size: Input ``(height, width)``.
        in_channels: Input channels.
        warmup: Untimed runs before timing.
        repeats: Timed runs.
        threads: CPU threads for the timing (``None``: current setting).

    Returns:
        A table row: ``name``, ``input`` (``HxW``), ``params_m``, ``macs_g``, and the
        :func:`measure_latency` fields.
    """
    input_size = (1, in_channels, *size)
    return {
        "name": name,
        "input": "x".join(str(s) for s in size),
        "params_m": count_parameters(model) / 1e6,
        "macs_g": count_macs(model, input_size) / 1e9,
        **measure_latency(model, input_size, warmup=warmup, repeats=repeats, threads=threads),
    }


def _columns(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None) -> list[str]:
    """``columns``, or every key of ``rows`` in first-seen order."""
    if columns is not None:
        return list(columns)
    return list(dict.fromkeys(key for row in rows for key in row))


def _cell(value: Any, floatfmt: str) -> str:
    return format(value, floatfmt) if isinstance(value, float) else str(value)


def markdown_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, floatfmt: str = ".2f"
) -> str:
    """Rows of dicts as a Markdown table; missing cells are empty.

    Args:
        rows: Table rows.
        columns: Columns in order (default: every key, first-seen order).
        floatfmt: Format spec for float cells.
    """
    cols = _columns(rows, columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c, ""), floatfmt) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def csv_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows of dicts as CSV text with a header line (full float precision).

    Args:
        rows: Table rows.
        columns: Columns in order (default: every key, first-seen order).
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=_columns(rows, columns), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
