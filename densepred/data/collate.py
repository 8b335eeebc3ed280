"""Batching items whose targets may differ in size (native-resolution evaluation).

With ``data.eval_size: native`` the images of an evaluation batch share ``data.image_size`` but
each target keeps its file's own size, which may differ between files (KITTI, VOC). The collate
stacks a key's tensors when their shapes agree and keeps them as a list otherwise; tasks score
each target against the prediction upsampled to its size
(:func:`densepred.tasks.native.at_target_size`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import default_collate


def collate_native(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Batch dict items: tensors of one shape are stacked, tensors of differing shapes stay a
    list (one per item), everything else goes through ``default_collate``.

    Args:
        items: Dataset items (dicts with the same keys).
    """
    batch: dict[str, Any] = {}
    for key in items[0]:
        values = [item[key] for item in items]
        ragged = isinstance(values[0], torch.Tensor) and len({v.shape for v in values}) > 1
        batch[key] = values if ragged else default_collate(values)
    return batch
