"""``tools/prepare_data.py CONFIG [key=value ...] [--out DIR] [--workers N] [--chunk-size SIZE]
[--overwrite]``: write a config's data once as a cache that ``data.cache`` trains from."""

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


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and prepare the cache; exit code 2 on a densepred error."""
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
