"""Thin wrapper: see densepred.cli.baseline_main."""

import sys

from densepred.cli import baseline_main

if __name__ == "__main__":
    sys.exit(baseline_main())
