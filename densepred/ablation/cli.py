"""``tools/ablate.py SWEEP [key=value ...] [--jobs N] [--out DIR] [--retry-failed] [--remeasure]``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from densepred.cli import _run


def _ablate(args: argparse.Namespace) -> None:
    # imported after argparse: `tools/ablate.py --help` answers without loading torch
    from densepred.ablation.runner import remeasure, run_sweep
    from densepred.ablation.sweep import load_sweep

    sweep = load_sweep(args.sweep, args.overrides)
    if args.remeasure:
        remeasure(sweep, out_dir=args.out)
    else:
        run_sweep(sweep, out_dir=args.out, jobs=args.jobs, retry_failed=args.retry_failed)


def ablate_main(argv: Sequence[str] | None = None) -> int:
    """Run a backbone ablation sweep; returns the process exit code."""
    parser = argparse.ArgumentParser(
        description="Train, evaluate and benchmark every grid point of a sweep file; rerun to resume."
    )
    parser.add_argument("sweep", help="sweep YAML, e.g. configs/ablation_depth.yaml")
    parser.add_argument(
        "overrides",
        nargs="*",
        help="dotted overrides of the sweep file, e.g. benchmark.repeats=3 grid.model.encoder=[resnet18]",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="trials run in parallel processes (default 1)"
    )
    parser.add_argument(
        "--out", default=None, help="sweep folder (default: output_dir of the sweep file)"
    )
    parser.add_argument(
        "--retry-failed", action="store_true", help="run trials recorded as failed again"
    )
    parser.add_argument(
        "--remeasure",
        action="store_true",
        help="time the finished trials again without training (e.g. on a quieter machine)",
    )
    return _run(_ablate, parser, argv)
