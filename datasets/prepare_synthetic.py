"""`python datasets/prepare_synthetic.py ARGS` = `densepred prepare-synthetic ARGS`: render the
procedural synthetic dataset (the set `data.format: synthetic` uses) into a folder.

    python datasets/prepare_synthetic.py                       # default set (600 + 100 at 192x256)
    python datasets/prepare_synthetic.py --num-train 2000 --size 240 320 --seed 1
"""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("prepare-synthetic"))
