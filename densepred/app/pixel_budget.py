"""Predict refuses inputs too large for memory before any work: a pixel budget (``--max-pixels``).

Torch-free, so the command line can show the default in its help without importing torch.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from densepred.core.errors import DataError

PREDICT_BASE_BYTES = 1_200_000_000
"""Peak memory of a predict process before the inputs' own share: the interpreter, torch and a
main-config model (1.14 GB measured, see :data:`PREDICT_BYTES_PER_PIXEL`)."""

PREDICT_BYTES_PER_PIXEL = 72
"""Peak memory per input pixel of predicting with a fixed-size model (decoding, the output at the
input's size, the colour image and the writers): 71.0-71.1 bytes per pixel measured on the main
config at 2000x2000, 4000x4000 and 6000x6000 (docs/reliability.md). A model at native size
(``data.image_size: null``) needs more."""

MEMORY_BUDGET_BYTES = 4_000_000_000
"""The memory the default budget fits in."""

DEFAULT_MAX_PIXELS = (
    (MEMORY_BUDGET_BYTES - PREDICT_BASE_BYTES) // PREDICT_BYTES_PER_PIXEL // 1_000_000 * 1_000_000
)
"""``--max-pixels`` default: the largest input (whole millions of pixels) whose prediction fits
in 4 GB: 38,000,000 pixels, e.g. 7500x5000."""


def predict_memory(pixels: int) -> float:
    """About how many bytes predicting an input of ``pixels`` pixels takes at the peak."""
    return PREDICT_BASE_BYTES + pixels * PREDICT_BYTES_PER_PIXEL


def image_size(path: Path) -> tuple[int, int] | None:
    """``(H, W)`` of an image from its header, without decoding it; None when Pillow cannot
    tell (the decoder then reports the file)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # we judge the size here
        try:
            with Image.open(path) as img:
                return img.height, img.width
        except (UnidentifiedImageError, OSError, SyntaxError):
            return None
        finally:
            Image.MAX_IMAGE_PIXELS = limit


def check_pixel_budget(files: Iterable[Path], max_pixels: int) -> None:
    """Refuse, before any work, an input with more than ``max_pixels`` pixels.

    Raises:
        DataError: Naming the first such file, its size, the ``--max-pixels`` it needs and
            about how much memory predicting it takes.
    """
    for path in files:
        size = image_size(path)
        if size is None or size[0] * size[1] <= max_pixels:
            continue
        pixels = size[0] * size[1]
        raise DataError(
            f"input '{path}' is {size[1]}x{size[0]} = {pixels:,} pixels, over the budget of "
            f"--max-pixels {max_pixels:,} (predicting it takes about "
            f"{predict_memory(pixels) / 1e9:.1f} GB of memory). Shrink the image, or "
            f"pass --max-pixels {pixels} if the machine has that memory."
        )
