"""`python tools/benchmark_data.py ARGS` = `densepred benchmark-data ARGS` (see `densepred benchmark-data --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("benchmark-data"))
