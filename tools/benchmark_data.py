"""Thin wrapper: see densepred.data.cli.benchmark.main."""

import sys

from densepred.data.cli.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
