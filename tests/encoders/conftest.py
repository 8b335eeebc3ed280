"""Encoder test fixtures: a session cache so each encoder configuration is built once."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch
from torch import nn

from densepred.encoders import create_encoder


@pytest.fixture(scope="session")
def build_encoder() -> Callable[..., nn.Module]:
    """``create_encoder`` plus a ``device`` argument, cached by its arguments; eval mode.

    On ``device="meta"`` building and running cost next to nothing and the real operators
    still compute every output shape, which is what the contract tests of large models need.
    """
    cache: dict[tuple, nn.Module] = {}

    def build(name: str, device: str = "cpu", **kwargs: object) -> nn.Module:
        key = (name, device, tuple(sorted(kwargs.items())))
        if key not in cache:
            with torch.device(device):
                cache[key] = create_encoder(name, **kwargs).eval()
        return cache[key]

    return build


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Run the tiny encoder forwards on one thread.

    On a busy 2-core machine the threads of a 2-thread run mostly wait for each other, which
    made these 64x64 forwards about 10x slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
