"""Segmentation data: mask layouts, the dataset of image/mask pairs, its config and data module.

A layout is a reader registered in :data:`~densepred.data.layout.FORMATS` with target ``mask``
(``reader(root, split, **args) -> list[Sample]``, ``Sample.target`` = the mask file) and the
layout's default class names and void label. Masks hold class ids (single-channel or palette PNGs, see
:func:`~densepred.data.io.read_mask`); the void label becomes ``data.ignore_index``, and any
other value outside the class list is an error that names the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from densepred.config.data import SegmentationDataConfig
from densepred.core.errors import DataError
from densepred.data.dense import DenseDataset
from densepred.data.dense_module import DenseDataModule
from densepred.data.depth import folder_reader
from densepred.data.io import read_mask
from densepred.data.layout import IMAGE_EXTS, Sample, register_format
from densepred.data.synthetic import MASK_CLASSES, synthetic_layout
from densepred.data.transforms import apply_dense_transform, augment_transform

CAMVID_CLASSES = (
    "sky",
    "building",
    "pole",
    "road",
    "pavement",
    "tree",
    "sign_symbol",
    "fence",
    "car",
    "pedestrian",
    "bicyclist",
)
"""The 11 classes of SegNet's CamVid release (label 11 = unlabelled, void)."""

VOC_CLASSES = (
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)
"""The 21 classes of Pascal VOC 2012 segmentation (label 255 = object borders, void)."""
MEDIAN_FREQUENCY = "median_frequency_weights"
"""Key of the training split's class weights in a cache's extras."""


def _pairs(
    root: Path, split: str, image_dir: str, mask_dir: str, image_exts: tuple[str, ...]
) -> list[Sample]:
    """``root/split/image_dir/NAME.ext`` paired with ``root/split/mask_dir/NAME.png``."""
    return folder_reader(
        root,
        split,
        image_dir=image_dir,
        depth_dir=mask_dir,
        image_exts=image_exts,
        depth_ext=".png",
    )


@register_format("synthetic", "mask", MASK_CLASSES)
@synthetic_layout
def synthetic_reader(folder: Path, split: str) -> list[Sample]:
    """The procedural set (generated under ``root`` on first use): ``rgb/*.png`` + ``mask/*.png``."""
    return _pairs(folder, split, "rgb", "mask", (".png",))


@register_format("folder", "mask", void_value=255)
def folder_layout_reader(
    root: Path,
    split: str,
    image_dir: str = "images",
    mask_dir: str = "masks",
    image_exts: tuple[str, ...] = IMAGE_EXTS,
) -> list[Sample]:
    """``root/<split>/images/NAME.<ext>`` + ``root/<split>/masks/NAME.png`` (class ids).

    Args:
        root: Dataset folder.
        split: Split subfolder.
        image_dir: Subfolder of the images.
        mask_dir: Subfolder of the masks.
        image_exts: Image file extensions (case-insensitive).
    """
    return _pairs(root, split, image_dir, mask_dir, image_exts)


@register_format("camvid", "mask", CAMVID_CLASSES, len(CAMVID_CLASSES))
def camvid_reader(root: Path, split: str) -> list[Sample]:
    """SegNet's CamVid layout: ``root/<split>/NAME.png`` + ``root/<split>annot/NAME.png``.

    Splits are ``train``, ``val`` and ``test``; labels 0..10, 11 = void.
    """
    return _pairs(root, ".", split, f"{split}annot", (".png",))


