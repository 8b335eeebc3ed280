"""Framework overhead: ms per training step through densepred (tools/train.py's Trainer) against a
plain PyTorch loop on the same model, losses, optimizer and data loader. Run it alone: another
process that uses the CPU makes the comparison meaningless.

python tools/overhead.py configs/depth_mbv3_unet.yaml configs/seg_mbv3_unet.yaml configs/cls_mbv2.yaml configs/gan_pix2pix_rgb2depth.yaml
python tools/overhead.py configs/depth_mbv3_unet.yaml --set trainer.precision=bf16-mixed
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from collections.abc import Sequence

import torch

from densepred.app.config import load_config
from densepred.app.overhead import measure_overhead
from densepred.core.benchmark import markdown_table
from densepred.core.errors import DensepredError
from densepred.core.fileio import atomic_write_text


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, compare each config, print a Markdown table (and write it with --md)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("configs", nargs="+", help="YAML configs, one row each")
    parser.add_argument(
        "--set", nargs="+", default=[], metavar="KEY=VALUE", help="overrides for every config"
    )
    parser.add_argument("--steps", type=int, default=40, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=8, help="untimed steps first")
    parser.add_argument(
        "--repeats", type=int, default=2, help="interleaved runs of each side; the best counts"
    )
    parser.add_argument("--md", default=None, help="also write the Markdown table to this file")
    args = parser.parse_args(argv)
    overrides = ["trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]
    try:
        rows = [
            measure_overhead(
                load_config(path, [*overrides, *args.set]), args.steps, args.warmup, args.repeats
            ).row()
            for path in args.configs
        ]
    except DensepredError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = markdown_table(rows, floatfmt=".1f")
    print(
        f"\n{datetime.date.today().isoformat()}, torch {torch.__version__}, {platform.machine()} CPU "
        f"({os.cpu_count()} logical cores), {torch.get_num_threads()} threads\n"
    )
    print(table, end="")
    if args.md:
        atomic_write_text(args.md, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
