"""Thin wrapper: see densepred.ablation.cli.ablate_main."""

import sys

from densepred.ablation.cli import ablate_main

if __name__ == "__main__":
    sys.exit(ablate_main())
