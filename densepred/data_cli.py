"""Command-line front ends of the data tools, behind ``tools/prepare_data.py`` and
``tools/benchmark_data.py``; each returns a process exit code (2 with the message on a densepred
error, as :mod:`densepred.cli`'s commands). Their work is imported after argparse, so ``--help``
answers without loading torch.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence

from densepred.cli import _run


def _prepare(args: argparse.Namespace) -> None:
    # imported after argparse: `--help` answers without loading torch
    from densepred.app.config import load_config
    from densepred.app.prepare_data import prepare_data

    logging.basicConfig(format="%(message)s")
    logging.getLogger("densepred").setLevel(logging.INFO)  # progress lines, not LitData's
    config = load_config(args.config, args.overrides)
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
    print(f"train from it: python tools/train.py {args.config} data.cache={where}")


def prepare_main(argv: Sequence[str] | None = None) -> int:
    """``tools/prepare_data.py CONFIG [key=value ...] [--out DIR] [--workers N] [--chunk-size SIZE]
    [--overwrite]``: write a config's data once as a cache that ``data.cache`` trains from."""
    parser = argparse.ArgumentParser(
        description="Decode and resize a depth or segmentation config's splits once, as training "
        'does, into LitData shards (needs the stream extra: pip install -e ".[stream]"). '
        "Train from them with data.cache=DIR: the same items, no image decoding, the training "
        "split streamed to every DDP rank and worker. Interrupted, it resumes; the cache is "
        "usable only once complete."
    )
    parser.add_argument("config", help="depth or segmentation YAML config")
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. data.root=/data/mai")
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
        "--overwrite",
        action="store_true",
        help="replace a complete cache made for other data settings",
    )
    return _run(_prepare, parser, argv)


def _benchmark(args: argparse.Namespace) -> None:
    # imported after argparse: `--help` answers without loading torch
    from densepred.app.benchmark_data import benchmark_data, report
    from densepred.app.config import load_config
    from densepred.core.fileio import atomic_write_json

    config = load_config(args.config, args.overrides)
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


def benchmark_main(argv: Sequence[str] | None = None) -> int:
    """``tools/benchmark_data.py CONFIG [key=value ...] [--workers N ...] [--images N]
    [--epochs N] [--rounds N] [--steps N] [--out FILE]``: images/s of the training input pipeline
    (files, and the cache of ``data.cache``) against the model's training step and a GPU estimate."""
    parser = argparse.ArgumentParser(
        description="Images/s of a depth or segmentation config's training pipeline (decode, "
        "resize, augment, collate; loaders with N workers) from its files and, with "
        "data.cache=DIR, from that prepared cache; beside it the model's training step on this "
        "CPU and an estimate for one GPU. Run it on an otherwise idle machine."
    )
    parser.add_argument("config", help="depth or segmentation YAML config")
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. data.cache=DIR")
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
    return _run(_benchmark, parser, argv)
