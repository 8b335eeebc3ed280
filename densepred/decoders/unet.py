"""U-Net decoder: upsample, concatenate the encoder skip, two 3x3 conv-BN-ReLU (MAI baseline)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from densepred.core.errors import ConfigError
from densepred.decoders import DECODERS
from densepred.decoders.blocks import (
    Upsample,
    check_features,
    check_step_channels,
    conv_block,
    init_weights,
    skip_plan,
)


class UnetBlock(nn.Module):
    """One U-Net step: upsample the deeper map, concatenate the skip, two conv blocks.

    Args:
        in_channels: Channels of the deeper map.
        skip_channels: Channels of the skip map (0 for the final step without skip).
        out_channels: Channels of the step's output.
        factor: Upsampling factor (1 where the encoder reduction does not change).
        upsample: Upsampling mode (see :class:`~densepred.decoders.blocks.Upsample`).
        separable: Use depthwise-separable conv blocks.
    """

    def __init__(
        self,
        in_channels: int,
        skip_channels: int,
        out_channels: int,
        factor: int,
        upsample: str,
        separable: bool,
    ) -> None:
        super().__init__()
        self.up = Upsample(in_channels, out_channels, factor, upsample)
        self.convs = nn.Sequential(
            conv_block(self.up.out_channels + skip_channels, out_channels, separable=separable),
            conv_block(out_channels, out_channels, separable=separable),
        )

    def forward(self, x: Tensor, skip: Tensor | None = None) -> Tensor:
        x = self.up(x)  # B x C_up x H_skip x W_skip
        if skip is not None:
            x = torch.cat([x, skip], dim=1)  # B x (C_up + C_skip) x H_skip x W_skip
        return self.convs(x)  # B x C_out x H_skip x W_skip


@DECODERS.register("unet")
class UnetDecoder(nn.Module):
    """U-Net decoder that climbs from the deepest encoder map back to the input stride.

    Each step upsamples the deeper map to the next skip's stride, concatenates that skip and
    applies two 3x3 conv-BN-ReLU blocks; a final step without skip upsamples from the
    shallowest map to stride 1. Steps between maps of equal reduction (dilated encoders) do
    not upsample. ``final_stride=2`` stops at the shallowest skip instead: the full-resolution
    step is the decoder's most expensive one, and the model upsamples the head's output
    bilinearly to the input size (as most light depth networks do).

    Args:
        encoder_channels: Channels of the encoder maps, shallowest first.
        encoder_reductions: Strides of the encoder maps, shallowest first.
        channels: Output channels of each step, deepest first (one per encoder map).
        upsample: ``"transposed"`` (``ConvTranspose2d``, kernel = stride = factor, mapping to
            the step's channels), ``"bilinear"`` or ``"nearest"`` (channels kept).
        separable: Depthwise-separable 3x3 blocks (a light variant for mobile encoders).
        final_stride: Stride of the decoder's output: 1, or an encoder reduction at which the
            decoder stops (one step fewer per skipped stride; ``channels`` has one entry per
            step kept).
    """

    def __init__(
        self,
        encoder_channels: Sequence[int],
        encoder_reductions: Sequence[int],
        channels: Sequence[int] = (256, 128, 64, 32, 16),
        upsample: str = "transposed",
        separable: bool = False,
        final_stride: int = 1,
    ) -> None:
        super().__init__()
        check_features(encoder_channels, encoder_reductions)
        if final_stride != 1 and final_stride not in encoder_reductions:
            raise ConfigError(
                f"unet decoder: final_stride={final_stride} is neither 1 nor an encoder reduction "
                f"({sorted(set(encoder_reductions))}); use 1 (full resolution) or 2."
            )
        plan = [
            (factor, skip)
            for factor, skip in skip_plan(encoder_reductions)
            if (1 if skip is None else encoder_reductions[skip]) >= final_stride
        ]
        check_step_channels(
            channels,
            len(plan),
            "unet",
            f"one per encoder feature map at stride >= {final_stride}, the last one ending at "
            f"final_stride={final_stride}",
        )
        self.skip_indices = [skip for _, skip in plan]
        blocks = []
        in_channels = encoder_channels[-1]
        for (factor, skip), out_channels in zip(plan, channels, strict=True):
            skip_channels = 0 if skip is None else encoder_channels[skip]
            blocks.append(
                UnetBlock(in_channels, skip_channels, out_channels, factor, upsample, separable)
            )
            in_channels = out_channels
        self.blocks = nn.ModuleList(blocks)
        self.out_channels = channels[-1]
        self.out_reduction = final_stride
        init_weights(self)

    def forward(self, features: list[Tensor]) -> Tensor:
        x = features[-1]  # B x C_deep x H/os x W/os
        for block, skip in zip(self.blocks, self.skip_indices, strict=True):
            x = block(x, None if skip is None else features[skip])  # B x C_i x H/r_i x W/r_i
        return x  # B x channels[-1] x H x W