@register_format("voc", "mask", VOC_CLASSES, 255)
def voc_reader(root: Path, split: str, image_ext: str = ".jpg") -> list[Sample]:
    """Pascal VOC: ids in ``ImageSets/Segmentation/<split>.txt``, ``JPEGImages/ID.jpg`` and
    palette PNGs ``SegmentationClass/ID.png`` (palette index = class, 255 = void).

    Args:
        root: The ``VOC2012`` folder.
        split: ``train``, ``val`` or ``trainval`` (any list file in ``ImageSets/Segmentation``).
        image_ext: Image file extension.
    """
    ids_file = root / "ImageSets" / "Segmentation" / f"{split}.txt"
    if not ids_file.is_file():
        raise DataError(
            f"VOC split file '{ids_file}' does not exist. Expected layout: <root>/ImageSets/Segmentation/"
            "<split>.txt, <root>/JPEGImages/ID.jpg, <root>/SegmentationClass/ID.png"
        )
    ids = [
        line.split()[0]
        for line in ids_file.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    if not ids:
        raise DataError(f"VOC split file '{ids_file}' lists no images.")
    return [
        Sample(root / "JPEGImages" / f"{i}{image_ext}", root / "SegmentationClass" / f"{i}.png")
        for i in ids
    ]


class SegmentationDataset(DenseDataset):
    """Image/mask pairs as dicts for a segmentation model.

    Items: ``image`` float32 3xHxW (ImageNet-normalised), ``mask`` int64 HxW class ids with void
    pixels set to ``ignore_index``, ``path`` the image file name.

    Args:
        samples: Records of a mask layout (``target``: the mask file).
        num_classes: Number of classes; labels must lie in ``0..num_classes-1`` or be void.
        void_value: Label value of void pixels on disk (``None``: no void).
        ignore_index: Value void pixels get in ``mask``.
        transform: Pipeline called as ``transform(image=..., mask=...)``; default: normalise only.
        native_target: Keep ``mask`` at the file's own size (native-resolution evaluation);
            only the image is resized.
    """

    target_noun = "mask"

    def __init__(
        self,
        samples: list[Sample],
        num_classes: int,
        void_value: int | None = None,
        ignore_index: int = 255,
        transform: Callable[..., dict[str, Any]] | None = None,
        native_target: bool = False,
    ) -> None:
        super().__init__(samples, transform, native_target)
        self.num_classes = num_classes
        self.void_value = void_value
        self.ignore_index = ignore_index

    def read_mask(self, sample: Sample) -> np.ndarray:
        """The sample's HxW int32 class ids, void mapped to ``ignore_index``; checks the labels."""
        mask = read_mask(sample.target).astype(np.int32)  # H,W
        void = np.zeros(mask.shape, bool) if self.void_value is None else mask == self.void_value
        bad = ((mask < 0) | (mask >= self.num_classes)) & ~void
        if bad.any():
            values = sorted(set(np.unique(mask[bad]).tolist()))[:5]
            raise DataError(
                f"mask '{sample.target}' holds labels {values} outside the class list 0..{self.num_classes - 1} "
                f"(void label: {self.void_value}). Fix the mask, or set data.classes / data.void_value."
            )
        mask[void] = self.ignore_index
        return mask

    def read_target(self, sample: Sample, size: tuple[int, int]) -> np.ndarray:
        return self.read_mask(sample)

    def make_item(self, image: np.ndarray, target: np.ndarray | None, path: str) -> dict[str, Any]:
        image_t, mask_t = apply_dense_transform(self.transform, image, target, self.native_target)
        return {"image": image_t, "mask": mask_t.long(), "path": path}


def pixel_counts(dataset: SegmentationDataset) -> np.ndarray:
    """Non-void pixels per class over a dataset, at the resolution of its items
    (the native one for an evaluation split with ``data.eval_size: native``)."""
    counts = np.zeros(dataset.num_classes, dtype=np.int64)
    for i in range(len(dataset)):
        mask = dataset[i]["mask"].numpy()
        counts += np.bincount(
            mask[mask != dataset.ignore_index].ravel(), minlength=dataset.num_classes
        )
    return counts


def median_frequency_weights(dataset: SegmentationDataset) -> list[float]:
    """Class weights by median frequency balancing (Eigen & Fergus 2015, SegNet on CamVid).

    ``freq(c)`` = pixels of class ``c`` / non-void pixels of the images in which ``c`` appears;
    ``weight(c) = median(freq) / freq(c)``, the median over the classes that appear. Masks are
    read at their own size; a class that never appears gets weight 0 (it has no pixel to weigh).

    Args:
        dataset: The training split's dataset (only its masks are read).
    """
    pixels = np.zeros(dataset.num_classes, dtype=np.float64)
    present_in = np.zeros(dataset.num_classes, dtype=np.float64)
    for sample in dataset.samples:
        mask = dataset.read_mask(sample)
        counts = np.bincount(
            mask[mask != dataset.ignore_index].ravel(), minlength=dataset.num_classes
        )
        pixels += counts
        present_in += (counts > 0) * counts.sum()
    seen = pixels > 0
    if not seen.any():
        raise DataError(
            "median_frequency class weights: the training masks hold no labelled pixel."
        )
    freq = np.where(seen, pixels / np.maximum(present_in, 1), 0.0)
    median = float(np.median(freq[seen]))
    return [median / f if f > 0 else 0.0 for f in freq.tolist()]


class SegmentationDataModule(DenseDataModule):
    """Train/val/test loaders for a :class:`SegmentationDataConfig` (``config``)."""

    config: SegmentationDataConfig

    def dense_dataset(self, samples: list[Sample], train: bool) -> SegmentationDataset:
        cfg = self.config
        return SegmentationDataset(
            samples,
            len(cfg.classes),
            cfg.void_value,
            cfg.ignore_index,
            augment_transform(cfg.augment, train, cfg.image_size, cfg.normalize),
            native_target=cfg.native_targets(train),
        )

    def file_kinds(self) -> dict[str, str]:
        return {"image": "image", "target": "mask"}

    def median_frequency_weights(self) -> list[float]:
        """:func:`median_frequency_weights` of the training split (``data.limit_train`` applies),
        from its mask files at their own size; with ``data.cache``, the weights the cache
        recorded from those files when it was prepared."""
        if self.config.cache is not None:
            return self.manifest()["extras"][MEDIAN_FREQUENCY]
        cfg = self.config
        samples = self.samples(cfg.train_split, cfg.limit_train)
        return median_frequency_weights(self.dense_dataset(samples, train=False))

    def cache_extras(self) -> dict[str, object]:
        """What a cache records beside its items: the training split's median-frequency
        class weights, from the mask files at their own size."""
        return {MEDIAN_FREQUENCY: self.median_frequency_weights()}
