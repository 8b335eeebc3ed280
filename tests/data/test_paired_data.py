"""Paired GAN data: synthetic and pix2pix-folder layouts, scaling to [-1, 1], bad pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from densepred.config.data import PairedDataConfig
from densepred.core.errors import DataError
from densepred.data.io import write_depth, write_image, write_mask
from densepred.data.paired import PairedDataModule, PairedDataset, pair_files
from densepred.portable.processing import depth_to_unit, unit_to_depth
from densepred.tasks.references import resolve_section

TINY_SYNTHETIC = {"num_train": 4, "num_val": 2, "size": [32, 48], "seed": 0}


def _config(root: Path, **kw: object) -> PairedDataConfig:
    return PairedDataConfig(
        root=str(root), args=TINY_SYNTHETIC, image_size=(16, 24), batch_size=2, num_workers=0, **kw
    )


@pytest.mark.parametrize(
    ("condition", "target", "channels"),
    [
        ("depth", "rgb", (1, 3)),
        ("mask", "rgb", (3, 3)),
        ("rgb", "depth", (3, 1)),
        ("none", "rgb", (0, 3)),
    ],
)
def test_synthetic_pairs(
    tmp_path: Path, condition: str, target: str, channels: tuple[int, int]
) -> None:
    cfg = _config(tmp_path, condition=condition, target=target)
    assert (cfg.condition_channels, cfg.target_channels) == channels
    dm = PairedDataModule(cfg)
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm.datasets["train"]) == 4 and len(dm.datasets["val"]) == 2
    batch = next(iter(dm.val_dataloader()))
    assert batch["target"].shape == (2, channels[1], 16, 24)
    assert batch["target"].min() >= -1.0 and batch["target"].max() <= 1.0
    if condition == "none":
        assert "condition" not in batch
    else:
        assert batch["condition"].shape == (2, channels[0], 16, 24)
        assert batch["condition"].min() >= -1.0 and batch["condition"].max() <= 1.0
        assert batch["condition"].std() > 0.05  # real content, not a constant


def test_depth_scaling_round_trip() -> None:
    depth = np.array([[0.0, 2.5], [10.0, 14.0]], dtype=np.float32)  # invalid, mid, max, beyond
    unit = depth_to_unit(depth, max_depth=10.0)
    np.testing.assert_allclose(unit, [[-1.0, -0.5], [1.0, 1.0]])
    back = unit_to_depth(torch.from_numpy(unit), max_depth=10.0)
    np.testing.assert_allclose(back.numpy(), [[0.0, 2.5], [10.0, 10.0]])


def _folder_pair(
    root: Path, split: str, name: str, cond_shape: tuple[int, int], tgt_shape: tuple[int, int]
) -> None:
    rng = np.random.default_rng(0)
    write_depth(
        root / "A" / split / f"{name}.png", rng.uniform(0.5, 5.0, cond_shape).astype(np.float32)
    )
    write_image(
        root / "B" / split / f"{name}.png", rng.integers(0, 255, (*tgt_shape, 3), dtype=np.uint8)
    )


def test_folder_layout(tmp_path: Path) -> None:
    for i in range(3):
        _folder_pair(tmp_path, "train", f"{i:03d}", (20, 30), (20, 30))
    cfg = PairedDataConfig(
        format="folder", root=str(tmp_path), condition="depth", target="rgb", image_size=(16, 16)
    )
    samples = PairedDataModule(cfg).samples("train")
    assert [s.target.name for s in samples] == ["000.png", "001.png", "002.png"]
    assert all(s.image.parent == tmp_path / "A" / "train" for s in samples)
    item = PairedDataset(samples, "depth", "rgb", (16, 16))[0]
    assert item["condition"].shape == (1, 16, 16) and item["target"].shape == (3, 16, 16)
    # depth 0.5..5 m of 10 m maps to [-0.9, 0]
    assert -0.91 <= item["condition"].min() and item["condition"].max() <= 0.01


def test_flip_moves_condition_and_target_together(tmp_path: Path) -> None:
    ramp = np.tile(
        np.linspace(1.0, 9.0, 24, dtype=np.float32), (16, 1)
    )  # depth grows left to right
    write_depth(tmp_path / "A" / "train" / "x.png", ramp)
    rgb = np.zeros((16, 24, 3), dtype=np.uint8)
    rgb[:, :12] = 255  # left half white
    write_image(tmp_path / "B" / "train" / "x.png", rgb)
    dataset = PairedDataset(
        pair_files(tmp_path / "A" / "train", tmp_path / "B" / "train"),
        "depth",
        "rgb",
        (16, 24),
        hflip=True,
    )
    torch.manual_seed(0)
    for _ in range(8):
        item = dataset[0]
        near_left = item["condition"][0, :, 0].mean() < item["condition"][0, :, -1].mean()
        white_left = item["target"][:, :, 0].mean() > item["target"][:, :, -1].mean()
        assert near_left == white_left


def test_mask_condition_is_coloured(tmp_path: Path) -> None:
    mask = np.zeros((16, 16), dtype=np.uint8)
    mask[:, 8:] = 3
    write_mask(tmp_path / "A" / "val" / "m.png", mask)
    write_image(tmp_path / "B" / "val" / "m.png", np.zeros((16, 16, 3), dtype=np.uint8))
    item = PairedDataset(
        pair_files(tmp_path / "A" / "val", tmp_path / "B" / "val"), "mask", "rgb", (16, 16)
    )[0]
    left, right = item["condition"][:, 0, 0], item["condition"][:, 0, -1]
    assert not torch.equal(left, right)  # different classes, different colours


def test_pair_of_different_sizes(tmp_path: Path) -> None:
    _folder_pair(tmp_path, "train", "bad", (20, 30), (24, 30))
    dataset = PairedDataset(
        pair_files(tmp_path / "A" / "train", tmp_path / "B" / "train"), "depth", "rgb", (16, 16)
    )
    with pytest.raises(DataError, match=r"is 20x30 but its target .* is 24x30"):
        dataset[0]


def test_unpaired_and_missing_files(tmp_path: Path) -> None:
    _folder_pair(tmp_path, "train", "a", (8, 8), (8, 8))
    write_image(tmp_path / "B" / "train" / "lonely.png", np.zeros((8, 8, 3), dtype=np.uint8))
    with pytest.raises(DataError, match="'lonely'"):
        pair_files(tmp_path / "A" / "train", tmp_path / "B" / "train")
    with pytest.raises(DataError, match="does not exist"):
        pair_files(tmp_path / "A" / "val", tmp_path / "B" / "val")


def test_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="both 'rgb'"):
        PairedDataConfig(condition="rgb", target="rgb")
    with pytest.raises(ValidationError, match="Unknown key 'num_images'"):
        resolve_section(PairedDataConfig, {"args": {"num_images": 3}})
    with pytest.raises(ValidationError, match="data.condition"):
        PairedDataConfig(args={"condition": "rgb"})
    with pytest.raises(ValidationError, match="Did you mean 'folder'"):
        resolve_section(PairedDataConfig, {"format": "folders"})
