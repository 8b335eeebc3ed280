"""Parameters, MACs and latency of encoders built by name (random weights)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from densepred.core.benchmark import benchmark_module
from densepred.encoders.factory import create_encoder


def benchmark_encoders(
    names: Sequence[str],
    size: Sequence[int],
    include_top: bool = False,
    in_channels: int = 3,
    warmup: int = 3,
    repeats: int = 10,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """:func:`benchmark_module` rows for encoders built by ``create_encoder`` (random weights).

    Args:
        names: Friendly or timm encoder names.
        size: Input ``(height, width)``.
        include_top: Measure the classifiers instead of the feature encoders.
        in_channels: Input channels.
        warmup: Untimed runs before timing.
        repeats: Timed runs.
        threads: CPU threads for the timing (``None``: current setting).
    """
    return [
        benchmark_module(
            name,
            create_encoder(name, include_top=include_top, in_channels=in_channels),
            size,
            in_channels=in_channels,
            warmup=warmup,
            repeats=repeats,
            threads=threads,
        )
        for name in names
    ]
