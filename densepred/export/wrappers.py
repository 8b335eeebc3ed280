"""Modules wrapped around a network before export: channels-last I/O and the MAI contract."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from densepred.config.data import NormalizeConfig
from densepred.core.errors import ConfigError, unknown_name_message

MAI_INPUT_SIZE = (480, 640)
"""(H, W) of the MAI challenge's input and output (640x480 images)."""

DEPTH_UNITS: dict[str, float] = {"mm": 1000.0, "cm": 100.0, "m": 1.0}
"""Unit name -> units per metre of the exported depth (the network predicts metres)."""


class ChannelsLast(nn.Module):
    """NHWC in, NHWC out: ``1xHxWxC`` input, dense outputs ``1xHxWxC`` (other outputs as they are).

    Args:
        model: A network taking and returning NCHW tensors.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        y = self.model(x.permute(0, 3, 1, 2))  # B x C x H x W (or B x K logits)
        return y.permute(0, 2, 3, 1) if y.dim() == 4 else y  # B x H x W x C


def pool_factor(side: int, target: int) -> int:
    """The largest integer that divides ``side`` and is at most ``side / target`` (1 if none)."""
    return max(k for k in range(1, max(side // target, 1) + 1) if side % k == 0)


def area_resize(x: Tensor, size: Sequence[int]) -> Tensor:
    """``x`` (BxCxHxW) resized to ``size`` (h, w), close to ``cv2.INTER_AREA`` when shrinking,
    with ops every runtime has: average pooling by :func:`pool_factor` per axis, then bilinear
    for the rest (480x640 -> 128x160: pool 3x4, then 160 -> 128 rows bilinearly).

    Bilinear alone samples 4 pixels where INTER_AREA averages about 15, so the network would see
    aliased inputs it never saw in training. On the 7 real dev photos the network input moves by
    0.75 (0..255) from INTER_AREA's this way, 2.31 with bilinear alone.
    """
    height, width = x.shape[-2:]
    kernel = (pool_factor(height, size[0]), pool_factor(width, size[1]))
    if kernel != (1, 1):
        x = F.avg_pool2d(x, kernel)
    if tuple(x.shape[-2:]) != tuple(size):
        x = bilinear_resize(x, size)
    return x


def bilinear_resize(x: Tensor, size: Sequence[int]) -> Tensor:
    """``x`` (BxCxHxW) resized to ``size`` (h, w) bilinearly: one op, aliased when shrinking."""
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)


MAI_RESIZES = {"area": area_resize, "bilinear": bilinear_resize}
"""Name -> how the MAI graph shrinks its input to the network's size (``--mai-resize``)."""


class MaiDepth(nn.Module):
    """The MAI challenge's I/O contract around a depth network, as LiteDepth exports it.

    Input ``1xHxWx3`` float RGB in 0..255 (NHWC, ``H x W`` = ``input_size``, 480x640 by
    default); the graph divides by 255 and applies the mean/std of training (one
    multiply and one add per channel), resizes to the network's ``model_size`` (``resize``;
    ``area`` is close to training's ``cv2.INTER_AREA``), runs the network (depth in metres),
    resizes the depth back to ``input_size`` bilinearly and scales it to ``units``. Output
    ``1xHxWx1`` float depth.

    Args:
        model: Depth network: normalised NCHW image -> ``Bx1xhxw`` metres.
        model_size: (h, w) the network runs at, normally the training size.
        input_size: (H, W) of the contract's input and output.
        units: Output unit, one of ``DEPTH_UNITS`` (``mm`` as in the challenge's PNGs).
        normalize: The run's ``data.normalize`` (mean/std of training; ``None``: ImageNet's).
        resize: Name in :data:`MAI_RESIZES`: ``area`` (default) or ``bilinear`` (one op less,
            aliased inputs).
    """

    def __init__(
        self,
        model: nn.Module,
        model_size: Sequence[int],
        input_size: Sequence[int] = MAI_INPUT_SIZE,
        units: str = "mm",
        normalize: NormalizeConfig | None = None,
        resize: str = "area",
    ) -> None:
        super().__init__()
        if units not in DEPTH_UNITS:
            raise ConfigError(unknown_name_message("depth unit", units, DEPTH_UNITS))
        if resize not in MAI_RESIZES:
            raise ConfigError(unknown_name_message("MAI input resize", resize, MAI_RESIZES))
        self.resize = MAI_RESIZES[resize]
        self.model = model
        self.model_size = tuple(int(s) for s in model_size)
        self.input_size = tuple(int(s) for s in input_size)
        self.units = units
        self.scale = DEPTH_UNITS[units]
        norm = normalize or NormalizeConfig()
        mean, std = torch.tensor(norm.mean), torch.tensor(norm.std)
        # (x / 255 - mean) / std == x * a + b, per channel
        self.register_buffer("mul", (1.0 / (255.0 * std)).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("add", (-mean / std).view(1, 3, 1, 1), persistent=False)

    def forward(self, rgb: Tensor) -> Tensor:
        x = rgb.permute(0, 3, 1, 2) * self.mul + self.add  # B x 3 x H x W, normalised
        if self.model_size != self.input_size:
            x = self.resize(x, self.model_size)
        depth = self.model(x)  # B x 1 x h x w, metres
        if self.model_size != self.input_size:
            depth = bilinear_resize(depth, self.input_size)
        return (depth * self.scale).permute(0, 2, 3, 1)  # B x H x W x 1, units
