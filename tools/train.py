"""`python tools/train.py ARGS` = `densepred train ARGS` (see `densepred train --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("train"))
