"""Data: file IO, the procedural synthetic set, layout readers, transforms and data modules.

- :mod:`~densepred.data.io`: read/write RGB images, metric depth (uint16 PNG) and class masks.
- :mod:`~densepred.data.synthetic`: the embedded default dataset, generated on first use.
- :mod:`~densepred.data.base`: the ``data`` keys and loaders every task shares
  (``DataConfig``, ``BaseDataModule``) and the check of ``data.args`` (``validate_reader_args``).
- :mod:`~densepred.data.depth`: depth layouts (``DEPTH_FORMATS``), ``DepthDataset``,
  ``DepthDataConfig`` and ``DepthDataModule``.
- :mod:`~densepred.data.transforms`: albumentations pipelines shared by depth and segmentation.
"""

from densepred.data.base import BaseDataModule, DataConfig, validate_reader_args
from densepred.data.depth import (
    DEPTH_FORMATS,
    DepthAugmentConfig,
    DepthDataConfig,
    DepthDataModule,
    DepthDataset,
    DepthSample,
    load_depth_samples,
)
from densepred.data.io import (
    read_depth,
    read_image,
    read_mask,
    write_depth,
    write_image,
    write_mask,
)
from densepred.data.synthetic import LABEL_CLASSES, MASK_CLASSES, ensure_synthetic
from densepred.data.transforms import build_dense_transform, prepare_image

__all__ = [
    "DEPTH_FORMATS",
    "LABEL_CLASSES",
    "MASK_CLASSES",
    "BaseDataModule",
    "DataConfig",
    "DepthAugmentConfig",
    "DepthDataConfig",
    "DepthDataModule",
    "DepthDataset",
    "DepthSample",
    "build_dense_transform",
    "ensure_synthetic",
    "load_depth_samples",
    "prepare_image",
    "read_depth",
    "read_image",
    "read_mask",
    "validate_reader_args",
    "write_depth",
    "write_image",
    "write_mask",
]
