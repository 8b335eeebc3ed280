"""Thin wrapper: see densepred.data_cli.prepare_main."""

import sys

from densepred.data_cli import prepare_main

if __name__ == "__main__":
    sys.exit(prepare_main())
