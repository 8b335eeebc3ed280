"""Thin wrapper: see densepred.cli.dev_scores_main (the work is in densepred.app.devscores)."""

import sys

from densepred.cli import dev_scores_main

if __name__ == "__main__":
    sys.exit(dev_scores_main())
