"""predict's pixel budget: sizes from headers only, the default fitting in 4 GB."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from densepred.app.pixel_budget import (
    DEFAULT_MAX_PIXELS,
    check_pixel_budget,
    image_size,
    predict_memory,
)
from densepred.core.errors import DataError


def png_header(path: Path, width: int, height: int) -> Path:
    """A PNG that is only its signature and header: any size, no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    return path


def test_default_budget_fits_in_4_gb() -> None:
    assert predict_memory(DEFAULT_MAX_PIXELS) <= 4e9 < predict_memory(DEFAULT_MAX_PIXELS + 10**6)
    assert DEFAULT_MAX_PIXELS >= 6000 * 4000  # a 24 MP photo is predicted by default


def test_a_huge_image_is_measured_from_its_header_and_refused(tmp_path: Path) -> None:
    """20000x20000 is past Pillow's decompression-bomb limit: still measured, not decoded."""
    path = png_header(tmp_path / "huge.png", 20000, 20000)
    assert image_size(path) == (20000, 20000)
    with pytest.raises(DataError) as info:
        check_pixel_budget([path], DEFAULT_MAX_PIXELS)
    message = str(info.value)
    assert "is 20000x20000 = 400,000,000 pixels" in message
    assert "(predicting it takes about 30.0 GB of memory)" in message
    assert "pass --max-pixels 400000000" in message
    check_pixel_budget([path], 400_000_000)


def test_files_pillow_cannot_read_are_left_to_the_decoder(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"not an image")
    assert image_size(path) is None
    check_pixel_budget([path], 1)
