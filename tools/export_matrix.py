"""Export matrix for docs/export.md: encoders x decoders x formats, on tiny synthetic data.

python tools/export_matrix.py --out runs/export_matrix
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from densepred.core.benchmark import markdown_table
from densepred.export.matrix import MATRIX_ENCODERS, decoder_variants, run_matrix

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default=str(ROOT / "configs" / "depth_mbv3_unet.yaml"))
    parser.add_argument("--out", default="runs/export_matrix")
    parser.add_argument("--formats", nargs="+", default=["onnx", "tflite"])
    parser.add_argument("--size", nargs=2, type=int, default=[64, 80], metavar=("H", "W"))
    args = parser.parse_args()
    out = Path(args.out)
    common = [
        f"data.root={out / 'data'}",
        "data.args={num_train: 4, num_val: 4, size: [96, 128], seed: 0}",
        f"data.image_size=[{args.size[0]}, {args.size[1]}]",
        "data.num_workers=0",
    ]
    # every decoder on the main encoder, every encoder on the main decoder
    cells = {f"mobilenet_v3_large/{k}": v for k, v in decoder_variants().items()}
    cells |= {
        f"{e}/unet-transposed": [f"model.encoder={e}"]
        for e in MATRIX_ENCODERS
        if e != "mobilenet_v3_large"
    }
    rows = run_matrix(
        args.config, {k.replace("/", "__"): v for k, v in cells.items()}, args.formats, out, common
    )
    columns = [
        "label",
        "format",
        "status",
        "size_mb",
        "max_rel_diff",
        "si_rmse",
        "seconds",
        "error",
    ]
    print(markdown_table(rows, columns, floatfmt=".3g"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
