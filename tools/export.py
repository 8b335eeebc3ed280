"""`python tools/export.py ARGS` = `densepred export ARGS` (see `densepred export --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("export"))
