"""GAN losses: known values, the direction of their gradients, and the registry."""

from __future__ import annotations

import math

import pytest
import torch

from densepred.core.errors import ConfigError
from densepred.losses.gan import GAN_LOSSES, GANLoss


def test_registry_names() -> None:
    assert GAN_LOSSES.names() == ["hinge", "lsgan", "vanilla"]
    with pytest.raises(ConfigError, match="Did you mean 'hinge'"):
        GANLoss("hinje")


def test_known_values() -> None:
    zeros = torch.zeros(2, 1, 3, 3)
    ones = torch.ones(2, 1)
    assert GANLoss("vanilla").discriminator(zeros, zeros).item() == pytest.approx(math.log(2))
    assert GANLoss("lsgan").discriminator(ones, ones).item() == pytest.approx(0.5)  # 0.5 * (0 + 1)
    assert GANLoss("lsgan").generator(ones).item() == pytest.approx(0.0)
    hinge = GANLoss("hinge")
    assert hinge.discriminator(ones * 2, -ones * 2).item() == pytest.approx(
        0.0
    )  # outside both margins
    assert hinge.discriminator(zeros, zeros).item() == pytest.approx(1.0)
    assert hinge.generator(ones * 3).item() == pytest.approx(-3.0)


@pytest.mark.parametrize("name", GAN_LOSSES.names())
def test_gradients_push_the_right_way(name: str) -> None:
    """The discriminator loss raises real logits and lowers fake ones; the generator raises fakes."""
    loss = GANLoss(name)
    real = torch.full((4, 1, 5, 5), 0.5, requires_grad=True)
    fake = torch.full((4, 1, 5, 5), 0.5, requires_grad=True)
    loss.discriminator(real, fake).backward()
    assert (real.grad < 0).all() and (fake.grad > 0).all()
    fake_g = torch.full((4, 1), 0.5, requires_grad=True)
    loss.generator(fake_g).backward()
    assert (fake_g.grad < 0).all()
