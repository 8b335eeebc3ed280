"""Pre-flight checks of a dataset's files, run before the first step (``data.check``).

:func:`preflight_check` reads every file of every split in a thread pool: ``quick`` reads only
headers (is it an image, its size, dtype and channels), ``full`` decodes every file with the
readers training uses. All problems are collected and reported in one ``DataError``.
:func:`check_valid_depth` fails on a depth split without a single pixel inside the depth range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from densepred.core.errors import DataError
from densepred.data.io import read_depth, read_image, read_mask
from densepred.data.layout import TARGET_NAMES, Sample

MAX_LISTED = 20
"""Problems named in the summary; the rest are counted."""

DEPTH_MODES = ("I;16", "I;16B", "I;16L", "I", "F")
"""Pillow modes of depth files: 16-bit or 32-bit integer, or float."""
MASK_MODES = ("L", "P", "I;16", "I;16B", "I;16L", "I")
"""Pillow modes of class-id masks: single-channel integer or palette."""


def _pil_header(path: Path, what: str) -> Image.Image:
    """Open ``path`` lazily (header only); ``DataError`` if it is not an image Pillow knows."""
    try:
        with Image.open(path) as img:
            return img
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DataError(f"{what} file '{path}' is not a readable image: {exc}") from None


def _image_size(path: Path, full: bool) -> tuple[int, int]:
    if full:
        return read_image(path).shape[:2]
    img = _pil_header(path, "image")
    return img.height, img.width


def _depth_size(path: Path, full: bool) -> tuple[int, int]:
    if full:
        return read_depth(path).shape
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise DataError(f"depth file '{path}' is not a readable .npy array: {exc}") from None
        if array.ndim != 2 or array.dtype not in (np.uint16, np.float32, np.float64):
            raise DataError(
                f"depth file '{path}' holds {array.dtype} {array.shape}; expected an HxW uint16 "
                "or float32 array."
            )
        return array.shape
    img = _pil_header(path, "depth")
    if img.mode not in DEPTH_MODES:
        raise DataError(
            f"depth file '{path}' is a {img.mode} image ({len(img.getbands())} channel(s)); expected "
            "a single-channel 16-bit PNG (e.g. millimetres) or float metres. An 8-bit PNG cannot "
            "hold metric depth: re-save it as 16-bit."
        )
    return img.height, img.width


def _mask_size(path: Path, full: bool) -> tuple[int, int]:
    if full:
        return read_mask(path).shape
    img = _pil_header(path, "mask")
    if img.mode not in MASK_MODES:
        raise DataError(
            f"mask file '{path}' has mode {img.mode}; expected a single-channel (L) or palette (P) "
            "PNG of class ids."
        )
    return img.height, img.width


SIZE_READERS: dict[str, Callable[[Path, bool], tuple[int, int]]] = {
    "image": _image_size,
    "depth": _depth_size,
    "mask": _mask_size,
}
"""File kind -> ``size(path, full) -> (H, W)``, raising ``DataError`` on a bad file."""


def check_sample(sample: Sample, kinds: dict[str, str], full: bool) -> list[str]:
    """The problems of one record (empty if none).

    Args:
        sample: The record.
        kinds: Record field (``image``, ``target``) -> file kind (``image``, ``depth``, ``mask``).
        full: Decode every file fully instead of reading headers.
    """
    problems, sizes = [], {}
    for field, kind in kinds.items():
        path = getattr(sample, field)
        if path is None or not path.is_file():
            where = f"expected at '{path}'" if path else "no file named by the layout"
            noun = TARGET_NAMES.get(kind, "target image") if field == "target" else "image file"
            problems.append(f"'{sample.image}' has no {noun} ({where})")
            continue
        try:
            sizes[path] = SIZE_READERS[kind](path, full)
        except DataError as exc:
            problems.append(str(exc))
    if len(set(sizes.values())) > 1:
        described = " but ".join(f"'{p}' is {h}x{w}" for p, (h, w) in sizes.items())
        problems.append(f"{described} (HxW); a record's files must have the same size")
    return problems


def preflight_check(
    listings: dict[str, list[Sample] | DataError],
    kinds: dict[str, str],
    full: bool = False,
    workers: int = 8,
) -> int:
    """Check every record of every split; one ``DataError`` summarising all problems.

    Args:
        listings: Split name -> its records, or the ``DataError`` raised when listing it.
        kinds: Record field -> file kind (see :func:`check_sample`).
        full: Decode every file (``data.check: full``) instead of reading headers (``quick``).
        workers: Threads reading files.

    Returns:
        The number of records checked.
    """
    problems: list[str] = []
    checked = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for split, samples in listings.items():
            if isinstance(samples, DataError):
                problems.append(f"split '{split}': {samples}")
                continue
            found = pool.map(lambda s: check_sample(s, kinds, full), samples)
            for issues in tqdm(found, total=len(samples), desc=f"checking '{split}'", disable=None):
                problems += [f"split '{split}': {issue}" for issue in issues]
            checked += len(samples)
    if problems:
        listed = "\n  ".join(problems[:MAX_LISTED])
        more = (
            f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        )
        raise DataError(
            f"data check ({'full' if full else 'quick'}) found {len(problems)} problem(s) in "
            f"{checked} record(s):\n  {listed}{more}\nFix or remove these files "
            "(data.check: off skips this check)."
        )
    return checked


def read_depths(samples: Iterable[Sample], depth_scale: float) -> Iterator[np.ndarray]:
    """The depth maps (metres) of depth records, read one at a time."""
    for sample in samples:
        yield read_depth(sample.target, depth_scale)


def count_valid_depth(depths: Iterable[np.ndarray], min_depth: float, max_depth: float) -> int:
    """Depth pixels inside ``(min_depth, max_depth)`` over depth maps in metres.

    Args:
        depths: Depth maps (read lazily: a split's maps need not fit in memory together).
        min_depth: Lower end of the valid range in metres (exclusive, as the metrics use it).
        max_depth: Upper end in metres (exclusive).
    """
    return sum(int(((depth > min_depth) & (depth < max_depth)).sum()) for depth in depths)


def check_valid_depth(
    split: str,
    depths: Iterable[np.ndarray],
    read: int,
    total: int,
    depth_scale: float,
    min_depth: float,
    max_depth: float,
) -> int:
    """Count a split's valid depth pixels; ``DataError`` naming the settings when there are none.

    Args:
        split: Split name, for the message.
        depths: Depth maps of the split in metres (all, or ``read`` spread over it).
        read: How many maps ``depths`` yields.
        total: How many the split has.
        depth_scale: ``data.depth_scale``.
        min_depth: ``task.min_depth``.
        max_depth: ``task.max_depth``.

    Returns:
        The number of valid pixels in the maps read.
    """
    valid = count_valid_depth(depths, min_depth, max_depth)
    if valid == 0:
        raise DataError(
            f"split '{split}' has 0 valid depth pixels in {read} of {total} depth "
            f"files (valid: task.min_depth={min_depth} < depth < task.max_depth={max_depth} m, "
            f"integer files divided by data.depth_scale={depth_scale}, their 0 and 65535 "
            "(saturated) values invalid). Check data.depth_scale, task.min_depth / "
            "task.max_depth and the depth files; no loss or metric can use it."
        )
    return valid
