"""Thin wrapper: see densepred.data.cli.prepare.main."""

import sys

from densepred.data.cli.prepare import main

if __name__ == "__main__":
    sys.exit(main())
