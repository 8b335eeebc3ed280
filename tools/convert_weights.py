"""Convert a weights file to a timm model's key names by tensor order (see densepred.encoders.convert).

    python tools/convert_weights.py efficientnet-lite0-57934424.pth efficientnet_lite0 \
        weights/efficientnet_lite0.safetensors
"""

import argparse
import sys

from densepred.core.errors import DensepredError
from densepred.encoders.convert import convert_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", help="weights file of another library (.pth/.pt/.bin/.safetensors)")
    parser.add_argument("encoder", help="friendly or timm name of the target model")
    parser.add_argument("out", help="output .safetensors file")
    args = parser.parse_args(argv)
    try:
        print(convert_file(args.src, args.encoder, args.out))
    except DensepredError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
