"""`python tools/benchmark.py ARGS` = `densepred benchmark ARGS` (see `densepred benchmark --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("benchmark"))
