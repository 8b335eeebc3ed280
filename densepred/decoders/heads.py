"""Prediction heads: a conv (3x3 by default) from the decoder's map to the task's output (no upsampling)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from densepred.core.errors import ConfigError, unknown_name_message
from densepred.core.registry import Registry

HEADS: Registry = Registry("head")

# name -> (activation(x, min, max) -> depth, inverse(depth, min, max) -> x).
# Every activation returns depths inside [min, max].
DEPTH_ACTIVATIONS: dict[
    str, tuple[Callable[[Tensor, float, float], Tensor], Callable[[float, float, float], float]]
] = {
    "sigmoid": (
        lambda x, lo, hi: lo + torch.sigmoid(x) * (hi - lo),
        lambda d, lo, hi: math.log((d - lo) / (hi - d)),
    ),
    "exp": (
        lambda x, lo, hi: torch.exp(x).clamp(lo, hi),
        lambda d, lo, hi: math.log(d),
    ),
    "softplus": (
        lambda x, lo, hi: (lo + F.softplus(x)).clamp(max=hi),
        lambda d, lo, hi: math.log(math.expm1(d - lo)),
    ),
}

IMAGE_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "identity": lambda x: x,
}


def _head_conv(in_channels: int, out_channels: int, kernel_size: int = 3) -> nn.Conv2d:
    """``kernel_size`` conv (odd, same padding) with Xavier-uniform weights and zero bias (smp's
    head init)."""
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ConfigError(
            f"head kernel_size must be a positive odd number (1, 3, ...), got {kernel_size}."
        )
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
    nn.init.xavier_uniform_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


@HEADS.register("depth")
class DepthHead(nn.Module):
    """Depth in metres from the decoder's map: 3x3 conv to 1 channel and a bounded activation.

    ``sigmoid``: ``min + sigmoid(x) * (max - min)``; ``exp`` (log-depth): ``exp(x)`` clamped to
    ``[min, max]``; ``softplus``: ``min + softplus(x)`` clamped to ``max``. The bias starts at
    the value that predicts ``sqrt(min * max)``, the middle of the log-depth range, where the
    log-depth still moves about one unit per unit of ``x`` for every activation (no saturation).

    Args:
        in_channels: Channels of the decoder's map.
        min_depth: Smallest depth the head can predict (metres, > 0).
        max_depth: Largest depth the head can predict (metres).
        activation: One of ``DEPTH_ACTIVATIONS``.
        kernel_size: Size of the conv (3; 1 as the heads of smp's FPN and DeepLabV3 family).
    """

    def __init__(
        self,
        in_channels: int,
        min_depth: float = 1e-3,
        max_depth: float = 10.0,
        activation: str = "sigmoid",
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        if activation not in DEPTH_ACTIVATIONS:
            raise ConfigError(
                unknown_name_message("depth activation", activation, DEPTH_ACTIVATIONS)
            )
        if not 0 < min_depth < max_depth:
            raise ConfigError(
                f"depth head: need 0 < min_depth < max_depth, got min_depth={min_depth}, "
                f"max_depth={max_depth}."
            )
        self.min_depth = min_depth
        self.max_depth = max_depth
        self.activation = activation
        self.out_channels = 1
        self.conv = _head_conv(in_channels, 1, kernel_size)
        inverse = DEPTH_ACTIVATIONS[activation][1]
        middle = math.sqrt(min_depth * max_depth)
        nn.init.constant_(self.conv.bias, inverse(middle, min_depth, max_depth))

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)  # B x 1 x H x W
        activation = DEPTH_ACTIVATIONS[self.activation][0]
        return activation(x, self.min_depth, self.max_depth)  # B x 1 x H x W, metres

    def extra_repr(self) -> str:
        return f"min_depth={self.min_depth}, max_depth={self.max_depth}, activation={self.activation!r}"


@HEADS.register("segmentation")
class SegmentationHead(nn.Module):
    """Per-pixel class logits: optional channel dropout, then a conv (3x3 by default).

    Args:
        in_channels: Channels of the decoder's map.
        num_classes: Number of classes (logit channels).
        dropout: Probability of ``Dropout2d`` before the conv (0 disables it).
        kernel_size: Size of the conv (3; 1 as the heads of smp's FPN and DeepLabV3 family, which
            makes such a model's folder loadable by ``segmentation_models_pytorch.from_pretrained``).
    """

    def __init__(
        self, in_channels: int, num_classes: int, dropout: float = 0.0, kernel_size: int = 3
    ) -> None:
        super().__init__()
        self.out_channels = num_classes
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.conv = _head_conv(in_channels, num_classes, kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(self.dropout(x))  # B x num_classes x H x W


@HEADS.register("image")
class ImageHead(nn.Module):
    """Image output of GAN generators: 3x3 conv and ``tanh`` (images in [-1, 1]) or another.

    Args:
        in_channels: Channels of the decoder's map.
        out_channels: Image channels.
        activation: One of ``IMAGE_ACTIVATIONS``.
        kernel_size: Size of the conv (3; 1 as the heads of smp's FPN and DeepLabV3 family).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int = 3,
        activation: str = "tanh",
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        if activation not in IMAGE_ACTIVATIONS:
            raise ConfigError(
                unknown_name_message("image activation", activation, IMAGE_ACTIVATIONS)
            )
        self.out_channels = out_channels
        self.conv = _head_conv(in_channels, out_channels, kernel_size)
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        return IMAGE_ACTIVATIONS[self.activation](self.conv(x))  # B x out_channels x H x W
