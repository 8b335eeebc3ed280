"""The ``model`` keys that change how the network runs, not what it computes."""

from __future__ import annotations

import torch
from torch import nn

from densepred.config.model import ExecutionConfig


def apply_memory_format(model: nn.Module, cfg: ExecutionConfig) -> None:
    """Convert ``model`` to channels-last in place if its section asks for it."""
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)


def compile_for_training(model: nn.Module, cfg: ExecutionConfig) -> None:
    """Compile ``model``'s forward in place (``nn.Module.compile``) if its section asks for it."""
    if cfg.compile:
        model.compile()
