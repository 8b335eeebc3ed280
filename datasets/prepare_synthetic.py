"""Generate the procedural synthetic dataset (the set ``data.format: synthetic`` uses).

Usage::

    python datasets/prepare_synthetic.py                       # default set (600 + 100 at 192x256)
    python datasets/prepare_synthetic.py --num-train 2000 --size 240 320 --seed 1
    python datasets/prepare_synthetic.py --size 96 128 --object-distance 1 2   # cls_mbv2's set

Generation happens at most once per parameter set; the printed folder is what training reads.
"""

from __future__ import annotations

import argparse
import time

from densepred.data.synthetic.dataset import (
    DEFAULT_NUM_TRAIN,
    DEFAULT_NUM_VAL,
    DEFAULT_OBJECT_DISTANCE,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    ensure_synthetic,
)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and generate the set."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--root", default="datasets/synthetic", help="parent folder of generated sets"
    )
    parser.add_argument("--num-train", type=int, default=DEFAULT_NUM_TRAIN, help="training images")
    parser.add_argument("--num-val", type=int, default=DEFAULT_NUM_VAL, help="validation images")
    parser.add_argument(
        "--size", type=int, nargs=2, default=DEFAULT_SIZE, metavar=("H", "W"), help="image size"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="dataset seed")
    parser.add_argument(
        "--object-distance",
        type=float,
        nargs=2,
        default=DEFAULT_OBJECT_DISTANCE,
        metavar=("NEAR", "FAR"),
        help="metres from the camera to the object it is aimed at (nearer: larger objects)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="rendering processes (default: CPUs, max 8)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    folder = ensure_synthetic(
        args.root,
        args.num_train,
        args.num_val,
        tuple(args.size),
        args.seed,
        args.workers,
        tuple(args.object_distance),
    )
    print(f"synthetic set ready in {folder} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
