"""ASPP (DeepLabV3+-style) decoder: rate scaling, skip fusion, separable variant."""

from __future__ import annotations

import pytest
from torch import nn

from densepred.core.errors import ConfigError
from densepred.decoders import AsppDecoder
from densepred.decoders.aspp import scale_rates

CHANNELS = [8, 12, 16, 24, 40]
REDUCTIONS = {32: [2, 4, 8, 16, 32], 16: [2, 4, 8, 16, 16], 8: [2, 4, 8, 8, 8]}


def atrous_dilations(decoder: AsppDecoder) -> list[int]:
    """Dilations of the ASPP convs that are atrous (> 1)."""
    convs = [m for m in decoder.aspp.modules() if isinstance(m, nn.Conv2d)]
    return [c.dilation[0] for c in convs if c.dilation[0] > 1]


@pytest.mark.parametrize(
    ("output_stride", "rates"), [(16, [6, 12, 18]), (8, [12, 24, 36]), (32, [3, 6, 9])]
)
def test_aspp_rates_follow_output_stride(output_stride: int, rates: list[int]) -> None:
    decoder = AsppDecoder(CHANNELS, REDUCTIONS[output_stride], channels=16)
    assert atrous_dilations(decoder) == rates
    assert list(decoder.rates) == rates


def test_scale_rates_custom() -> None:
    assert scale_rates((1, 2, 3), 8) == (2, 4, 6)
    assert scale_rates((1, 2, 3), 32) == (1, 1, 2)


@pytest.mark.parametrize("separable", [False, True])
@pytest.mark.parametrize("output_stride", [32, 16, 8])
def test_aspp_output_at_stride_four(output_stride: int, separable: bool, make_features) -> None:
    reductions = REDUCTIONS[output_stride]
    decoder = AsppDecoder(CHANNELS, reductions, channels=16, separable=separable)
    features = make_features(CHANNELS, reductions, (64, 96))
    out = decoder(features)
    assert out.shape == (2, 16, 16, 24) and decoder.out_reduction == 4
    out.mean().backward()
    assert features[1].grad is not None  # the stride-4 low-level skip is fused
    depthwise = [m for m in decoder.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert (len(depthwise) > 0) == separable


def test_aspp_low_level_skip_channels() -> None:
    decoder = AsppDecoder(CHANNELS, REDUCTIONS[16], channels=16, skip_channels=6)
    assert decoder.skip.conv.in_channels == 12 and decoder.skip.conv.out_channels == 6


def test_aspp_errors() -> None:
    with pytest.raises(ConfigError, match="needs 3 rates"):
        AsppDecoder(CHANNELS, REDUCTIONS[16], atrous_rates=(6, 12))
    with pytest.raises(ConfigError, match="skip_reduction=3.*choose one of \\[2, 4, 8\\]"):
        AsppDecoder(CHANNELS, REDUCTIONS[8], skip_reduction=3)
