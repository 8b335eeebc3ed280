"""Image, depth and mask IO: round trips, colour conversions and errors that name the file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from densepred.core.errors import DataError
from densepred.data.io import (
    read_depth,
    read_image,
    read_mask,
    write_depth,
    write_image,
    write_mask,
)

RNG = np.random.default_rng(0)


def test_image_round_trip_is_rgb(tmp_path: Path) -> None:
    rgb = RNG.integers(0, 256, (16, 20, 3), dtype=np.uint8)
    write_image(tmp_path / "a.png", rgb)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)
    # channel order on disk is the usual BGR-in-OpenCV, i.e. a standard RGB PNG for PIL
    np.testing.assert_array_equal(np.array(Image.open(tmp_path / "a.png")), rgb)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P"])
def test_read_image_converts_other_modes_to_rgb(tmp_path: Path, mode: str) -> None:
    rgb = RNG.integers(0, 256, (16, 20, 3), dtype=np.uint8)
    image = Image.fromarray(rgb).convert(mode)
    image.save(tmp_path / "x.png")
    out = read_image(tmp_path / "x.png")
    assert out.shape == (16, 20, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.array(image.convert("RGB")))


def test_depth_round_trip_in_millimetres(tmp_path: Path) -> None:
    depth = np.array([[0.0, 1.2341, 9.9], [np.nan, -1.0, 70.0]], dtype=np.float32)
    write_depth(tmp_path / "d.png", depth)
    raw = cv2.imread(str(tmp_path / "d.png"), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16
    np.testing.assert_array_equal(
        raw, [[0, 1234, 9900], [0, 0, 65535]]
    )  # invalid stays 0, far is clipped to the saturated value
    valid = np.where(raw == 65535, 0, raw)  # which reads back as invalid
    np.testing.assert_allclose(read_depth(tmp_path / "d.png", 1000.0), valid / 1000.0, rtol=1e-6)
    np.testing.assert_allclose(read_depth(tmp_path / "d.png", 256.0), valid / 256.0, rtol=1e-6)


def test_tiny_positive_depth_stays_valid(tmp_path: Path) -> None:
    write_depth(tmp_path / "d.png", np.full((2, 2), 1e-5, np.float32))
    assert (read_depth(tmp_path / "d.png") > 0).all()


def test_float_depth_files_hold_metres(tmp_path: Path) -> None:
    depth = np.array([[1.5, np.inf], [-2.0, 3.25]], dtype=np.float32)
    np.save(tmp_path / "d.npy", depth)
    cv2.imwrite(str(tmp_path / "d.tiff"), depth)
    for name in ("d.npy", "d.tiff"):
        np.testing.assert_array_equal(
            read_depth(tmp_path / name, scale=1000.0), [[1.5, 0.0], [0.0, 3.25]]
        )


def test_palette_mask_gives_indices(tmp_path: Path) -> None:
    ids = RNG.integers(0, 6, (16, 20), dtype=np.uint8)
    image = Image.fromarray(ids, mode="P")
    image.putpalette(RNG.integers(0, 256, 768, dtype=np.uint8).tolist())
    image.save(tmp_path / "m.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png"), ids)
    write_mask(tmp_path / "l.png", ids)
    out = read_mask(tmp_path / "l.png")
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, ids)


def test_rgb_mask_is_rejected(tmp_path: Path) -> None:
    write_image(tmp_path / "m.png", RNG.integers(0, 256, (4, 4, 3), dtype=np.uint8))
    with pytest.raises(DataError, match=r"m\.png.*single-channel"):
        read_mask(tmp_path / "m.png")


@pytest.mark.parametrize("reader", [read_image, read_depth, read_mask])
def test_missing_file_names_it(tmp_path: Path, reader) -> None:
    with pytest.raises(DataError, match=r"nope\.png' does not exist"):
        reader(tmp_path / "nope.png")


@pytest.mark.parametrize("reader", [read_image, read_depth, read_mask])
@pytest.mark.parametrize("content", [b"", b"this is not a png at all"])
def test_corrupt_file_names_it(tmp_path: Path, reader, content: bytes) -> None:
    (tmp_path / "bad.png").write_bytes(content)
    with pytest.raises(DataError, match=r"bad\.png"):
        reader(tmp_path / "bad.png")


def test_truncated_png_is_a_data_error(tmp_path: Path) -> None:
    write_image(tmp_path / "full.png", RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    for reader in (read_image, read_mask):
        with pytest.raises(DataError, match=r"cut\.png"):
            reader(tmp_path / "cut.png")


def test_eight_bit_depth_is_rejected(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "d8.png"), np.full((4, 4), 7, np.uint8))
    with pytest.raises(DataError, match=r"d8\.png.*uint8.*16-bit"):
        read_depth(tmp_path / "d8.png")


def test_colour_depth_is_rejected(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "d3.png"), np.zeros((4, 4, 3), np.uint16))
    with pytest.raises(DataError, match=r"d3\.png.*single-channel"):
        read_depth(tmp_path / "d3.png")


def test_write_checks_arrays(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="HxWx3 uint8"):
        write_image(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(DataError, match="HxW"):
        write_depth(tmp_path / "d.png", np.zeros((4, 4, 1)))
    with pytest.raises(DataError, match="HxW uint8"):
        write_mask(tmp_path / "m.png", np.zeros((4, 4), np.int64))
