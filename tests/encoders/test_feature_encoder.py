"""The include_top=False contract, checked against real outputs for every friendly encoder."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
import torch
from torch import nn

from densepred.core.errors import ConfigError
from densepred.encoders import ENCODER_ALIASES, Encoder, create_encoder, list_encoders
from densepred.encoders.aliases import encoder_family, family_representatives


def test_families_group_sizes() -> None:
    assert encoder_family("efficientnet_b5") == encoder_family("efficientnet_b0") == "efficientnet"
    assert encoder_family("mobilenet_v3_small_minimal") == encoder_family("mobilenet_v3_large") == "mobilenet_v3"
    assert encoder_family("mobilenet_v1") != encoder_family("mobilenet_v2")
    assert family_representatives() == [
        "mobilenet_v1",
        "mobilenet_v2",
        "mobilenet_v3_small_minimal",
        "efficientnet_b0",
        "efficientnetv2_s",
        "resnet18",
        "mixnet_s",
    ]


def run(encoder: nn.Module, height: int, width: int, in_channels: int = 3) -> list[torch.Tensor]:
    """Forward a random batch on the encoder's device."""
    device = next(encoder.parameters()).device
    with torch.inference_mode():
        return encoder(torch.randn(1, in_channels, height, width, device=device))


def assert_contract(
    encoder: Encoder, features: list[torch.Tensor], height: int, width: int
) -> None:
    """Channels, reductions and sizes (ceil division by the stride) match the real maps."""
    assert len(features) == len(encoder.channels) == len(encoder.reductions) == 5
    assert [f.shape[1] for f in features] == encoder.channels
    for fmap, reduction in zip(features, encoder.reductions, strict=True):
        assert tuple(fmap.shape[2:]) == (
            math.ceil(height / reduction),
            math.ceil(width / reduction),
        )
    assert encoder.output_stride == max(encoder.reductions)


def expected_reductions(output_stride: int) -> list[int]:
    return [min(r, output_stride) for r in (2, 4, 8, 16, 32)]


def every_encoder() -> list:
    """Every friendly name; all but one per family are slow (``-m slow`` builds every one)."""
    fast = family_representatives()
    return [n if n in fast else pytest.param(n, marks=pytest.mark.slow) for n in list_encoders()]


@pytest.mark.parametrize("name", every_encoder())
def test_contract_shapes(name: str, build_encoder: Callable[..., nn.Module]) -> None:
    """Every friendly encoder, with shapes computed by the real operators on the meta device."""
    encoder = build_encoder(name, device="meta")
    assert isinstance(encoder, Encoder)
    assert (encoder.name, encoder.timm_name) == (name, ENCODER_ALIASES[name])
    assert encoder.reductions == [2, 4, 8, 16, 32]
    assert encoder.output_stride == 32
    assert_contract(encoder, run(encoder, 64, 64), 64, 64)
    # Odd sizes: every map is ceil(size / stride), e.g. 65x97 -> 33x49, 17x25, 9x13, 5x7, 3x4.
    assert_contract(encoder, run(encoder, 65, 97), 65, 97)


@pytest.mark.parametrize("output_stride", [32, 16, 8])
@pytest.mark.parametrize("name", family_representatives())
def test_contract_on_cpu(
    name: str, output_stride: int, build_encoder: Callable[..., nn.Module]
) -> None:
    """One member per family computes real, finite maps; 16 and 8 really dilate."""
    encoder = build_encoder(name, output_stride=output_stride)
    assert encoder.reductions == expected_reductions(output_stride)
    features = run(encoder, 65, 97)
    assert_contract(encoder, features, 65, 97)
    assert all(torch.isfinite(f).all() for f in features)
    assert encoder.channels == build_encoder(name).channels
    if output_stride < 32:  # a dilated stage keeps the resolution of the previous one
        assert features[-1].shape[2:] == features[-2].shape[2:]


@pytest.mark.parametrize("output_stride", [4, 12, 64, "16"])
def test_unsupported_output_stride(output_stride: object) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"output_stride={output_stride!r}")) as err:
        create_encoder("resnet18", output_stride=output_stride)
    assert "[8, 16, 32]" in str(err.value)


@pytest.mark.parametrize("in_channels", [1, 4])
@pytest.mark.parametrize("name", ["mobilenet_v3_large", "resnet18"])
def test_in_channels(name: str, in_channels: int, build_encoder: Callable[..., nn.Module]) -> None:
    encoder = build_encoder(name, in_channels=in_channels)
    assert_contract(encoder, run(encoder, 64, 48, in_channels), 64, 48)


def test_any_timm_name(build_encoder: Callable[..., nn.Module]) -> None:
    encoder = build_encoder("mobilenetv3_large_075")
    assert encoder.name == encoder.timm_name == "mobilenetv3_large_075"
    assert_contract(encoder, run(encoder, 64, 64), 64, 64)


def test_unknown_name_fails_before_building() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'resnet18'"):
        create_encoder("resnet18x")


@pytest.mark.parametrize("in_channels", [1, 3, 4])
def test_classifier_logits(in_channels: int) -> None:
    model = create_encoder(
        "mobilenet_v3_small", include_top=True, num_classes=7, in_channels=in_channels
    ).eval()
    with torch.inference_mode():
        logits = model(torch.randn(2, in_channels, 64, 64))
    assert logits.shape == (2, 7)


def test_discriminator_head() -> None:
    model = create_encoder("resnet18", include_top=True, num_classes=1, output_stride=16)
    logits = model(torch.randn(2, 3, 64, 64))
    logits.sum().backward()
    assert logits.shape == (2, 1)
    assert model.fc.weight.grad is not None


@pytest.mark.parametrize(
    ("name", "output_stride", "supported"),
    [("ghostnet_100", 16, [32]), ("vgg11", 8, [32]), ("efficientvit_b0", 16, [32])],
)
@pytest.mark.parametrize("include_top", [False, True])
def test_stride_the_model_cannot_do(
    name: str, output_stride: int, supported: list[int], include_top: bool
) -> None:
    """Issue 12, case 11: a ConfigError naming the encoder, the stride and the valid strides,
    not timm's AssertionError or TypeError."""
    with pytest.raises(ConfigError) as err:
        create_encoder(name, include_top=include_top, output_stride=output_stride)
    message = str(err.value)
    assert f"encoder '{name}'" in message and f"output_stride={output_stride}:" in message
    assert f"Output strides it supports: {supported}; use output_stride=32" in message


@pytest.mark.parametrize("output_stride", [32, 16])
@pytest.mark.parametrize("include_top", [False, True])
@pytest.mark.parametrize("name", family_representatives())
def test_misspelt_encoder_option_is_a_config_error(
    name: str, include_top: bool, output_stride: int
) -> None:
    """A typo in ``model.encoder_args`` names the option and the config key, not timm's
    TypeError; the options timm does take still pass through."""
    with pytest.raises(ConfigError) as err:
        create_encoder(
            name, include_top=include_top, output_stride=output_stride, drop_rte=0.1
        )
    message = str(err.value)
    assert f"encoder '{name}'" in message and "['drop_rte']" in message
    assert "model.encoder_args" in message
