"""`python tools/export_matrix.py ARGS` = `densepred export-matrix ARGS` (see `densepred export-matrix --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("export-matrix"))
