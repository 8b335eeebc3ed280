"""The dataset of a dense task (depth, segmentation): decoding a record apart from making its item.

:meth:`DenseDataset.read` decodes a record's files into arrays (the image and its target at the
files' size) and :meth:`DenseDataset.make_item` turns such arrays into the item a batch holds
(transform, tensors). ``__getitem__`` is the two in a row. A prepared cache
(:mod:`densepred.data.stream`) stores what ``read`` and the deterministic resize give, and makes
its items with the same ``make_item``, so both paths run the same augmentation code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from torch.utils.data import Dataset

from densepred.core.errors import DataError
from densepred.data.io import read_image
from densepred.data.layout import Sample
from densepred.data.transforms import build_dense_transform


class DenseDataset(Dataset, ABC):
    """Records of an image and a dense target, as dicts for a dense model.

    Args:
        samples: Records of a layout (``target``: the target file, or ``None``).
        transform: Pipeline called as ``transform(image=..., mask=target)``
            (see :func:`~densepred.data.transforms.build_dense_transform`); default: normalise only.
        native_target: Keep the target at the file's own size (native-resolution evaluation);
            only the image is resized.
    """

    target_noun: ClassVar[str] = "target"
    """How messages name the target file (``depth``, ``mask``)."""

    def __init__(
        self,
        samples: list[Sample],
        transform: Callable[..., dict[str, Any]] | None = None,
        native_target: bool = False,
    ) -> None:
        self.samples = samples
        self.transform = transform or build_dense_transform(train=False)
        self.native_target = native_target

    def __len__(self) -> int:
        return len(self.samples)

    @abstractmethod
    def read_target(self, sample: Sample, size: tuple[int, int]) -> np.ndarray | None:
        """The record's HxW target array at its file's size (``None``: the record has none).

        Args:
            sample: The record.
            size: (H, W) of its image.
        """

    @abstractmethod
    def make_item(self, image: np.ndarray, target: np.ndarray | None, path: str) -> dict[str, Any]:
        """The item of decoded arrays: the transform applied, tensors out.

        Args:
            image: HxWx3 uint8 RGB.
            target: HxW target of the image's size (or of the file's size when
                ``native_target``), ``None`` for a record without one.
            path: The image file, as items name it.
        """

    def read(self, sample: Sample) -> tuple[np.ndarray, np.ndarray | None]:
        """The record's decoded image and target; ``DataError`` when their sizes differ."""
        image = read_image(sample.image)
        target = self.read_target(sample, image.shape[:2])
        if target is not None and target.shape != image.shape[:2]:
            raise DataError(
                f"{self.target_noun} '{sample.target}' is {target.shape[0]}x{target.shape[1]} but "
                f"its image '{sample.image}' is {image.shape[0]}x{image.shape[1]} (HxW); they must "
                "have the same size."
            )
        return image, target

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.samples[index]
        return self.make_item(*self.read(sample), str(sample.image))
