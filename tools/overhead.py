"""`python tools/overhead.py ARGS` = `densepred overhead ARGS` (see `densepred overhead --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("overhead"))
