"""`python tools/baseline.py ARGS` = `densepred baseline ARGS` (see `densepred baseline --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("baseline"))
