"""`python tools/real_photo_demo.py ARGS` = `densepred real-photos ARGS` (see `densepred real-photos --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("real-photos"))
