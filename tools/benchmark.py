"""Parameters, MACs and CPU latency of encoders or of a config's full model.

python tools/benchmark.py --encoders mobilenet_v2 resnet18 --size 480 640 --threads 2
python tools/benchmark.py --config configs/depth_mbv3_unet.yaml model.encoder=resnet18
python tools/benchmark.py --config configs/depth_mbv3_unet.yaml --config configs/depth_mbv3_unet.yaml model.decoder=smp.Unet "model.decoder_args={}"
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from collections.abc import Sequence
from typing import Any

import torch

from densepred.benchmark import benchmark_encoders, benchmark_module, csv_table, markdown_table
from densepred.errors import DensepredError
from densepred.fileio import atomic_write_text

DEFAULT_ENCODERS = (
    "mobilenet_v1",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "resnet18",
    "mixnet_s",
)
COLUMNS = ("name", "input", "params_m", "macs_g", "median_ms", "p90_ms", "threads")


def benchmark_config(
    path: str, overrides: Sequence[str], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """One row for the full model of a YAML config (after dotted overrides), named by both."""
    from densepred.config import load_config
    from densepred.task_registry import build_model

    config = load_config(path, list(overrides))
    in_channels = getattr(config.model, "in_channels", 3)
    row = benchmark_module(
        " ".join([config.name, *overrides]),
        build_model(config),
        args.size,
        in_channels=in_channels,
        warmup=args.warmup,
        repeats=args.repeats,
        threads=args.threads,
    )
    return [row]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, benchmark, print a Markdown table and write the requested files."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--encoders", nargs="+", default=list(DEFAULT_ENCODERS), help="friendly or timm names"
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
        "--threads", type=int, default=None, help="CPU threads (default: torch's current setting)"
    )
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs before timing")
    parser.add_argument(
        "--repeats", type=int, default=10, help="timed runs; the median is reported"
    )
    parser.add_argument("--csv", default=None, help="also write the table as CSV to this file")
    parser.add_argument("--md", default=None, help="also write the Markdown table to this file")
    args = parser.parse_args(argv)
    try:
        if args.config:
            rows = [
                row
                for path, *overrides in args.config
                for row in benchmark_config(path, overrides, args)
            ]
        else:
            rows = benchmark_encoders(
                args.encoders,
                args.size,
                include_top=args.include_top,
                warmup=args.warmup,
                repeats=args.repeats,
                threads=args.threads,
            )
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
