"""`python tools/ablate.py ARGS` = `densepred ablate ARGS` (see `densepred ablate --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("ablate"))
