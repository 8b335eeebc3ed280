"""Choosing the validation items drawn in a sample grid: evenly spaced over the pass.

The first batch of a video dataset (CamVid, MAI sequences) holds nearly identical frames;
items spread over the whole validation pass show the model on different scenes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def spread_indices(total: int, n: int) -> list[int]:
    """``n`` evenly spaced indices of ``range(total)``, first and last included (all if ``n >= total``)."""
    if n <= 0 or total <= 0:
        return []
    if n >= total:
        return list(range(total))
    return np.linspace(0, total - 1, n).round().astype(int).tolist()


class SpreadSamples:
    """Keeps the rows at :func:`spread_indices` positions of an unshuffled evaluation pass.

    Args:
        total: Items the pass will see.
        n: Items to keep.
    """

    def __init__(self, total: int, n: int) -> None:
        self.wanted = set(spread_indices(total, n))
        self.seen = 0
        self.parts: list[tuple[Tensor, ...]] = []

    def add(self, *tensors: Tensor) -> None:
        """Offer the next batch: tensors with the batch as first dimension (kept on the CPU)."""
        size = tensors[0].shape[0]
        rows = [i for i in range(size) if self.seen + i in self.wanted]
        self.seen += size
        if rows:
            self.parts.append(tuple(t[rows].detach().cpu() for t in tensors))

    def result(self) -> tuple[Tensor, ...] | None:
        """The kept rows of each tensor, concatenated; ``None`` when none was kept."""
        if not self.parts:
            return None
        return tuple(torch.cat(columns) for columns in zip(*self.parts, strict=True))
