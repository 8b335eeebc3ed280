"""Save feature-map grids of every encoder stage for one image.

python tools/visualize_features.py mobilenet_v3_large photo.jpg --num 16 --out features/
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from densepred.core.errors import DensepredError
from densepred.encoders import create_encoder
from densepred.viz.features import visualize_features


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, write the grids and print their paths."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("encoder", help="friendly or timm encoder name")
    parser.add_argument("image", help="image file")
    parser.add_argument(
        "--weights", default=None, help="weights file of the timm classifier (default: random init)"
    )
    parser.add_argument("--num", type=int, default=16, help="channels shown per stage")
    parser.add_argument(
        "--size", nargs=2, type=int, default=None, metavar=("H", "W"), help="resize the image first"
    )
    parser.add_argument("--out", default="feature_maps", help="output folder")
    args = parser.parse_args(argv)
    try:
        encoder = create_encoder(args.encoder, pretrained=args.weights or False)
        written = visualize_features(encoder, args.image, args.out, num=args.num, size=args.size)
    except DensepredError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
