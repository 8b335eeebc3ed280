"""Thin wrapper: see densepred.cli.evaluate_main."""

import sys

from densepred.cli import evaluate_main

if __name__ == "__main__":
    sys.exit(evaluate_main())
