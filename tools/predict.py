"""`python tools/predict.py ARGS` = `densepred predict ARGS` (see `densepred predict --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("predict"))
