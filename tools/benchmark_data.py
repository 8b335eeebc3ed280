"""Thin wrapper: see densepred.data_cli.benchmark_main."""

import sys

from densepred.data_cli import benchmark_main

if __name__ == "__main__":
    sys.exit(benchmark_main())
