"""The ``model`` keys that change how the network runs, not what it computes."""

from __future__ import annotations

import torch
from torch import nn

from densepred.core.schema import StrictModel


class ExecutionConfig(StrictModel):
    """Memory format and compilation of the network (dense, classifier and GAN ``model`` sections).

    Attributes:
        channels_last: Keep weights and activations in NHWC (``torch.channels_last``): oneDNN's
            fast layout on CPU, and Tensor Cores' on GPU. Applies to training and inference.
        compile: Train through ``torch.compile`` (the network's forward, compiled in place when
            training starts, so checkpoints keep their keys). Predict, evaluate and export run
            the network eagerly.
    """

    channels_last: bool = False
    compile: bool = False


def apply_memory_format(model: nn.Module, cfg: object) -> None:
    """Convert ``model`` to channels-last in place if its section asks for it."""
    if getattr(cfg, "channels_last", False):
        model.to(memory_format=torch.channels_last)


def compile_for_training(model: nn.Module, cfg: object) -> None:
    """Compile ``model``'s forward in place (``nn.Module.compile``) if its section asks for it."""
    if getattr(cfg, "compile", False):
        model.compile()
