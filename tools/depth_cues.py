"""Thin wrapper: see densepred.cli.cues_main (the work is in densepred.app.cues)."""

import sys

from densepred.cli import cues_main

if __name__ == "__main__":
    sys.exit(cues_main())
