"""Heads: depth range and initialisation, activations, segmentation and image shapes."""

from __future__ import annotations

import inspect
import math

import pytest
import torch

from densepred.core.errors import ConfigError
from densepred.decoders.heads import DEPTH_ACTIVATIONS, HEADS


@pytest.mark.parametrize("name", HEADS.names())
def test_head_contract(name: str) -> None:
    """Any registered head: built from ``in_channels`` (other required ints set to 3), it maps
    B x C x H x W features to B x ``out_channels`` x H x W finite values and passes gradients."""
    params = inspect.signature(HEADS.get(name)).parameters
    required = {
        key: 3 for key, p in params.items() if p.default is p.empty and key != "in_channels"
    }
    head = HEADS.build(name, in_channels=8, **required)
    x = torch.randn(2, 8, 9, 11, requires_grad=True)
    y = head(x)
    assert y.shape == (2, head.out_channels, 9, 11)
    assert torch.isfinite(y).all()
    y.float().mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("activation", sorted(DEPTH_ACTIVATIONS))
def test_depth_head_respects_range(activation: str) -> None:
    head = HEADS.build("depth", in_channels=4, min_depth=0.5, max_depth=20.0, activation=activation)
    x = torch.randn(2, 4, 6, 7)
    for scale in [1.0, 1e3, -1e3, 1e30, -1e30]:
        with torch.no_grad():
            head.conv.weight.fill_(scale)
            depth = head(x)
        assert depth.shape == (2, 1, 6, 7)
        assert torch.isfinite(depth).all()
        assert depth.min() >= 0.5 and depth.max() <= 20.0


@pytest.mark.parametrize("activation", sorted(DEPTH_ACTIVATIONS))
def test_depth_head_starts_mid_log_range_and_learns(activation: str) -> None:
    head = HEADS.build(
        "depth", in_channels=4, min_depth=1e-3, max_depth=10.0, activation=activation
    )
    depth = head(torch.zeros(1, 4, 3, 3))  # only the bias acts
    assert depth.detach() == pytest.approx(torch.full_like(depth, math.sqrt(1e-3 * 10.0)), rel=1e-4)
    head(torch.randn(2, 4, 5, 5)).log().mean().backward()
    assert head.conv.bias.grad.abs().item() > 0.5  # not saturated: log-depth moves with the bias


def test_depth_head_errors() -> None:
    with pytest.raises(ConfigError, match="Valid depth activations: exp, sigmoid, softplus"):
        HEADS.build("depth", in_channels=4, activation="relu")
    with pytest.raises(ConfigError, match="min_depth < max_depth"):
        HEADS.build("depth", in_channels=4, min_depth=10.0, max_depth=1.0)
    with pytest.raises(ConfigError, match="model.head_args.*Unknown key 'max'"):
        HEADS.build("depth", where="model.head_args", in_channels=4, max=5.0)


@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_segmentation_head(dropout: float) -> None:
    head = HEADS.build("segmentation", in_channels=8, num_classes=5, dropout=dropout)
    assert head(torch.randn(2, 8, 9, 11)).shape == (2, 5, 9, 11)
    assert head.out_channels == 5


@pytest.mark.parametrize(("activation", "low", "high"), [("tanh", -1, 1), ("sigmoid", 0, 1)])
def test_image_head(activation: str, low: float, high: float) -> None:
    head = HEADS.build("image", in_channels=8, out_channels=3, activation=activation)
    image = head(100 * torch.randn(2, 8, 9, 11))
    assert image.shape == (2, 3, 9, 11)
    assert image.min() >= low and image.max() <= high


def test_image_head_unknown_activation() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'tanh'"):
        HEADS.build("image", in_channels=8, activation="tan")
