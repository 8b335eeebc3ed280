"""`python tools/dev_scores.py ARGS` = `densepred dev-scores ARGS` (see `densepred dev-scores --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("dev-scores"))
