"""Classification data: ImageFolder trees of mixed sizes and modes, the synthetic labels, errors."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from densepred.app.config import config_from_dict
from densepred.config.data import ClassificationDataConfig
from densepred.core.errors import ConfigError, DataError
from densepred.data.classification import (
    ClassificationDataModule,
    ClassificationDataset,
    label_counts,
)
from densepred.data.layout import Sample, read_samples, spread
from densepred.data.synthetic import LABEL_CLASSES, ensure_synthetic
from densepred.data.transforms import build_dense_transform
from densepred.tasks.references import resolve_section

RNG = np.random.default_rng(0)
SYNTH_ARGS = {"num_train": 3, "num_val": 3, "size": [32, 40], "seed": 0}


def make_imagefolder(root: Path, split: str = "train") -> Path:
    """Two classes; images of different sizes in RGB (jpg), palette, grey and RGBA modes."""
    images = {
        "cat": [("a.jpg", "RGB", (30, 20)), ("b.png", "P", (17, 41))],
        "dog": [("c.png", "L", (64, 48)), ("d.png", "RGBA", (25, 25)), ("notes.txt", None, None)],
    }
    for cls, files in images.items():
        (root / split / cls).mkdir(parents=True, exist_ok=True)
        for name, mode, size in files:
            if mode is None:
                (root / split / cls / name).write_text("not an image")
                continue
            array = RNG.integers(0, 255, (size[1], size[0], 4), dtype=np.uint8)
            Image.fromarray(array, "RGBA").convert(mode).save(root / split / cls / name)
    return root


def load_cls_samples(
    fmt: str, root: Path | str, split: str, classes: list[str], args: dict | None = None
) -> list[Sample]:
    """The records of a label split (labels need no file check)."""
    return read_samples(fmt, "label", root, split, [list(classes)], args=args)


def data_config(**data) -> ClassificationDataConfig:
    return resolve_section(ClassificationDataConfig, data)


def test_imagefolder_classes_are_the_sorted_folder_names(tmp_path: Path) -> None:
    cfg = data_config(format="imagefolder", root=str(make_imagefolder(tmp_path)))
    assert cfg.classes == ["cat", "dog"]
    samples = load_cls_samples(cfg.format, cfg.root, "train", cfg.classes)
    assert [(s.image.name, s.label) for s in samples] == [
        ("a.jpg", 0),
        ("b.png", 0),
        ("c.png", 1),
        ("d.png", 1),
    ]


def test_images_of_any_size_and_mode_become_fixed_size_rgb(tmp_path: Path) -> None:
    make_imagefolder(tmp_path, "train")
    make_imagefolder(tmp_path, "val")
    cfg = data_config(
        format="imagefolder", root=str(tmp_path), image_size=[20, 28], batch_size=4, num_workers=0
    )
    dm = ClassificationDataModule(cfg)
    dm.setup("fit")
    batch = next(iter(dm.val_dataloader()))
    assert batch["image"].shape == (4, 3, 20, 28) and batch["image"].dtype == torch.float32
    assert batch["label"].tolist() == [0, 0, 1, 1] and batch["label"].dtype == torch.int64
    assert next(iter(dm.train_dataloader()))["image"].shape == (4, 3, 20, 28)


def test_explicit_class_order_sets_the_labels(tmp_path: Path) -> None:
    cfg = data_config(
        format="imagefolder", root=str(make_imagefolder(tmp_path)), classes=["dog", "cat", "bird"]
    )
    samples = load_cls_samples(cfg.format, cfg.root, "train", cfg.classes)
    assert label_counts(samples, 3).tolist() == [2, 2, 0]
    assert samples[0].label == 1  # cat


def test_synthetic_labels_come_from_labels_csv(tmp_path: Path) -> None:
    cfg = data_config(root=str(tmp_path), args=SYNTH_ARGS)
    assert cfg.classes == list(LABEL_CLASSES)
    samples = load_cls_samples(cfg.format, cfg.root, "val", cfg.classes, cfg.args)
    assert [s.label for s in samples] == [0, 1, 2]
    assert all(s.image.is_file() for s in samples)


def test_spread_keeps_every_class() -> None:
    samples = [Sample(Path(f"{c}{i}.png"), label=c) for c in range(3) for i in range(10)]
    subset = spread(samples, 6)
    assert len(subset) == 6 and label_counts(subset, 3).tolist() == [2, 2, 2]
    assert spread(samples, None) == samples


# --- bad input: each error names the file or folder ---------------------------------------


def test_empty_class_folder_names_the_folder(tmp_path: Path) -> None:
    root = make_imagefolder(tmp_path)
    (root / "train" / "bird").mkdir()
    with pytest.raises(DataError, match=r"class folder '.*train/bird' holds no images"):
        load_cls_samples("imagefolder", root, "train", ["bird", "cat", "dog"])


def test_folder_outside_the_class_list_names_the_folder(tmp_path: Path) -> None:
    root = make_imagefolder(tmp_path)
    with pytest.raises(
        DataError, match=r"class folder '.*train/dog' is not in the class list \['cat', 'fox'\]"
    ):
        load_cls_samples("imagefolder", root, "train", ["cat", "fox"])


def test_unreadable_image_names_the_file(tmp_path: Path) -> None:
    root = make_imagefolder(tmp_path)
    (root / "train" / "dog" / "c.png").write_bytes(b"\x89PNG truncated")
    samples = load_cls_samples("imagefolder", root, "train", ["cat", "dog"])
    ds = ClassificationDataset(samples, build_dense_transform(train=False, image_size=(16, 16)))
    with pytest.raises(DataError, match=r"dog/c\.png"):
        ds[2]


def test_synthetic_label_outside_the_class_list_names_labels_csv(tmp_path: Path) -> None:
    folder = ensure_synthetic(tmp_path, **{**SYNTH_ARGS, "size": tuple(SYNTH_ARGS["size"])})
    labels = folder / "val" / "labels.csv"
    rows = list(csv.reader(labels.open()))
    rows[2][1] = "7"
    with labels.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(
        DataError, match=r"val/labels\.csv': label 7 of '00001\.png' is outside the class list"
    ):
        load_cls_samples("synthetic", tmp_path, "val", list(LABEL_CLASSES), SYNTH_ARGS)


def test_missing_imagefolder_root_is_a_config_error_naming_it(tmp_path: Path) -> None:
    raw = {
        "data": {"format": "imagefolder", "root": str(tmp_path / "nowhere")},
        "task": {"name": "classification"},
    }
    with pytest.raises(ConfigError, match=r"nowhere/train' does not exist"):
        config_from_dict(raw)


def test_one_class_is_not_enough() -> None:
    with pytest.raises(ConfigError, match="at least two distinct names"):
        config_from_dict({"data": {"classes": ["only"]}, "task": {"name": "classification"}})
