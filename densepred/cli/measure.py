"""``densepred benchmark`` (parameters, MACs and latency in a deployment runtime) and
``densepred overhead`` (a densepred training step against a plain PyTorch loop)."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
from collections.abc import Sequence
from typing import Any

from densepred.cli.command import config_path, register
from densepred.core.errors import ConfigError

COLUMNS = ("name", "input", "params_m", "macs_g", "runtime", "median_ms", "p90_ms", "threads")


def _stamp(batch: str) -> str:
    import torch

    return (
        f"{datetime.date.today().isoformat()}, torch {torch.__version__}, {platform.machine()} CPU "
        f"({os.cpu_count()} logical cores), {batch}"
    )


def _write_tables(rows: list[dict[str, Any]], md: str | None, csv: str | None, **fmt: Any) -> None:
    from densepred.core.benchmark import csv_table, markdown_table
    from densepred.core.fileio import atomic_write_text

    table = markdown_table(rows, **fmt)
    print(table, end="")
    if md:
        atomic_write_text(md, table)
    if csv:
        atomic_write_text(csv, csv_table(rows))


def config_model(
    path: str, overrides: Sequence[str], mai: str | None, size: Sequence[int]
) -> tuple[str, Any, int]:
    """Name, module and input channels of a config's model (MAI-wrapped when ``mai`` names the
    input resize, a key of ``densepred.export.wrappers.MAI_RESIZES``)."""
    from densepred.app.config import load_config
    from densepred.app.tasks import TASKS, build_model
    from densepred.export.wrappers import MaiDepth

    config = load_config(config_path(path), list(overrides))
    model = build_model(config)
    name = " ".join([config.name, *overrides])
    if not mai:
        return name, model, config.model.in_channels
    train_size = config.data.image_size
    if not TASKS.get(config.task_name).mai_export or train_size is None:
        raise ConfigError(f"--mai needs a depth config with data.image_size; '{path}' is not one.")
    return (
        f"{name} (MAI {size[0]}x{size[1]} -> {train_size[0]}x{train_size[1]}, {mai})",
        MaiDepth(model, train_size, size, resize=mai),
        3,
    )


def _benchmark_arguments(parser: argparse.ArgumentParser) -> None:
    from densepred.export.runtimes import RUNTIMES
    from densepred.export.wrappers import MAI_RESIZES

    parser.add_argument(
        "--encoders",
        nargs="+",
        default=None,
        help="friendly or timm names (default: the export matrix's encoders when no --config)",
    )
    parser.add_argument(
        "--config",
        nargs="+",
        default=[],
        metavar="CONFIG",
        help="benchmark these configs' models (paths or shipped names); key=value overrides "
        "apply to every one",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="'KEY=VALUE ...'",
        help="one more row per config with these overrides on top (quoted, space-separated), "
        "e.g. --variant \"model.decoder=smp.Unet 'model.decoder_args={}'\"; repeat for more",
    )
    parser.add_argument(
        "--size", nargs=2, type=int, default=[480, 640], metavar=("H", "W"), help="input size"
    )
    parser.add_argument(
        "--include-top", action="store_true", help="benchmark the classifiers, not the encoders"
    )
    parser.add_argument(
        "--runtime",
        nargs="+",
        default=["torch"],
        choices=RUNTIMES.names(),
        help="runtimes that run the model, e.g. torch onnxruntime tflite (one row each)",
    )
    parser.add_argument(
        "--mai", action="store_true", help="configs: time the MAI contract (resize inside the graph)"
    )
    parser.add_argument(
        "--mai-resize",
        default="area",
        choices=list(MAI_RESIZES),
        help="with --mai: how the graph shrinks the input, as densepred export --mai-resize",
    )
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=None,
        help="CPU thread counts, e.g. 1 2 4 (default: torch's current setting)",
    )
    parser.add_argument(
        "--channels-last",
        action="store_true",
        help="torch runtime: weights in NHWC memory format (oneDNN's fast layout on CPU)",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="torch runtime: torch.compile the model first (the warm-up runs compile it)",
    )
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs before timing")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs; the median is reported")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="time every row this many times, interleaved, and keep each row's fastest round "
        "(robust to other load on a shared machine)",
    )
    parser.add_argument("--csv", default=None, help="also write the table as CSV to this file")
    parser.add_argument("--md", default=None, help="also write the Markdown table to this file")


def _benchmark(args: argparse.Namespace) -> None:
    import torch

    from densepred.encoders import create_encoder
    from densepred.export.latency import benchmark_runtime
    from densepred.export.matrix import MATRIX_ENCODERS
    from densepred.export.wrappers import MaiDepth

    threads = args.threads or [torch.get_num_threads()]
    variants = [[], *(shlex.split(v) for v in args.variant)]
    mai = args.mai_resize if args.mai else None
    models = [
        config_model(path, [*args.overrides, *variant], mai, args.size)
        for path in args.config
        for variant in variants
    ]
    encoders = args.encoders if args.encoders is not None else [] if models else MATRIX_ENCODERS
    models += [(name, create_encoder(name, include_top=args.include_top), 3) for name in encoders]
    for _, model, _ in models:
        if args.channels_last:
            model.to(memory_format=torch.channels_last)
        if args.compile:
            model.compile()
    rounds = [
        [
            row
            for name, model, channels in models
            for runtime in args.runtime
            for row in benchmark_runtime(
                name,
                model,
                args.size,
                runtime,
                threads,
                in_channels=channels,
                nhwc=isinstance(model, MaiDepth),
                warmup=args.warmup,
                repeats=args.repeats,
            )
        ]
        for _ in range(args.rounds)
    ]
    rows = [min(same, key=lambda r: r["median_ms"]) for same in zip(*rounds, strict=True)]
    print(_stamp("batch 1") + "\n")
    _write_tables(rows, args.md, args.csv, columns=COLUMNS)


register(
    "benchmark",
    "parameters, MACs and CPU latency of encoders or of configs' models, in a deployment runtime",
    _benchmark_arguments,
    _benchmark,
    ("",),
)


def _overhead_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("configs", nargs="+", help="configs (paths or shipped names), one row each")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=8, help="untimed steps first")
    parser.add_argument(
        "--repeats", type=int, default=2, help="interleaved runs of each side; the best counts"
    )
    parser.add_argument("--md", default=None, help="also write the Markdown table to this file")


def _overhead(args: argparse.Namespace) -> None:
    import torch

    from densepred.app.config import load_config
    from densepred.app.overhead import measure_overhead

    quiet = ["trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]
    rows = [
        measure_overhead(
            load_config(config_path(path), [*quiet, *args.overrides]),
            args.steps,
            args.warmup,
            args.repeats,
        ).row()
        for path in args.configs
    ]
    print("\n" + _stamp(f"{torch.get_num_threads()} threads") + "\n")
    _write_tables(rows, args.md, None, floatfmt=".1f")


register(
    "overhead",
    "ms per training step through densepred against a plain PyTorch loop (run it alone)",
    _overhead_arguments,
    _overhead,
    ("",),
)
