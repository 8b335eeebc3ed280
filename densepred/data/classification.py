"""Classification data: image-level labels, read from the synthetic set or an ImageFolder tree.

A layout is registered in :data:`CLS_FORMATS` as a :class:`ClsFormat`: a reader
``reader(root, split, classes, **args) -> list[ClsSample]`` plus a function giving the
layout's default class names. Images of any size and mode (palette, grey, RGBA) are read as
RGB and resized to ``data.image_size``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import Field, field_validator, model_validator
from torch.utils.data import Dataset

from densepred.data.base import BaseDataModule, DataConfig, validate_reader_args
from densepred.data.depth import DepthAugmentConfig
from densepred.data.io import read_image
from densepred.data.synthetic import (
    LABEL_CLASSES,
    synthetic_layout,
)
from densepred.errors import DataError
from densepred.registry import Registry

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
IMAGEFOLDER_LAYOUT = "<root>/<split>/<class name>/<image files>"


@dataclass(frozen=True)
class ClsSample:
    """An image and its class index.

    Attributes:
        image: Image file.
        label: Index into ``data.classes``.
    """

    image: Path
    label: int


@dataclass(frozen=True)
class ClsFormat:
    """A classification layout.

    Attributes:
        reader: ``reader(root, split, classes, **args) -> list[ClsSample]``.
        classes: ``classes(root, train_split) -> list[str]``: the layout's default class names.
    """

    reader: Callable[..., list[ClsSample]]
    classes: Callable[[Path, str], list[str]]


CLS_FORMATS: Registry[ClsFormat] = Registry("classification data format")


@synthetic_layout
def synthetic_reader(folder: Path, split: str, classes: list[str]) -> list[ClsSample]:
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
    samples = [ClsSample(folder / split / "rgb" / row["file"], int(row["label"])) for row in rows]
    bad = [s for s in samples if not 0 <= s.label < len(classes)]
    if bad:
        raise DataError(
            f"'{labels_file}': label {bad[0].label} of '{bad[0].image.name}' is outside the class list "
            f"0..{len(classes) - 1} ({classes})."
        )
    return samples


def synthetic_classes(root: Path, split: str) -> list[str]:
    """The synthetic set's image-level classes (the kind of object in the scene)."""
    return list(LABEL_CLASSES)


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


def imagefolder_reader(
    root: Path, split: str, classes: list[str], image_exts: tuple[str, ...] = IMAGE_EXTS
) -> list[ClsSample]:
    """ImageFolder layout: ``root/<split>/<class name>/*`` (one folder per class).

    Every folder must be a class of ``classes`` and hold at least one image; a split may lack
    some classes.

    Args:
        root: Dataset folder.
        split: Split subfolder.
        classes: Class names (folder names), index = label.
        image_exts: Image file extensions (case-insensitive).
    """
    exts = {e.lower() for e in image_exts}
    samples = []
    for folder in _class_dirs(root, split):
        if folder.name not in classes:
            raise DataError(
                f"class folder '{folder}' is not in the class list {classes}; add it to data.classes."
            )
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in exts)
        if not files:
            raise DataError(f"class folder '{folder}' holds no images ({', '.join(sorted(exts))}).")
        samples += [ClsSample(p, classes.index(folder.name)) for p in files]
    return samples


CLS_FORMATS.add("synthetic", ClsFormat(synthetic_reader, synthetic_classes))
CLS_FORMATS.add("imagefolder", ClsFormat(imagefolder_reader, imagefolder_classes))


def load_cls_samples(
    format: str,
    root: str | Path,
    split: str,
    classes: list[str],
    args: dict[str, Any] | None = None,
) -> list[ClsSample]:
    """List the samples of one split with the reader registered as ``format``.

    Args:
        format: Name in :data:`CLS_FORMATS` (``synthetic``, ``imagefolder``).
        root: Dataset folder.
        split: Split name.
        classes: Class names, index = label.
        args: Reader keyword arguments (``data.args``), checked against the reader's signature.
    """
    reader = CLS_FORMATS.get(format).reader
    return reader(Path(root), split, list(classes), **validate_reader_args(reader, args))


def spread_subset(samples: list[ClsSample], limit: int | None) -> list[ClsSample]:
    """``limit`` samples spread evenly over the (class-sorted) list, so every class stays in."""
    if limit is None or limit >= len(samples):
        return samples
    return [samples[i * len(samples) // limit] for i in range(limit)]


def label_counts(samples: list[ClsSample], num_classes: int) -> np.ndarray:
    """Samples per class."""
    return np.bincount([s.label for s in samples], minlength=num_classes)


class ClassificationDataset(Dataset):
    """Images and labels as dicts: ``image`` float32 3xHxW (ImageNet-normalised), ``label`` int64,
    ``path`` the image file name.

    Args:
        samples: Samples from :func:`load_cls_samples`.
        transform: Pipeline called as ``transform(image=...)``; must give a fixed size.
    """

    def __init__(self, samples: list[ClsSample], transform: Callable[..., dict[str, Any]]) -> None:
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


class ClassificationDataConfig(DataConfig):
    """The ``data`` section of a classification config.

    The keys of :class:`~densepred.data.base.DataConfig` (``format``: one of :data:`CLS_FORMATS`;
    ``limit_train`` / ``limit_val`` keep samples spread over the classes) and these.
    ``classes`` defaults to the layout's own (synthetic: box, sphere, cylinder; imagefolder: the
    sorted folder names of the training split). The resolved list is written to the run's config
    and checkpoint, so a checkpoint alone rebuilds its model.

    Attributes:
        classes: Class names, index = label.
        image_size: (H, W) every image is resized to.
        augment: Training augmentations.
    """

    reserved_args: ClassVar[dict[str, str]] = {
        **DataConfig.reserved_args,
        "classes": "data.classes",
    }

    classes: list[str] = Field(default_factory=list)
    image_size: tuple[int, int] = (96, 128)
    batch_size: int = Field(16, ge=1)
    augment: DepthAugmentConfig = Field(default_factory=DepthAugmentConfig)

    @model_validator(mode="before")
    @classmethod
    def _layout_classes(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("classes"):
            return data
        layout = CLS_FORMATS.get(data.get("format", "synthetic"))
        root = Path(data.get("root", "datasets/synthetic"))
        return {**data, "classes": layout.classes(root, data.get("train_split", "train"))}

    @classmethod
    def reader(cls, format: str) -> Callable[..., list[ClsSample]]:
        return CLS_FORMATS.get(format).reader

    @field_validator("classes")
    @classmethod
    def _two_or_more(cls, classes: list[str]) -> list[str]:
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ValueError(f"classes must hold at least two distinct names, got {classes}")
        return classes


class ClassificationDataModule(BaseDataModule):
    """Train/val/test loaders for a :class:`ClassificationDataConfig` (``config``)."""

    config: ClassificationDataConfig

    def _samples(self, split: str, limit: int | None) -> list[ClsSample]:
        cfg = self.config
        return spread_subset(
            load_cls_samples(cfg.format, cfg.root, split, cfg.classes, cfg.args), limit
        )

    def _dataset(self, split: str, limit: int | None, train: bool) -> ClassificationDataset:
        cfg = self.config
        transform = cfg.augment.transform(train, cfg.image_size)
        return ClassificationDataset(self._samples(split, limit), transform)
