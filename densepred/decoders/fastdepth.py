"""FastDepth NNConv5 decoder (Wofk et al., ICRA 2019): depthwise 5x5 blocks + nearest upsampling."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from timm.layers import ConvNormAct
from torch import Tensor, nn

from densepred.core.errors import ConfigError, unknown_name_message
from densepred.decoders import DECODERS
from densepred.decoders.blocks import (
    Upsample,
    check_features,
    check_step_channels,
    conv_block,
    init_weights,
    skip_plan,
)

SKIP_MODES = ("add", "concat", "none")


class NNConvBlock(nn.Module):
    """One NNConv5 step: depthwise 5x5 + pointwise 1x1 (BN + ReLU each), nearest upsample, skip.

    Args:
        in_channels: Channels of the deeper map.
        out_channels: Channels after the conv block.
        skip_channels: Channels of the skip map (0 when the step has none).
        factor: Nearest-upsampling factor (1 where the encoder reduction does not change).
        skip: ``"add"`` (1x1 conv + BN projection when channels differ), ``"concat"`` or
            ``"none"``.
        kernel_size: Depthwise kernel size.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        skip_channels: int,
        factor: int,
        skip: str,
        kernel_size: int,
    ) -> None:
        super().__init__()
        self.conv = conv_block(in_channels, out_channels, kernel_size, separable=True)
        self.up = Upsample(out_channels, out_channels, factor, "nearest")
        self.skip = skip if skip_channels else "none"
        self.proj: nn.Module = nn.Identity()
        if self.skip == "add" and skip_channels != out_channels:
            self.proj = ConvNormAct(skip_channels, out_channels, 1, apply_act=False)
        self.out_channels = out_channels + (skip_channels if self.skip == "concat" else 0)

    def forward(self, x: Tensor, skip: Tensor | None = None) -> Tensor:
        x = self.up(self.conv(x))  # B x C_out x H_skip x W_skip
        if self.skip == "add":
            x = x + self.proj(skip)  # B x C_out x H_skip x W_skip
        elif self.skip == "concat":
            x = torch.cat([x, skip], dim=1)  # B x (C_out + C_skip) x H_skip x W_skip
        return x


@DECODERS.register("fastdepth")
class FastDepthDecoder(nn.Module):
    """NNConv5 decoder of FastDepth with skips from the encoder maps at matching strides.

    Each step applies a depthwise-separable 5x5 block to the deeper map, upsamples it
    (nearest) to the next encoder stride and merges the encoder map of that stride; the last
    step ends at stride 1 without skip. The original pairs MobileNetV1 with 1024 -> 512 -> 256
    -> 128 -> 64 -> 32 channels and additive skips.

    Args:
        encoder_channels: Channels of the encoder maps, shallowest first.
        encoder_reductions: Strides of the encoder maps, shallowest first.
        channels: Output channels of each block, deepest first (one per encoder map).
        skip: How encoder maps join the decoder: ``"add"``, ``"concat"`` or ``"none"``.
        kernel_size: Kernel size of the depthwise convs (5 in FastDepth).
    """

    def __init__(
        self,
        encoder_channels: Sequence[int],
        encoder_reductions: Sequence[int],
        channels: Sequence[int] = (512, 256, 128, 64, 32),
        skip: str = "add",
        kernel_size: int = 5,
    ) -> None:
        super().__init__()
        if skip not in SKIP_MODES:
            raise ConfigError(unknown_name_message("fastdepth skip mode", skip, SKIP_MODES))
        check_features(encoder_channels, encoder_reductions)
        plan = skip_plan(encoder_reductions)
        check_step_channels(channels, len(plan), "fastdepth")
        self.skip_indices = [index for _, index in plan]
        blocks = []
        in_channels = encoder_channels[-1]
        for (factor, index), out_channels in zip(plan, channels, strict=True):
            skip_channels = 0 if index is None or skip == "none" else encoder_channels[index]
            block = NNConvBlock(in_channels, out_channels, skip_channels, factor, skip, kernel_size)
            blocks.append(block)
            in_channels = block.out_channels
        self.blocks = nn.ModuleList(blocks)
        self.out_channels = in_channels
        self.out_reduction = 1
        init_weights(self)

    def forward(self, features: list[Tensor]) -> Tensor:
        x = features[-1]  # B x C_deep x H/os x W/os
        for block, index in zip(self.blocks, self.skip_indices, strict=True):
            x = block(x, None if index is None else features[index])  # B x C_i x H/r_i x W/r_i
        return x  # B x out_channels x H x W
