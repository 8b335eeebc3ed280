"""U-Net decoder options: upsampling modes, separable blocks, channels, dilated encoders."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from densepred.core.errors import ConfigError
from densepred.decoders import UnetDecoder

CHANNELS = [8, 12, 16, 24, 40]
SMALL = (32, 24, 16, 8, 8)


@pytest.mark.parametrize("separable", [False, True])
@pytest.mark.parametrize("upsample", ["transposed", "bilinear", "nearest"])
def test_unet_variants(upsample: str, separable: bool, make_features) -> None:
    decoder = UnetDecoder(CHANNELS, [2, 4, 8, 16, 32], SMALL, upsample, separable)
    out = decoder(make_features(CHANNELS, [2, 4, 8, 16, 32], (32, 64)))
    assert out.shape == (2, 8, 32, 64) and decoder.out_reduction == 1
    transposed = [m for m in decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert len(transposed) == (5 if upsample == "transposed" else 0)
    depthwise = [m for m in decoder.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert len(depthwise) == (10 if separable else 0)


def test_unet_separable_is_lighter() -> None:
    def params(separable: bool) -> int:
        decoder = UnetDecoder(CHANNELS, [2, 4, 8, 16, 32], separable=separable)
        return sum(p.numel() for p in decoder.parameters())

    assert params(True) < params(False) / 2


def test_unet_dilated_encoder_upsamples_only_where_reduction_changes(make_features) -> None:
    reductions = [2, 4, 8, 8, 8]
    decoder = UnetDecoder(CHANNELS, reductions, SMALL)
    strides = [m.stride for m in decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert strides == [(2, 2)] * 3
    assert decoder(make_features(CHANNELS, reductions, (32, 48))).shape == (2, 8, 32, 48)


def test_unet_factor_four_step(make_features) -> None:
    channels, reductions = [8, 16, 32], [4, 8, 32]
    decoder = UnetDecoder(channels, reductions, (16, 8, 8))
    strides = [m.stride for m in decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert strides == [(4, 4), (2, 2), (4, 4)]
    assert decoder(make_features(channels, reductions, (64, 32))).shape == (2, 8, 64, 32)


def test_unet_channels_length_mismatch() -> None:
    with pytest.raises(ConfigError, match="unet decoder: channels=.*4 entries.*5 steps"):
        UnetDecoder(CHANNELS, [2, 4, 8, 16, 32], channels=(64, 32, 16, 8))
    with pytest.raises(ConfigError, match=r"5 entries.*4 steps.*final_stride=2"):
        UnetDecoder(CHANNELS, [2, 4, 8, 16, 32], channels=(64, 32, 16, 8, 8), final_stride=2)
    with pytest.raises(ConfigError, match="final_stride=3 is neither 1 nor an encoder reduction"):
        UnetDecoder(CHANNELS, [2, 4, 8, 16, 32], channels=(64, 32, 16, 8), final_stride=3)


@pytest.mark.parametrize("final_stride", [2, 4])
def test_unet_final_stride_stops_early(final_stride: int) -> None:
    reductions = [2, 4, 8, 16, 32]
    steps = sum(r >= final_stride for r in reductions[:-1])  # steps end at each skip
    decoder = UnetDecoder(CHANNELS, reductions, channels=(8,) * steps, final_stride=final_stride)
    features = [
        torch.randn(1, c, 64 // r, 96 // r) for c, r in zip(CHANNELS, reductions, strict=True)
    ]
    assert decoder.out_reduction == final_stride
    assert decoder(features).shape == (1, 8, 64 // final_stride, 96 // final_stride)


def test_unet_unknown_upsample() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'transposed'"):
        UnetDecoder(CHANNELS, [2, 4, 8, 16, 32], upsample="transpose")
