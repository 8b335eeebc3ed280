"""Read and write images, depth maps and class masks, with errors that name the file.

Depth on disk is a single-channel uint16 PNG holding ``metres * scale`` (millimetres for
``scale=1000``), 0 = invalid, as in the MAI and NYU (BTS) datasets. Float ``.npy``/``.tif(f)``
depth files hold metres directly. Files are decoded from bytes (``cv2.imdecode``) so paths with
any characters work on every platform.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from densepred.core.errors import DataError

UINT16_MAX = np.iinfo(np.uint16).max


def _read_bytes(path: Path, what: str) -> np.ndarray:
    """Return the file's bytes as a uint8 array, or raise ``DataError`` if it is missing."""
    if not path.is_file():
        raise DataError(f"{what} file '{path}' does not exist.")
    return np.fromfile(path, dtype=np.uint8)


def _decode(path: Path, flags: int, what: str) -> np.ndarray:
    """Decode an image file with OpenCV, raising ``DataError`` when it cannot be decoded."""
    data = _read_bytes(path, what)
    image = cv2.imdecode(data, flags) if data.size else None
    if image is None:
        raise DataError(
            f"{what} file '{path}' is empty, truncated or not an image OpenCV can decode."
        )
    return image


def _encode(path: Path, image: np.ndarray) -> None:
    """Encode ``image`` in the format given by the file extension and write it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(path.suffix, image)
    if not ok:
        raise DataError(
            f"could not encode an image of shape {image.shape} as '{path.suffix}' for '{path}'."
        )
    buf.tofile(path)


def read_image(path: str | Path) -> np.ndarray:
    """Read an image as HxWx3 uint8 RGB (grey, palette and RGBA files are converted).

    Args:
        path: Image file (PNG, JPEG, ... anything OpenCV decodes).
    """
    bgr = _decode(Path(path), cv2.IMREAD_COLOR, "image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def write_image(path: str | Path, rgb: np.ndarray) -> None:
    """Write an HxWx3 uint8 RGB image; the format follows the extension.

    Args:
        path: Destination file, e.g. ``out/00001.png``.
        rgb: HxWx3 uint8 RGB array.
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise DataError(
            f"write_image('{path}') needs an HxWx3 uint8 RGB array, got {rgb.dtype} {rgb.shape}."
        )
    _encode(Path(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def _depth_array(path: Path) -> np.ndarray:
    """Raw depth array of a PNG/TIFF/NPY file, before scaling."""
    if path.suffix.lower() == ".npy":
        _read_bytes(path, "depth")
        try:
            return np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise DataError(f"depth file '{path}' is not a readable .npy array: {exc}") from None
    return _decode(path, cv2.IMREAD_UNCHANGED, "depth")


def read_depth(path: str | Path, scale: float = 1000.0) -> np.ndarray:
    """Read a depth map as HxW float32 metres, 0 = invalid.

    In integer files both 0 and 65535 (the saturated value: a sensor's "no return" or a depth
    clipped at the top of the range by a writer such as :func:`write_depth`) are invalid, never
    a distance of 65535 / ``scale`` metres.

    Args:
        path: A single-channel uint16 PNG/TIFF holding ``metres * scale``, or a float32
            ``.npy``/``.tif(f)`` holding metres (``scale`` is not applied to float files).
        scale: Stored units per metre for integer files (1000 for millimetres, 256 for KITTI).
    """
    path = Path(path)
    raw = _depth_array(path)
    if raw.ndim != 2:
        raise DataError(
            f"depth file '{path}' has shape {raw.shape}; expected a single-channel HxW depth map "
            "(uint16 PNG in millimetres, or float32 metres in .npy/.tiff)."
        )
    if raw.dtype == np.uint16:
        depth = raw.astype(np.float32) / np.float32(scale)
        depth[raw == UINT16_MAX] = 0.0  # saturated: not a measurement
        return depth
    if raw.dtype in (np.float32, np.float64):
        depth = raw.astype(np.float32)
        depth[~np.isfinite(depth) | (depth < 0)] = 0.0
        return depth
    raise DataError(
        f"depth file '{path}' holds {raw.dtype} values; expected uint16 (e.g. millimetres, 0 = invalid) "
        "or float32 metres. An 8-bit PNG cannot hold metric depth: re-save it as 16-bit."
    )


def write_depth(path: str | Path, depth_m: np.ndarray, scale: float = 1000.0) -> None:
    """Write HxW metric depth as a uint16 PNG of ``round(depth * scale)``.

    Values are clipped to the uint16 range; 0, negative and non-finite depths are written as 0
    (invalid), and positive depths never round down to 0. Depths of 65535 / ``scale`` metres or
    more are written as 65535, which :func:`read_depth` reads as invalid (saturated).

    Args:
        path: Destination ``.png`` file.
        depth_m: HxW depth in metres.
        scale: Stored units per metre (1000 = millimetres).
    """
    if depth_m.ndim != 2:
        raise DataError(f"write_depth('{path}') needs an HxW array, got shape {depth_m.shape}.")
    depth = np.asarray(depth_m, dtype=np.float64)
    valid = np.isfinite(depth) & (depth > 0)
    units = np.clip(np.rint(np.where(valid, depth, 0.0) * scale), 1, UINT16_MAX)
    _encode(Path(path), np.where(valid, units, 0).astype(np.uint16))


def read_mask(path: str | Path) -> np.ndarray:
    """Read a single-channel class-id mask as HxW uint8 (int64 for 16/32-bit files).

    Palette PNGs give their palette indices (the class ids), not their colours.

    Args:
        path: Single-channel (L, I;16, I) or palette (P) image file.
    """
    path = Path(path)
    _read_bytes(path, "mask")
    try:
        with Image.open(path) as img:
            img.load()
            mode, mask = img.mode, np.array(img)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DataError(f"mask file '{path}' is truncated or not a readable image: {exc}") from None
    if mode in ("L", "P"):
        return mask.astype(np.uint8, copy=False)
    if mode.startswith("I"):
        return mask.astype(np.int64)
    raise DataError(
        f"mask file '{path}' has mode {mode}; expected a single-channel (L) or palette (P) PNG of "
        "class ids. Convert colour-coded masks to class ids first."
    )


def write_mask(path: str | Path, mask: np.ndarray) -> None:
    """Write an HxW uint8 class-id mask as a single-channel PNG.

    Args:
        path: Destination ``.png`` file.
        mask: HxW uint8 array of class ids.
    """
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise DataError(
            f"write_mask('{path}') needs an HxW uint8 array, got {mask.dtype} {mask.shape}."
        )
    _encode(Path(path), mask)
