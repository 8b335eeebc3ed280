"""Write the real RGB-D pairs that packages ship (scikit-image's Middlebury Motorcycle) as a dev
folder for evaluation only: ``python datasets/prepare_real_dev.py [--root datasets/real_dev]``.

See :mod:`densepred.data.packaged_rgbd` for the source, licence and depth conversion.
"""

from __future__ import annotations

import argparse
import sys

from densepred.cli import _run
from densepred.data.packaged_rgbd import write_packaged_rgbd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default="datasets/real_dev", help="dev folder to write")
    return _run(
        lambda args: print("\n".join(map(str, write_packaged_rgbd(args.root)))), parser, argv
    )


if __name__ == "__main__":
    sys.exit(main())
