"""Depth layouts, the dataset, its config and the data module on tiny fixtures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from densepred.app.config import config_from_dict
from densepred.config.data import DepthDataConfig
from densepred.core.errors import ConfigError, DataError
from densepred.data.depth import DepthDataModule, DepthDataset
from densepred.data.io import read_depth, write_depth
from densepred.data.layout import Sample, check_targets, missing_targets, read_samples
from densepred.data.transforms import build_dense_transform
from densepred.tasks.references import resolve_section


def load_depth_samples(
    fmt: str, root: Path, split: str, args: dict[str, object] | None = None
) -> list[Sample]:
    """The records of a depth split, every depth file checked (what the data module uses)."""
    return check_targets(read_samples(fmt, "depth", root, split, args=args), "depth")


def test_mai_pairs_by_name(mai_root: Path) -> None:
    samples = load_depth_samples("mai", mai_root, "train")
    assert [s.image.name for s in samples] == ["00000.png", "00001.png", "00002.png"]
    assert all(s.target == mai_root / "train/depth" / s.image.name for s in samples)


def test_mai_validation_split_is_predict_only(mai_root: Path) -> None:
    with pytest.raises(
        DataError, match=r"2 of 2 images have no depth.*00000\.png.*validation/depth/00000\.png"
    ):
        load_depth_samples("mai", mai_root, "validation")
    samples = read_samples("mai", "depth", mai_root, "validation")
    assert len(samples) == 2 and missing_targets(samples, "depth") == samples


def test_nyu_bts_layout_is_searched_recursively(nyu_root: Path) -> None:
    samples = load_depth_samples("nyu", nyu_root, "sync")
    assert [(s.image.parent.name, s.image.name, s.target.name) for s in samples] == [
        ("kitchen_0028a", "rgb_00000.jpg", "sync_depth_00000.png"),
        ("kitchen_0028a", "rgb_00001.jpg", "sync_depth_00001.png"),
        ("office_0003", "rgb_00002.jpg", "sync_depth_00002.png"),
    ]
    assert all(s.target.parent == s.image.parent for s in samples)


def test_folder_layout_with_mixed_extensions(folder_root: Path) -> None:
    samples = load_depth_samples("folder", folder_root, "train")
    assert [s.image.name for s in samples] == ["img0.jpg", "img1.png", "img2.png"]
    assert [s.target.name for s in samples] == ["img0.png", "img1.png", "img2.png"]
    only_png = load_depth_samples("folder", folder_root, "train", {"image_exts": [".png"]})
    assert [s.image.name for s in only_png] == ["img1.png", "img2.png"]


def test_folder_layout_dirs_are_configurable(folder_root: Path) -> None:
    (folder_root / "train/image").rename(folder_root / "train/photos")
    samples = load_depth_samples("folder", folder_root, "train", {"image_dir": "photos"})
    assert len(samples) == 3


def test_list_file_with_bts_leading_slashes(list_root: Path) -> None:
    samples = load_depth_samples("list", list_root, "train")
    assert [s.image for s in samples] == [list_root / f"scene/rgb_{i}.jpg" for i in range(3)]
    assert [s.target for s in samples] == [
        list_root / f"scene/sync_depth_{i}.png" for i in range(3)
    ]


def test_list_file_with_separate_roots_and_missing_gt(
    tmp_path: Path, pair_writer: Callable[..., None]
) -> None:
    pair_writer(tmp_path / "images/a.jpg", tmp_path / "gt/a.png")
    pair_writer(tmp_path / "images/b.jpg", None)
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists/test_files.txt").write_text("a.jpg a.png 721.5\nb.jpg None 721.5\n")
    args = {"list_file": "lists/{split}_files.txt", "image_root": "images", "depth_root": "gt"}
    with pytest.raises(DataError, match=r"1 of 2 .*b\.jpg.*names no depth"):
        load_depth_samples("list", tmp_path, "test", args)
    samples = read_samples("list", "depth", tmp_path, "test", args=args)
    assert samples == [
        Sample(tmp_path / "images/a.jpg", tmp_path / "gt/a.png"),
        Sample(tmp_path / "images/b.jpg", None),
    ]
    assert missing_targets(samples, "depth") == samples[1:]


def test_missing_depth_names_image_expected_path_and_count(mai_root: Path) -> None:
    (mai_root / "train/depth/00001.png").unlink()
    (mai_root / "train/depth/00002.png").unlink()
    with pytest.raises(DataError, match=r"2 of 3 images.*rgb/00001\.png.*depth/00001\.png"):
        load_depth_samples("mai", mai_root, "train")


@pytest.mark.parametrize(
    ("fmt", "split", "expected"),
    [
        (
            "mai",
            "train",
            r"no images found under '.*train/rgb'.*Expected layout: <root>/<split>/rgb/",
        ),
        ("nyu", "sync", r"no images found under '.*sync'.*rgb_XXXXX\.jpg"),
        ("folder", "train", r"no images found under '.*train/image'"),
        ("mai", "test", r"'.*test' does not exist.*Expected layout"),
        ("list", "train", r"list file '.*train\.txt' does not exist"),
    ],
)
def test_empty_or_missing_split_names_folder_and_layout(
    tmp_path: Path, fmt: str, split: str, expected: str
) -> None:
    (tmp_path / "train/rgb").mkdir(parents=True)
    (tmp_path / "train/image").mkdir(parents=True)
    (tmp_path / "sync").mkdir()
    with pytest.raises(DataError, match=expected):
        load_depth_samples(fmt, tmp_path, split)


def test_empty_list_file(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("\n\n")
    with pytest.raises(DataError, match="lists no images"):
        load_depth_samples("list", tmp_path, "train")


def test_unknown_format_and_args(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown data format 'nyuu'. Did you mean 'nyu'"):
        load_depth_samples("nyuu", tmp_path, "train")
    with pytest.raises(ConfigError, match=r"data\.args: Unknown key 'image_dirr'.*'image_dir'"):
        load_depth_samples("folder", tmp_path, "train", {"image_dirr": "x"})


def test_dataset_items(mai_root: Path) -> None:
    dataset = DepthDataset(load_depth_samples("mai", mai_root, "train"), 1000.0)
    item = dataset[1]
    assert set(item) == {"image", "depth", "path"}
    assert item["image"].shape == (3, 16, 20) and item["image"].dtype == torch.float32
    assert item["depth"].shape == (1, 16, 20) and item["depth"].dtype == torch.float32
    expected = read_depth(mai_root / "train/depth/00001.png", 1000.0)
    np.testing.assert_array_equal(item["depth"][0].numpy(), expected)
    assert (item["depth"][0, 0, :3] == 0).all()  # invalid pixels stay 0
    assert item["path"] == str(mai_root / "train/rgb/00001.png")


def test_dataset_without_depth_has_no_depth_key(mai_root: Path) -> None:
    samples = [Sample(s.image) for s in read_samples("mai", "depth", mai_root, "validation")]
    item = DepthDataset(samples, 1000.0, build_dense_transform(False, (8, 10)))[0]
    assert set(item) == {"image", "path"} and item["image"].shape == (3, 8, 10)


def test_all_invalid_depth_is_fine(mai_root: Path) -> None:
    write_depth(mai_root / "train/depth/00000.png", np.zeros((16, 20), np.float32))
    item = DepthDataset(load_depth_samples("mai", mai_root, "train"))[0]
    assert (item["depth"] == 0).all()


def test_depth_of_another_size_names_both_files(
    mai_root: Path, pair_writer: Callable[..., None]
) -> None:
    pair_writer(
        mai_root / "train/rgb/00001.png", mai_root / "train/depth/00001.png", depth_shape=(8, 10)
    )
    dataset = DepthDataset(load_depth_samples("mai", mai_root, "train"))
    with pytest.raises(
        DataError, match=r"depth/00001\.png' is 8x10 but its image '.*rgb/00001\.png' is 16x20"
    ):
        dataset[1]


def test_corrupt_image_names_the_file(mai_root: Path) -> None:
    (mai_root / "train/rgb/00002.png").write_bytes(b"\x89PNG garbage")
    dataset = DepthDataset(load_depth_samples("mai", mai_root, "train"))
    with pytest.raises(DataError, match=r"rgb/00002\.png"):
        dataset[2]


def test_config_defaults_and_validation() -> None:
    config = DepthDataConfig()
    assert config.format == "synthetic" and config.image_size == (128, 160) and config.augment.hflip
    assert DepthDataConfig(args={"num_train": 10, "size": [48, 64]}).args["size"] == [48, 64]
    with pytest.raises(ValidationError, match="Did you mean 'nyu'"):
        resolve_section(DepthDataConfig, {"format": "nyuu"})
    with pytest.raises(ValidationError, match=r"data\.args: Unknown key 'num_trian'"):
        resolve_section(DepthDataConfig, {"args": {"num_trian": 4}})
    with pytest.raises(ValidationError, match="data.root"):
        DepthDataConfig(format="mai", args={"root": "x"})
    with pytest.raises(ValidationError, match="extra"):
        DepthDataConfig(batchsize=3)
    with pytest.raises(ValidationError, match="crop_scale"):
        DepthDataConfig(augment={"crop_scale": (0.0, 1.0)})


def test_datamodule_batches(mai_root: Path) -> None:
    config = DepthDataConfig(
        format="mai",
        root=str(mai_root),
        image_size=(8, 12),
        batch_size=2,
        num_workers=0,
        val_split="train",
    )
    module = DepthDataModule(config)
    module.prepare_data()
    module.setup("fit")
    train = module.train_dataloader()
    assert train.drop_last and len(train) == 1  # 3 samples, batch 2
    batch = next(iter(train))
    assert batch["image"].shape == (2, 3, 8, 12) and batch["image"].dtype == torch.float32
    assert batch["depth"].shape == (2, 1, 8, 12) and batch["depth"].dtype == torch.float32
    assert len(batch["path"]) == 2 and all(p.endswith(".png") for p in batch["path"])
    val = list(module.val_dataloader())
    assert [len(b["path"]) for b in val] == [2, 1]  # no shuffle, no drop
    with pytest.raises(DataError, match="test_split"):
        module.test_dataloader()


def test_datamodule_small_dataset_keeps_last_batch_and_limits(mai_root: Path) -> None:
    config = DepthDataConfig(
        format="mai",
        root=str(mai_root),
        batch_size=8,
        num_workers=0,
        val_split="train",
        test_split="train",
        limit_val=1,
    )
    module = DepthDataModule(config)
    module.setup()
    assert not module.train_dataloader().drop_last  # 3 samples < batch 8: keep them
    assert len(module.datasets["val"]) == 1 and len(module.datasets["test"]) == 1
    assert next(iter(module.train_dataloader()))["image"].shape == (3, 3, 128, 160)


def test_datamodule_on_synthetic(tmp_path: Path) -> None:
    config = DepthDataConfig(
        root=str(tmp_path),
        args={"num_train": 4, "num_val": 2, "size": [48, 64]},
        image_size=(32, 40),
        batch_size=2,
        num_workers=0,
        limit_train=3,
    )
    module = DepthDataModule(config)
    module.prepare_data()
    module.setup("fit")
    assert len(module.datasets["train"]) == 3 and len(module.datasets["val"]) == 2
    batch = next(iter(module.val_dataloader()))  # eval_size native: depth at the files' size
    assert batch["image"].shape == (2, 3, 32, 40) and batch["depth"].shape == (2, 1, 48, 64)
    assert (batch["depth"] <= 10.0).all() and (batch["depth"] > 0).float().mean() > 0.5
    assert next(iter(module.train_dataloader()))["depth"].shape == (2, 1, 32, 40)


@pytest.mark.parametrize("key", ["min_depth", "max_depth"])
def test_data_depth_range_is_rejected_and_points_to_the_task(key: str) -> None:
    """``data.max_depth=80`` used to load and be ignored; the range is ``task.*`` only."""
    raw = {"task": {"name": "depth"}, "data": {key: 80.0 if key == "max_depth" else 0.5}}
    with pytest.raises(ConfigError, match=rf"data\.{key} is not a data setting.*task\.{key}"):
        config_from_dict(raw, source="range.yaml")


def test_configs_saved_with_the_old_default_range_still_load() -> None:
    """Checkpoints written before the removal hold data.min_depth=0.001, data.max_depth=10."""
    data = {"format": "synthetic", "min_depth": 0.001, "max_depth": 10.0}
    assert "max_depth" not in DepthDataConfig.model_validate(data).model_dump()
