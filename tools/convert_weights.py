"""`python tools/convert_weights.py ARGS` = `densepred convert-weights ARGS` (see `densepred convert-weights --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("convert-weights"))
