"""Classification data: image-level labels, read from the synthetic set or an ImageFolder tree.

A layout is a reader registered in :data:`~densepred.data.layout.FORMATS` with target
``label``: ``reader(root, split, classes, **args) -> list[Sample]`` (``Sample.label`` = index
into ``classes``), with a function giving the layout's default class names. Images of any size and mode (palette, grey, RGBA) are read as
RGB and resized to ``data.image_size``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from densepred.config.data import ClassificationDataConfig
from densepred.core.errors import DataError
from densepred.data.base import BaseDataModule
from densepred.data.io import read_image
from densepred.data.layout import (
    IMAGE_EXTS,
    Sample,
    image_files,
    register_format,
    spread,
)
from densepred.data.synthetic import LABEL_CLASSES, synthetic_layout
from densepred.data.transforms import augment_transform

IMAGEFOLDER_LAYOUT = "<root>/<split>/<class name>/<image files>"


def synthetic_classes(root: Path, split: str) -> list[str]:
    """The synthetic set's image-level classes (the kind of object in the scene)."""
    return list(LABEL_CLASSES)


@register_format("synthetic", "label", synthetic_classes)
@synthetic_layout
def synthetic_reader(folder: Path, split: str, classes: list[str]) -> list[Sample]:
    """The procedural set (generated under ``root`` on first use): ``rgb/*.png`` + ``labels.csv``.

    ``classes``: class names; labels must index into them.
    """
    labels_file = folder / split / "labels.csv"
    if not labels_file.is_file():
        raise DataError(
            f"label file '{labels_file}' does not exist; is '{split}' a split of the synthetic set?"
        )
    with open(labels_file, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    samples = [
        Sample(folder / split / "rgb" / row["file"], label=int(row["label"])) for row in rows
    ]
    bad = [s for s in samples if not 0 <= s.label < len(classes)]
    if bad:
        raise DataError(
            f"'{labels_file}': label {bad[0].label} of '{bad[0].image.name}' is outside the class list "
            f"0..{len(classes) - 1} ({classes})."
        )
    return samples


def _class_dirs(root: Path, split: str) -> list[Path]:
    base = root / split
    if not base.is_dir():
        raise DataError(
            f"data folder '{base}' does not exist. Expected layout: {IMAGEFOLDER_LAYOUT}"
        )
    dirs = sorted(d for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not dirs:
        raise DataError(f"'{base}' has no class folders. Expected layout: {IMAGEFOLDER_LAYOUT}")
    return dirs


def imagefolder_classes(root: Path, split: str) -> list[str]:
    """Class names = the sorted folder names of ``root/split`` (torchvision's ImageFolder rule)."""
    return [d.name for d in _class_dirs(root, split)]


@register_format("imagefolder", "label", imagefolder_classes)
def imagefolder_reader(
    root: Path, split: str, classes: list[str], image_exts: tuple[str, ...] = IMAGE_EXTS
) -> list[Sample]:
    """ImageFolder layout: ``root/<split>/<class name>/*`` (one folder per class).

    Every folder must be a class of ``classes`` and hold at least one image; a split may lack
    some classes.

    Args:
        root: Dataset folder.
        split: Split subfolder.
        classes: Class names (folder names), index = label.
        image_exts: Image file extensions (case-insensitive).
    """
    samples = []
    for folder in _class_dirs(root, split):
        if folder.name not in classes:
            raise DataError(
                f"class folder '{folder}' is not in the class list {classes}; add it to data.classes."
            )
        files = image_files(folder, image_exts)
        if not files:
            exts = sorted({e.lower() for e in image_exts})
            raise DataError(f"class folder '{folder}' holds no images ({', '.join(exts)}).")
        samples += [Sample(p, label=classes.index(folder.name)) for p in files]
    return samples


def label_counts(samples: list[Sample], num_classes: int) -> np.ndarray:
    """Samples per class."""
    return np.bincount([s.label for s in samples], minlength=num_classes)


class ClassificationDataset(Dataset):
    """Images and labels as dicts: ``image`` float32 3xHxW (ImageNet-normalised), ``label`` int64,
    ``path`` the image file name.

    Args:
        samples: Records of a label layout (``label``: the class index).
        transform: Pipeline called as ``transform(image=...)``; must give a fixed size.
    """

    def __init__(self, samples: list[Sample], transform: Callable[..., dict[str, Any]]) -> None:
        self.samples = samples
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.samples[index]
        image = self.transform(image=read_image(sample.image))["image"]
        return {
            "image": image,
            "label": torch.tensor(sample.label, dtype=torch.long),
            "path": str(sample.image),
        }


class ClassificationDataModule(BaseDataModule):
    """Train/val/test loaders for a :class:`ClassificationDataConfig` (``config``).

    ``limit_train`` / ``limit_val`` keep records spread over the (class-sorted) list, so every
    class stays in.
    """

    config: ClassificationDataConfig

    def subset(self, samples: list[Sample], limit: int | None) -> list[Sample]:
        return spread(samples, limit)

    def _dataset(self, samples: list[Sample], train: bool) -> ClassificationDataset:
        cfg = self.config
        return ClassificationDataset(samples, augment_transform(cfg.augment, train, cfg.image_size, cfg.normalize))
