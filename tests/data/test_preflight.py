"""Pre-flight checks: every bad file of every split in one error, before work starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from densepred.config.data import DepthDataConfig, SegmentationDataConfig
from densepred.core.errors import DataError
from densepred.data.depth import QUICK_DEPTH_FILES, DepthDataModule
from densepred.data.io import write_depth, write_image, write_mask
from densepred.data.preflight import MAX_LISTED
from densepred.data.segmentation import SegmentationDataModule
from densepred.tasks.references import resolve_section


def _depth_module(root: Path, **keys: object) -> DepthDataModule:
    return DepthDataModule(
        DepthDataConfig.model_validate({"format": "mai", "root": str(root), **keys})
    )


@pytest.fixture
def broken_mai(mai_root: Path, pair_writer: Callable[..., None]) -> Path:
    """The MAI fixture with validation depth added, then four different faults in two splits."""
    for i in range(2):
        write_depth(mai_root / f"validation/depth/{i:05d}.png", np.ones((16, 20), np.float32))
    (mai_root / "train/rgb/00000.png").write_bytes(b"\x89PNG garbage")  # corrupt image
    pair_writer(  # size mismatch
        mai_root / "train/rgb/00001.png", mai_root / "train/depth/00001.png", depth_shape=(8, 10)
    )
    cv2.imwrite(str(mai_root / "train/depth/00002.png"), np.full((16, 20), 3, np.uint8))  # 8-bit
    (mai_root / "validation/depth/00001.png").unlink()  # missing depth
    return mai_root


@pytest.mark.parametrize("check", ["quick", "full"])
def test_every_problem_of_every_split_in_one_error(broken_mai: Path, check: str) -> None:
    module = _depth_module(broken_mai, val_split="validation", check=check)
    with pytest.raises(DataError) as info:
        module.preflight()
    message = str(info.value)
    assert "found 4 problem(s) in 5 record(s)" in message
    assert "split 'train'" in message and "split 'validation'" in message
    assert "train/rgb/00000.png" in message  # corrupt image
    assert "depth/00001.png' is 8x10" in message and "is 16x20" in message  # size mismatch
    assert "train/depth/00002.png" in message and "8-bit" in message  # 8-bit depth
    assert "validation/rgb/00001.png' has no depth map" in message  # missing depth


def test_off_checks_nothing(broken_mai: Path) -> None:
    assert _depth_module(broken_mai, val_split="validation", check="off").preflight() == 0


def test_quick_reads_headers_and_full_decodes(mai_root: Path) -> None:
    path = mai_root / "train/rgb/00001.png"
    path.write_bytes(path.read_bytes()[:-40])  # header intact, image data cut short
    assert _depth_module(mai_root, val_split="train").preflight() == 3  # one split, read once
    with pytest.raises(DataError, match=r"(?s)1 problem.*rgb/00001\.png.*truncated"):
        _depth_module(mai_root, val_split="train", check="full").preflight()


def test_missing_mask_and_colour_mask_are_reported_together(tmp_path: Path) -> None:
    for i in range(3):
        write_image(tmp_path / f"train/images/{i}.png", np.zeros((8, 8, 3), np.uint8))
        write_mask(tmp_path / f"train/masks/{i}.png", np.zeros((8, 8), np.uint8))
    (tmp_path / "train/masks/1.png").unlink()
    write_image(tmp_path / "train/masks/2.png", np.zeros((8, 8, 3), np.uint8))  # RGB, not ids
    config = resolve_section(
        SegmentationDataConfig,
        {"format": "folder", "root": str(tmp_path), "classes": ["a", "b"], "val_split": "train"},
    )
    with pytest.raises(DataError) as info:
        SegmentationDataModule(config).preflight(roles=("train",))
    message = str(info.value)
    assert "2 problem(s)" in message
    assert "images/1.png' has no mask (expected at '" in message
    assert "masks/2.png' has mode RGB" in message


def test_a_split_that_cannot_be_listed_is_one_of_the_problems(mai_root: Path) -> None:
    (mai_root / "train/rgb/00000.png").write_bytes(b"")
    with pytest.raises(DataError) as info:
        _depth_module(mai_root, val_split="missing").preflight()
    message = str(info.value)
    assert "2 problem(s)" in message and "rgb/00000.png" in message
    assert "split 'missing': data folder" in message and "does not exist" in message


def test_long_lists_are_cut_with_a_count(tmp_path: Path) -> None:
    for i in range(MAX_LISTED + 5):
        (tmp_path / f"train/rgb/{i:03d}.png").parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f"train/rgb/{i:03d}.png").write_bytes(b"junk")
    with pytest.raises(DataError) as info:
        _depth_module(tmp_path, val_split="train").preflight(roles=("train",))
    message = str(info.value)
    count = 2 * (MAX_LISTED + 5)  # each record: an undecodable image and no depth map
    assert (
        f"found {count} problem(s)" in message and f"... and {count - MAX_LISTED} more" in message
    )
    assert message.count("split 'train'") == MAX_LISTED


# --- valid depth pixels ----------------------------------------------------------------------


def test_valid_pixels_are_counted_per_split(mai_root: Path) -> None:
    counts = _depth_module(mai_root, val_split="train", check="full").check_valid_depth(1e-3, 10.0)
    assert counts == {"train": 3 * (16 * 20 - 3)}  # the fixture has 3 invalid pixels per map


def test_all_zero_depth_split_names_split_count_and_settings(mai_root: Path) -> None:
    for i in range(3):
        write_depth(mai_root / f"train/depth/{i:05d}.png", np.zeros((16, 20), np.float32))
    module = _depth_module(mai_root, val_split="train")
    with pytest.raises(DataError) as info:
        module.check_valid_depth(1e-3, 10.0, roles=("train",))
    message = str(info.value)
    assert "split 'train' has 0 valid depth pixels in 3 of 3 depth files" in message
    assert "data.depth_scale=1000.0" in message and "task.max_depth=10.0" in message


def test_saturated_depth_is_invalid_not_65_metres(mai_root: Path) -> None:
    """Issue 24 (also found): depth maps that are all 65535 with task.max_depth=100 trained as a
    constant 65.5 m; 65535 is the saturated value of 16-bit files and counts as invalid."""
    for i in range(3):
        cv2.imwrite(str(mai_root / f"train/depth/{i:05d}.png"), np.full((16, 20), 65535, np.uint16))
    module = _depth_module(mai_root, val_split="train", check="full")
    with pytest.raises(DataError) as info:
        module.check_valid_depth(1e-3, 100.0, roles=("train",))
    assert "0 valid depth pixels in 3 of 3" in str(info.value)
    assert "their 0 and 65535 (saturated) values invalid" in str(info.value)


def test_a_depth_scale_that_leaves_no_pixel_in_range_is_caught(mai_root: Path) -> None:
    # depths of 0.5..9 m read with depth_scale 1 become 500..9000 "metres": all above max_depth
    module = _depth_module(mai_root, val_split="train", depth_scale=1.0)
    with pytest.raises(DataError, match=r"0 valid depth pixels.*data\.depth_scale=1\.0"):
        module.check_valid_depth(1e-3, 10.0)
    assert _depth_module(mai_root, val_split="train", check="off").check_valid_depth(1, 2) == {}


def test_quick_counts_a_spread_sample_of_files(
    tmp_path: Path, pair_writer: Callable[..., None]
) -> None:
    total = QUICK_DEPTH_FILES * 2
    for i in range(total):
        pair_writer(tmp_path / f"train/rgb/{i:03d}.png", tmp_path / f"train/depth/{i:03d}.png")
    quick = _depth_module(tmp_path, val_split="train").check_valid_depth(1e-3, 10.0)
    full = _depth_module(tmp_path, val_split="train", check="full").check_valid_depth(1e-3, 10.0)
    assert full["train"] == 2 * quick["train"] == total * (16 * 20 - 3)
