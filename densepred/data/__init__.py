"""Data: file IO, the synthetic set, one layout contract, transforms and data modules.

- :mod:`~densepred.data.io`: read/write RGB images, metric depth (uint16 PNG) and class masks.
- :mod:`~densepred.data.synthetic`: the embedded default dataset, generated on first use.
- :mod:`~densepred.data.layout`: the contract of every layout: :class:`Sample` records, the
  :data:`FORMATS` registry (layout name -> reader per target: depth, mask, label, pair),
  :func:`register_format`, :data:`IMAGE_EXTS`.
- :mod:`~densepred.data.base`: the ``data`` keys and the data module every task shares
  (``DataConfig``, ``BaseDataModule``: splits, limits, loaders, target checks, pre-flight).
- :mod:`~densepred.data.preflight`: the file checks run before work starts.
- :mod:`~densepred.data.transforms`: albumentations pipelines and ``AugmentConfig``.
- :mod:`~densepred.data.depth`, :mod:`~densepred.data.segmentation`,
  :mod:`~densepred.data.classification`, :mod:`~densepred.data.paired`: each task's layouts,
  dataset, config and data module. They are imported here so that :data:`FORMATS` always
  holds every layout.
"""

from densepred.config.data import (
    AugmentConfig,
    ClassificationDataConfig,
    DataConfig,
    DepthDataConfig,
    PairedDataConfig,
    SegmentationDataConfig,
)
from densepred.data.base import BaseDataModule
from densepred.data.classification import ClassificationDataModule
from densepred.data.depth import DepthDataModule, DepthDataset
from densepred.data.io import (
    read_depth,
    read_image,
    read_mask,
    write_depth,
    write_image,
    write_mask,
)
from densepred.data.layout import (
    FORMATS,
    IMAGE_EXTS,
    Sample,
    format_reader,
    formats_providing,
    read_samples,
    register_format,
    validate_reader_args,
)
from densepred.data.paired import PairedDataModule
from densepred.data.segmentation import SegmentationDataModule
from densepred.data.synthetic import LABEL_CLASSES, MASK_CLASSES, ensure_synthetic
from densepred.data.transforms import build_dense_transform

__all__ = [
    "FORMATS",
    "IMAGE_EXTS",
    "LABEL_CLASSES",
    "MASK_CLASSES",
    "AugmentConfig",
    "BaseDataModule",
    "ClassificationDataConfig",
    "ClassificationDataModule",
    "DataConfig",
    "DepthDataConfig",
    "DepthDataModule",
    "DepthDataset",
    "PairedDataConfig",
    "PairedDataModule",
    "Sample",
    "SegmentationDataConfig",
    "SegmentationDataModule",
    "build_dense_transform",
    "ensure_synthetic",
    "format_reader",
    "formats_providing",
    "read_depth",
    "read_image",
    "read_mask",
    "read_samples",
    "register_format",
    "validate_reader_args",
    "write_depth",
    "write_image",
    "write_mask",
]
