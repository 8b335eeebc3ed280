"""`python tools/depth_cues.py ARGS` = `densepred depth-cues ARGS` (see `densepred depth-cues --help`)."""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("depth-cues"))
