"""Segmentation layouts on tiny fixtures: folder, CamVid/SegNet, Pascal VOC palettes, synthetic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from densepred.app.config import config_from_dict
from densepred.config.data import SegmentationDataConfig
from densepred.core.errors import ConfigError, DataError
from densepred.data.io import write_image, write_mask
from densepred.data.layout import Sample, check_targets, read_samples
from densepred.data.segmentation import (
    CAMVID_CLASSES,
    VOC_CLASSES,
    SegmentationDataModule,
    SegmentationDataset,
    pixel_counts,
)
from densepred.data.synthetic import MASK_CLASSES
from densepred.data.transforms import build_dense_transform
from densepred.tasks.references import resolve_section

RNG = np.random.default_rng(0)
SIZE = (24, 32)


def _image(size: tuple[int, int] = SIZE) -> np.ndarray:
    return RNG.integers(0, 255, (*size, 3), dtype=np.uint8)


def _stripes(values: list[int], size: tuple[int, int] = SIZE) -> np.ndarray:
    """HxW uint8 mask of vertical stripes, one per value."""
    cols = np.array_split(np.arange(size[1]), len(values))
    mask = np.zeros(size, np.uint8)
    for value, idx in zip(values, cols, strict=True):
        mask[:, idx] = value
    return mask


def make_folder(root: Path, split: str = "train", masks: list[np.ndarray] | None = None) -> Path:
    """``root/split/images/*.png|jpg`` + ``root/split/masks/*.png``."""
    masks = masks if masks is not None else [_stripes([0, 1, 2]), _stripes([2, 255, 1])]
    for i, mask in enumerate(masks):
        ext = ".jpg" if i % 2 else ".png"
        write_image(root / split / "images" / f"im{i}{ext}", _image(mask.shape))
        write_mask(root / split / "masks" / f"im{i}.png", mask)
    return root


def make_camvid(root: Path) -> Path:
    """SegNet CamVid: ``train/*.png`` + ``trainannot/*.png``, label 11 = void."""
    for i in range(2):
        write_image(root / "train" / f"f{i}.png", _image())
        write_mask(root / "trainannot" / f"f{i}.png", _stripes([0, 10, 11]))
    return root


def make_voc(root: Path) -> Path:
    """Pascal VOC: JPEGImages, palette PNGs in SegmentationClass, ImageSets/Segmentation/train.txt."""
    ids = ["2007_000001", "2007_000002"]
    palette = np.zeros((256, 3), np.uint8)
    palette[15] = (192, 128, 128)
    palette[255] = (224, 224, 192)
    for i in ids:
        write_image(root / "JPEGImages" / f"{i}.jpg", _image())
        img = Image.fromarray(_stripes([0, 15, 255]), mode="P")
        img.putpalette(palette.ravel().tolist())
        (root / "SegmentationClass").mkdir(parents=True, exist_ok=True)
        img.save(root / "SegmentationClass" / f"{i}.png")
    (root / "ImageSets" / "Segmentation").mkdir(parents=True)
    (root / "ImageSets" / "Segmentation" / "train.txt").write_text("\n".join(ids) + "\n")
    return root


def load_seg_samples(
    fmt: str, root: Path | str, split: str, args: dict[str, object] | None = None
) -> list[Sample]:
    """The records of a mask split, every mask checked (what the data module uses)."""
    return check_targets(read_samples(fmt, "mask", root, split, args=args), "mask")


def data_config(**data) -> SegmentationDataConfig:
    return resolve_section(SegmentationDataConfig, data)


def dataset_of(
    cfg: SegmentationDataConfig, split: str = "train", image_size=None
) -> SegmentationDataset:
    samples = load_seg_samples(cfg.format, cfg.root, split, cfg.args)
    transform = build_dense_transform(train=False, image_size=image_size)
    return SegmentationDataset(
        samples, len(cfg.classes), cfg.void_value, cfg.ignore_index, transform
    )


def test_folder_layout_reads_pairs_and_maps_void(tmp_path: Path) -> None:
    cfg = data_config(format="folder", root=str(make_folder(tmp_path)), classes=["a", "b", "c"])
    assert cfg.void_value == 255 and cfg.ignore_index == 255
    ds = dataset_of(cfg)
    assert [Path(ds[i]["path"]).name for i in range(len(ds))] == ["im0.png", "im1.jpg"]
    item = ds[1]
    assert item["image"].shape == (3, *SIZE) and item["image"].dtype == torch.float32
    assert item["mask"].dtype == torch.int64 and item["mask"].shape == SIZE
    assert set(item["mask"].unique().tolist()) == {2, 255, 1}


def test_camvid_void_label_becomes_ignore_index(tmp_path: Path) -> None:
    cfg = data_config(format="camvid", root=str(make_camvid(tmp_path)))
    assert cfg.classes == list(CAMVID_CLASSES) and cfg.void_value == 11
    mask = dataset_of(cfg)[0]["mask"]
    assert set(mask.unique().tolist()) == {0, 10, 255}


def test_voc_palette_masks_give_class_indices_not_colours(tmp_path: Path) -> None:
    cfg = data_config(format="voc", root=str(make_voc(tmp_path)), val_split="train")
    assert cfg.classes == list(VOC_CLASSES) and cfg.void_value == 255
    ds = dataset_of(cfg)
    assert len(ds) == 2 and Path(ds[0]["path"]).suffix == ".jpg"
    assert set(ds[0]["mask"].unique().tolist()) == {0, 15, 255}


def test_synthetic_layout_uses_the_generated_masks(tmp_path: Path) -> None:
    cfg = data_config(
        root=str(tmp_path), args={"num_train": 2, "num_val": 1, "size": [32, 40], "seed": 0}
    )
    assert cfg.classes == list(MASK_CLASSES) and cfg.void_value is None
    ds = dataset_of(cfg, "val")
    mask = ds[0]["mask"]
    assert len(ds) == 1 and mask.shape == (32, 40)
    assert mask.min() >= 0 and mask.max() < len(MASK_CLASSES)


def test_masks_are_resized_with_nearest_neighbour_only(tmp_path: Path) -> None:
    mask = (np.indices((40, 52)).sum(0) % 3).astype(np.uint8)  # diagonal stripes 0, 1, 2
    mask[:5] = 255
    cfg = data_config(
        format="folder", root=str(make_folder(tmp_path, masks=[mask])), classes=["a", "b", "c"]
    )
    for train in (False, True):
        transform = build_dense_transform(train=train, image_size=(17, 23), crop_scale=(0.5, 1.0))
        samples = load_seg_samples(cfg.format, cfg.root, "train")
        out = SegmentationDataset(samples, 3, 255, 255, transform)[0]["mask"]
        assert out.shape == (17, 23)
        assert set(out.unique().tolist()) <= {0, 1, 2, 255}


def test_pixel_counts_skip_void(tmp_path: Path) -> None:
    cfg = data_config(format="folder", root=str(make_folder(tmp_path)), classes=["a", "b", "c"])
    counts = pixel_counts(dataset_of(cfg))
    column = SIZE[0]
    # stripes of widths 11, 11, 10 columns: [0,1,2] and [2,void,1]
    assert counts.tolist() == [11 * column, 10 * column + 11 * column, 10 * column + 11 * column]


def test_datamodule_batches(tmp_path: Path) -> None:
    make_folder(tmp_path, "train")
    make_folder(tmp_path, "val")
    cfg = data_config(
        format="folder",
        root=str(tmp_path),
        classes=["a", "b", "c"],
        image_size=[16, 24],
        batch_size=2,
        num_workers=0,
    )
    dm = SegmentationDataModule(cfg)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["image"].shape == (2, 3, 16, 24)
    assert batch["mask"].shape == (2, 16, 24) and batch["mask"].dtype == torch.int64
    assert len(batch["path"]) == 2
    val = next(iter(dm.val_dataloader()))  # eval_size native: masks at the files' size
    assert val["image"].shape == (2, 3, 16, 24) and val["mask"].shape == (2, *SIZE)


# --- bad input: each error names the file -------------------------------------------------


def test_mask_of_another_size_names_both_files(tmp_path: Path) -> None:
    root = make_folder(tmp_path)
    write_mask(root / "train" / "masks" / "im0.png", _stripes([0, 1], (10, 12)))
    cfg = data_config(format="folder", root=str(root), classes=["a", "b", "c"])
    with pytest.raises(DataError, match=r"im0\.png' is 10x12 but its image .*im0\.png' is 24x32"):
        dataset_of(cfg)[0]


def test_label_outside_the_class_list_names_the_file(tmp_path: Path) -> None:
    root = make_folder(tmp_path, masks=[_stripes([0, 7, 255])])
    cfg = data_config(format="folder", root=str(root), classes=["a", "b", "c"])
    with pytest.raises(
        DataError, match=r"masks/im0\.png' holds labels \[7\] outside the class list 0\.\.2"
    ):
        dataset_of(cfg)[0]


def test_void_value_is_not_an_error_but_other_values_are(tmp_path: Path) -> None:
    root = make_camvid(tmp_path)
    write_mask(root / "trainannot" / "f1.png", _stripes([0, 12]))
    ds = dataset_of(data_config(format="camvid", root=str(root)))
    assert ds[0]["mask"].max() == 255
    with pytest.raises(DataError, match=r"trainannot/f1\.png' holds labels \[12\]"):
        ds[1]


def test_unreadable_image_names_the_file(tmp_path: Path) -> None:
    root = make_folder(tmp_path)
    (root / "train" / "images" / "im0.png").write_bytes(b"not a png")
    cfg = data_config(format="folder", root=str(root), classes=["a", "b", "c"])
    with pytest.raises(DataError, match=r"images/im0\.png"):
        dataset_of(cfg)[0]


def test_unreadable_mask_names_the_file(tmp_path: Path) -> None:
    root = make_folder(tmp_path)
    (root / "train" / "masks" / "im1.png").write_bytes(b"\x89PNG broken")
    cfg = data_config(format="folder", root=str(root), classes=["a", "b", "c"])
    with pytest.raises(DataError, match=r"masks/im1\.png"):
        dataset_of(cfg)[1]


def test_missing_mask_names_the_image(tmp_path: Path) -> None:
    root = make_folder(tmp_path)
    (root / "train" / "masks" / "im1.png").unlink()
    with pytest.raises(DataError, match=r"1 of 2 images have no mask; the first is '.*im1\.jpg'"):
        load_seg_samples("folder", root, "train")


def test_missing_voc_split_file_describes_the_layout(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="ImageSets/Segmentation/val.txt' does not exist"):
        load_seg_samples("voc", tmp_path, "val")


# --- config -------------------------------------------------------------------------------


def test_folder_format_needs_a_class_list() -> None:
    raw = {"data": {"format": "folder", "root": "x"}, "task": {"name": "segmentation"}}
    with pytest.raises(ConfigError, match="format 'folder' needs data.classes"):
        config_from_dict(raw)


def test_ignore_index_may_not_be_a_class_id() -> None:
    raw = {"data": {"ignore_index": 3}, "task": {"name": "segmentation"}}
    with pytest.raises(ConfigError, match="ignore_index 3 is a class id"):
        config_from_dict(raw)


def test_unknown_format_and_reader_argument_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'camvid'"):
        config_from_dict({"data": {"format": "camvd"}, "task": {"name": "segmentation"}})
    with pytest.raises(ConfigError, match="data.args: Unknown key 'mask_dirr'.*'mask_dir'"):
        config_from_dict(
            {
                "data": {"format": "folder", "classes": ["a", "b"], "args": {"mask_dirr": "m"}},
                "task": {"name": "segmentation"},
            }
        )


def test_resolved_classes_are_explicit_in_the_saved_config() -> None:
    cfg = config_from_dict(
        {"data": {"format": "camvid", "root": "x"}, "task": {"name": "segmentation"}}
    )
    again = config_from_dict(cfg.to_dict())
    assert again.to_dict()["data"]["classes"] == list(CAMVID_CLASSES)
    assert again.data.void_value == 11


def test_explicit_void_value_null_is_kept() -> None:
    cfg = data_config(format="camvid", root="x", void_value=None)
    assert cfg.void_value is None
