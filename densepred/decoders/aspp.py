"""DeepLabV3+-style dilated decoder: ASPP on the deepest map, fused with a stride-4 skip."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from segmentation_models_pytorch.decoders.deeplabv3.decoder import ASPP
from timm.layers import ConvNormAct
from torch import Tensor, nn

from densepred.core.errors import ConfigError
from densepred.decoders import DECODERS
from densepred.decoders.blocks import Upsample, check_features, conv_block, init_weights

RATES_OUTPUT_STRIDE = 16  # ``atrous_rates`` are given for this output stride, as in DeepLab.


def scale_rates(rates: Sequence[int], output_stride: int) -> tuple[int, ...]:
    """Scale atrous rates given at output stride 16 to another output stride.

    A map at output stride 8 is twice as large, so the same receptive field needs twice the
    dilation: (6, 12, 18) becomes (12, 24, 36) at stride 8 and (3, 6, 9) at stride 32.

    Args:
        rates: Atrous rates at output stride 16.
        output_stride: Stride of the map the ASPP runs on.
    """
    return tuple(max(1, round(r * RATES_OUTPUT_STRIDE / output_stride)) for r in rates)


@DECODERS.register("aspp")
class AsppDecoder(nn.Module):
    """DeepLabV3+ decoder for dilated (output stride 8/16) or plain (32) encoders.

    The deepest map goes through ASPP (1x1 conv, three atrous 3x3 convs, image pooling,
    projected to ``channels``; smp's module), is upsampled bilinearly to the stride of the
    low-level skip, concatenated with that skip reduced to ``skip_channels`` by a 1x1 conv,
    and refined by two 3x3 conv blocks. The output stays at the skip's stride (4).

    The image-pooling branch applies BatchNorm to a 1x1 map, so training needs batches of at
    least 2 images (as in DeepLab and smp).

    Args:
        encoder_channels: Channels of the encoder maps, shallowest first.
        encoder_reductions: Strides of the encoder maps, shallowest first.
        channels: Channels of the ASPP branches and of the output.
        atrous_rates: Three dilation rates at output stride 16, scaled to the encoder's
            output stride (x2 at 8, /2 at 32).
        skip_reduction: Stride of the low-level encoder map that is fused (4 in DeepLabV3+).
        skip_channels: Channels the low-level map is reduced to (48 in DeepLabV3+).
        separable: Depthwise-separable convs in ASPP and in the refinement blocks.
        dropout: Dropout after the ASPP projection.
    """

    def __init__(
        self,
        encoder_channels: Sequence[int],
        encoder_reductions: Sequence[int],
        channels: int = 256,
        atrous_rates: Sequence[int] = (6, 12, 18),
        skip_reduction: int = 4,
        skip_channels: int = 48,
        separable: bool = False,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        check_features(encoder_channels, encoder_reductions)
        if len(atrous_rates) != 3:
            raise ConfigError(f"aspp decoder: atrous_rates={tuple(atrous_rates)} needs 3 rates.")
        if skip_reduction not in encoder_reductions[:-1]:
            raise ConfigError(
                f"aspp decoder: no encoder map at skip_reduction={skip_reduction} to fuse with "
                f"(encoder_reductions {list(encoder_reductions)}); choose one of "
                f"{sorted(set(encoder_reductions[:-1]))}."
            )
        output_stride = encoder_reductions[-1]
        self.skip_index = list(encoder_reductions).index(skip_reduction)
        self.rates = scale_rates(atrous_rates, output_stride)
        self.aspp = ASPP(
            encoder_channels[-1], channels, self.rates, separable=separable, dropout=dropout
        )
        self.up = Upsample(channels, channels, output_stride // skip_reduction, "bilinear")
        self.skip = ConvNormAct(encoder_channels[self.skip_index], skip_channels, 1)
        self.fuse = nn.Sequential(
            conv_block(channels + skip_channels, channels, separable=separable),
            conv_block(channels, channels, separable=separable),
        )
        self.out_channels = channels
        self.out_reduction = skip_reduction
        init_weights(self)

    def forward(self, features: list[Tensor]) -> Tensor:
        x = self.up(self.aspp(features[-1]))  # B x C x H/4 x W/4
        skip = self.skip(features[self.skip_index])  # B x C_skip x H/4 x W/4
        return self.fuse(torch.cat([x, skip], dim=1))  # B x C x H/4 x W/4
