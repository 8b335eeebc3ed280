"""Thin wrapper: see densepred.export.cli.export_main.

python tools/export.py runs/depth_mbv3_unet/checkpoints/best.ckpt --format tflite --mai
"""

import sys

from densepred.export.cli import export_main

if __name__ == "__main__":
    sys.exit(export_main())
