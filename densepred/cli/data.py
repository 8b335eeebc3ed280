"""``densepred prepare-data`` (a config's data once as a LitData cache that ``data.cache`` trains
from) and ``densepred benchmark-data`` (images/s of the training input pipeline against the
model's training step)."""

from __future__ import annotations

import argparse
import json

from densepred.cli.command import config_path, register


def _prepare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="depth or segmentation config (path or shipped name)")
    parser.add_argument(
        "--out",
        default=None,
        help="cache folder or s3:// prefix (default: the config's data.cache)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="decoding processes (default: CPUs, at most 8)"
    )
    parser.add_argument(
        "--chunk-size", default="64MB", help="shard size (default 64MB, LitData's default)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace a complete cache of other data settings"
    )


def _prepare(args: argparse.Namespace) -> None:
    from densepred.app.config import load_config
    from densepred.app.prepare_data import prepare_data

    config = load_config(config_path(args.config), args.overrides)
    manifest = prepare_data(
        config,
        out=args.out,
        workers=args.workers,
        chunk_bytes=args.chunk_size,
        overwrite=args.overwrite,
    )
    where = args.out or config.data.cache
    print(f"cache: {where}")
    print(json.dumps({"splits": manifest["splits"], "spec": manifest["spec"]}, indent=2))
    print(f"train from it: densepred train {args.config} data.cache={where}")


register(
    "prepare-data",
    "decode and resize a depth or segmentation config's splits once, as training does, into "
    'LitData shards that data.cache=DIR trains from (needs pip install -e ".[stream]"); '
    "interrupted, it resumes",
    _prepare_arguments,
    _prepare,
    ("",),
)


def _benchmark_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="depth or segmentation config (path or shipped name)")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="DataLoader worker counts (1 2)"
    )
    parser.add_argument("--images", type=int, default=100, help="items timed stage by stage")
    parser.add_argument("--epochs", type=int, default=2, help="timed loader epochs per round")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repeats (best kept)")
    parser.add_argument(
        "--steps", type=int, default=20, help="timed training steps (0: no model measurement)"
    )
    parser.add_argument("--out", default=None, help="also write the numbers as JSON")


def _benchmark(args: argparse.Namespace) -> None:
    from densepred.app.benchmark_data import benchmark_data, report
    from densepred.app.config import load_config
    from densepred.core.fileio import atomic_write_json

    config = load_config(config_path(args.config), args.overrides)
    result = benchmark_data(
        config,
        workers=args.workers,
        images=args.images,
        epochs=args.epochs,
        rounds=args.rounds,
        steps=args.steps,
    )
    print(report(result, config.data.batch_size))
    if args.out:
        atomic_write_json(args.out, result)


register(
    "benchmark-data",
    "images/s of a depth or segmentation config's training pipeline (decode, resize, augment, "
    "collate; loaders with N workers) from its files and from data.cache, beside the model's "
    "training step and a GPU estimate (run it alone)",
    _benchmark_arguments,
    _benchmark,
    ("",),
)
