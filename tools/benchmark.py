"""Parameters, MACs and CPU latency of encoders or of a config's full model, in a deployment runtime.

python tools/benchmark.py --encoders mobilenet_v2 resnet18 --size 480 640 --threads 2
python tools/benchmark.py --config configs/depth_mbv3_unet.yaml model.encoder=resnet18
python tools/benchmark.py --config configs/depth_mbv3_unet.yaml --config configs/depth_mbv3_unet.yaml model.decoder=smp.Unet "model.decoder_args={}"
python tools/benchmark.py --config configs/depth_mbv3_unet.yaml --mai --runtime torch onnxruntime tflite --threads 1 2 4
python tools/benchmark.py --encoders mobilenet_v3_large --config configs/depth_mbv3_unet.yaml --channels-last

--channels-last and --compile change how eager PyTorch runs the model (torch runtime only).

--runtime onnxruntime|tflite exports each model first (needs pip install -e ".[export]").
--mai times the MAI contract: 1xHxWx3 RGB input at --size, the network at its training size.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from collections.abc import Sequence

import torch
from torch import nn

from densepred.core.benchmark import csv_table, markdown_table
from densepred.core.errors import ConfigError, DensepredError
from densepred.core.fileio import atomic_write_text
from densepred.encoders import create_encoder
from densepred.export.latency import benchmark_runtime
from densepred.export.matrix import MATRIX_ENCODERS
from densepred.export.runtimes import RUNTIMES
from densepred.export.wrappers import MAI_RESIZES, MaiDepth

DEFAULT_ENCODERS = MATRIX_ENCODERS
COLUMNS = ("name", "input", "params_m", "macs_g", "runtime", "median_ms", "p90_ms", "threads")


def config_model(
    path: str, overrides: Sequence[str], mai: str | None, size: Sequence[int]
) -> tuple[str, nn.Module, int]:
    """Name, module and input channels of a YAML config's model (MAI-wrapped when ``mai``
    names the input resize, a key of ``MAI_RESIZES``)."""
    from densepred.app.config import load_config
    from densepred.app.tasks import TASKS, build_model

    config = load_config(path, list(overrides))
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


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, benchmark, print a Markdown table and write the requested files."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--encoders",
        nargs="+",
        default=None,
        help="friendly or timm names (default: the export matrix's encoders when no --config)",
    )
    parser.add_argument(
        "--config",
        nargs="+",
        action="append",
        metavar="ARG",
        help="CONFIG [key=value ...]: benchmark the config's model (repeat for several models)",
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
        "--mai",
        action="store_true",
        help="configs: time the MAI contract (resize inside the graph)",
    )
    parser.add_argument(
        "--mai-resize",
        default="area",
        choices=list(MAI_RESIZES),
        help="with --mai: how the graph shrinks the input, as tools/export.py --mai-resize",
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
    parser.add_argument(
        "--repeats", type=int, default=10, help="timed runs; the median is reported"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="time every row this many times, interleaved, and keep each row's fastest round "
        "(robust to other load on a shared machine)",
    )
    parser.add_argument("--csv", default=None, help="also write the table as CSV to this file")
    parser.add_argument("--md", default=None, help="also write the Markdown table to this file")
    args = parser.parse_args(argv)
    threads = args.threads or [torch.get_num_threads()]
    try:
        models = [
            config_model(path, overrides, args.mai_resize if args.mai else None, args.size)
            for path, *overrides in args.config or []
        ]
        encoders = (
            args.encoders if args.encoders is not None else [] if models else DEFAULT_ENCODERS
        )
        models += [
            (name, create_encoder(name, include_top=args.include_top), 3) for name in encoders
        ]
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
    except DensepredError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = markdown_table(rows, COLUMNS)
    stamp = datetime.date.today().isoformat()
    print(
        f"{stamp}, torch {torch.__version__}, {platform.machine()} CPU ({os.cpu_count()} logical cores), batch 1\n"
    )
    print(table, end="")
    if args.md:
        atomic_write_text(args.md, table)
    if args.csv:
        atomic_write_text(args.csv, csv_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
