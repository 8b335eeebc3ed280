"""`python tools/prepare_data.py ARGS` = `densepred prepare-data ARGS` (see `densepred prepare-data --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("prepare-data"))
