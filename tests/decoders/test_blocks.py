"""Shared decoder blocks: skip plans, reduction checks, upsampling and conv blocks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from densepred.core.errors import ConfigError
from densepred.decoders.blocks import (
    Upsample,
    check_features,
    check_step_channels,
    conv_block,
    init_weights,
    skip_plan,
)


@pytest.mark.parametrize(
    ("reductions", "plan"),
    [
        ([2, 4, 8, 16, 32], [(2, 3), (2, 2), (2, 1), (2, 0), (2, None)]),
        ([2, 4, 8, 16, 16], [(1, 3), (2, 2), (2, 1), (2, 0), (2, None)]),
        ([2, 4, 8, 8, 8], [(1, 3), (1, 2), (2, 1), (2, 0), (2, None)]),
        ([4, 8, 32], [(4, 1), (2, 0), (4, None)]),
    ],
)
def test_skip_plan_upsamples_only_where_reduction_changes(reductions, plan) -> None:
    assert skip_plan(reductions) == plan


@pytest.mark.parametrize("reductions", [[2, 4, 8, 16], [2, 4, 12, 16, 32], [4, 2, 8, 16, 32]])
def test_check_features_rejects_mismatch(reductions) -> None:
    with pytest.raises(ConfigError, match="encoder_"):
        check_features([8, 8, 8, 8, 8], reductions)


def test_check_step_channels_explains_count() -> None:
    with pytest.raises(ConfigError, match=r"has 3 entries but the decoder has 5 steps \(one per encoder feature map"):
        check_step_channels((64, 32, 16), 5, "unet")


@pytest.mark.parametrize("mode", ["transposed", "bilinear", "nearest"])
@pytest.mark.parametrize("factor", [1, 2, 4])
def test_upsample_factor_and_channels(mode: str, factor: int) -> None:
    up = Upsample(6, 4, factor, mode)
    out = up(torch.randn(1, 6, 5, 7))
    assert out.shape == (1, up.out_channels, 5 * factor, 7 * factor)
    assert up.out_channels == (4 if mode == "transposed" and factor > 1 else 6)


def test_upsample_transposed_kernel_equals_stride() -> None:
    conv = Upsample(6, 4, 2, "transposed").up
    assert isinstance(conv, nn.ConvTranspose2d)
    assert conv.kernel_size == conv.stride == (2, 2)


def test_upsample_unknown_mode() -> None:
    with pytest.raises(ConfigError, match="Valid upsample modes: bilinear, nearest, transposed"):
        Upsample(4, 4, 2, "bicubic")


def test_separable_conv_block_is_depthwise_then_pointwise() -> None:
    block = conv_block(8, 16, kernel_size=5, separable=True)
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.kernel_size, c.groups) for c in convs] == [((5, 5), 8), ((1, 1), 1)]
    assert block(torch.randn(1, 8, 9, 9)).shape == (1, 16, 9, 9)


def test_init_weights_zeroes_biases_and_scales_convs() -> None:
    module = nn.Sequential(nn.Conv2d(64, 64, 3, bias=True), nn.BatchNorm2d(64))
    init_weights(module)
    assert module[0].bias.abs().sum() == 0
    assert module[0].weight.std().item() == pytest.approx((2 / (64 * 9)) ** 0.5, rel=0.1)
    assert torch.equal(module[1].weight, torch.ones(64))
