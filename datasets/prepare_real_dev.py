"""`python datasets/prepare_real_dev.py ARGS` = `densepred prepare-real-dev ARGS`: write the real
RGB-D pairs that packages ship (scikit-image's Middlebury Motorcycle) as a dev folder, for
evaluation only (default `datasets/real_dev`; needs `pip install -e ".[realdev]"`).
"""

import sys

from densepred.cli.main import run_tool

if __name__ == "__main__":
    sys.exit(run_tool("prepare-real-dev"))
