"""Synthetic encoder feature maps, so decoders are tested without any encoder."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest
import torch
from torch import Tensor

CHANNELS = [8, 12, 16, 24, 40]
REDUCTIONS = [2, 4, 8, 16, 32]

MakeFeatures = Callable[..., list[Tensor]]


def _make_features(
    channels: Sequence[int] = CHANNELS,
    reductions: Sequence[int] = REDUCTIONS,
    size: tuple[int, int] = (64, 96),
    batch: int = 2,
) -> list[Tensor]:
    """Random maps shaped like an encoder's output for an input of ``size``."""
    torch.manual_seed(0)
    return [
        torch.randn(batch, c, size[0] // r, size[1] // r, requires_grad=True)
        for c, r in zip(channels, reductions, strict=True)
    ]


@pytest.fixture(autouse=True, scope="package")
def single_thread() -> Iterator[None]:
    """Run on one intra-op thread: the maps are tiny, and on the shared 2-core test machines
    a second thread mostly spin-waits for a core (suites ran 10x slower with two)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def make_features() -> MakeFeatures:
    """Factory of synthetic feature lists: ``make_features(channels, reductions, size, batch)``."""
    return _make_features
