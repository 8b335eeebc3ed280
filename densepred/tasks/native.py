"""Scoring predictions at each target's own (native) size.

A network predicts at ``data.image_size``; with ``data.eval_size: native`` every evaluation target
keeps the size of its file, and the prediction is upsampled bilinearly to it before it is scored
(depth in metres; segmentation logits before the argmax), as the MAI, NYU (Eigen), KITTI (Garg),
CamVid and VOC evaluations do. A batch's targets come stacked when they share one size, or as a
list when they differ (:func:`densepred.data.collate.collate_native`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def resize_to(x: Tensor, size: Sequence[int]) -> Tensor:
    """``x`` (Bx...xhxw) bilinearly resized to ``size`` (H, W); unchanged when it already has it."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x.float(), size=tuple(size), mode="bilinear", align_corners=False)


def at_target_size(pred: Tensor, targets: Tensor | list[Tensor]) -> list[tuple[Tensor, Tensor]]:
    """Pairs (prediction, target), each prediction upsampled to its target's size.

    Args:
        pred: BxCxhxw network output (depth or logits).
        targets: The batch's targets: one tensor Bx...xHxW when they share a size (one pair), or
            a list of B tensors ...xHxW of differing sizes (one pair per item, batch dim kept).
    """
    if isinstance(targets, Tensor):
        pairs = [(pred, targets)]
    else:
        pairs = [(pred[i : i + 1], t.unsqueeze(0)) for i, t in enumerate(targets)]
    return [(resize_to(p, t.shape[-2:]), t) for p, t in pairs]


def weighted_mean(values: list[tuple[Tensor, int]]) -> Tensor:
    """Mean of per-group values (e.g. losses of :func:`at_target_size` pairs) weighted by group size."""
    total = sum(n for _, n in values)
    return torch.stack([v * n for v, n in values]).sum() / total


def targets_at(targets: Tensor | list[Tensor], size: Sequence[int]) -> Tensor:
    """Targets nearest-resized to ``size`` and stacked (to draw them beside the input image).

    Args:
        targets: Bx...xHxW tensor or a list of ...xHxW tensors.
        size: (h, w) of the output.
    """
    items = list(targets)
    out = []
    for t in items:  # t: ...,H,W
        if tuple(t.shape[-2:]) != tuple(size):
            flat = t.reshape(1, -1, *t.shape[-2:]).float()  # 1,C,H,W
            t = (
                F.interpolate(flat, size=tuple(size), mode="nearest")
                .reshape(*t.shape[:-2], *size)
                .to(t.dtype)
            )
        out.append(t)
    return torch.stack(out)
