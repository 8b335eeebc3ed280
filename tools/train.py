"""Thin wrapper: see densepred.cli.train_main."""

import sys

from densepred.cli import train_main

if __name__ == "__main__":
    sys.exit(train_main())
