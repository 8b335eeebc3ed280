"""`python tools/evaluate.py ARGS` = `densepred evaluate ARGS` (see `densepred evaluate --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("evaluate"))
