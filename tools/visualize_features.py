"""`python tools/visualize_features.py ARGS` = `densepred visualize-features ARGS` (see `densepred visualize-features --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("visualize-features"))
