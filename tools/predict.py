"""Thin wrapper: see densepred.cli.predict_main."""

import sys

from densepred.cli import predict_main

if __name__ == "__main__":
    sys.exit(predict_main())
