"""GAN generators and discriminators: output shapes, receptive field, size checks, errors."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError
from torch import nn

from densepred.config.model import GANModelConfig
from densepred.core.errors import ConfigError
from densepred.models.gan import (
    DISCRIMINATORS,
    DCGANGenerator,
    PatchGANDiscriminator,
    build_discriminator,
    build_gan_model,
)
from densepred.tasks.references import resolve_section

SMALL_UNET = {"channels": [32, 24, 16, 16, 8]}


@pytest.mark.parametrize(
    ("num_layers", "size", "logits"),
    [
        (3, (256, 256), (30, 30)),
        (3, (64, 96), (6, 10)),
        (2, (32, 32), (6, 6)),
        (1, (40, 24), (18, 10)),
    ],
)
def test_patchgan_logit_map(
    num_layers: int, size: tuple[int, int], logits: tuple[int, int]
) -> None:
    disc = PatchGANDiscriminator(4, size, base_channels=4, num_layers=num_layers)
    assert disc.output_size == logits
    assert disc(torch.randn(2, 4, *size)).shape == (2, 1, *logits)


@pytest.mark.parametrize(("num_layers", "field"), [(1, 16), (2, 34), (3, 70)])
def test_patchgan_receptive_field(num_layers: int, field: int) -> None:
    """One logit depends on exactly a field x field patch (70x70 for the pix2pix default)."""
    disc = PatchGANDiscriminator(3, (128, 128), base_channels=4, num_layers=num_layers).eval()
    x = torch.randn(1, 3, 128, 128, requires_grad=True)
    out = disc(x)  # 1,1,h,w
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    support = x.grad.abs().sum(dim=(0, 1)) > 0  # 128,128
    assert support.any(dim=1).sum().item() == field
    assert support.any(dim=0).sum().item() == field


@pytest.mark.parametrize(
    "name", ["patchgan", "dcgan", "resnet18", "mobilenet_v3_small", "efficientnet_b0"]
)
@pytest.mark.parametrize("in_channels", [4, 6])
def test_discriminator_kinds(name: str, in_channels: int) -> None:
    disc = build_discriminator(
        name, in_channels, (64, 64), args={"base_channels": 8} if name in DISCRIMINATORS else {}
    )
    logits = disc(torch.randn(2, in_channels, 64, 64))
    assert logits.shape == ((2, 1, 6, 6) if name == "patchgan" else (2, 1))
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize(
    ("generator_encoder", "discriminator"),
    [
        ("mobilenet_v3_small", "patchgan"),
        ("resnet18", "mobilenet_v3_small"),
        ("efficientnet_b0", "resnet18"),
    ],
)
def test_pix2pix_pair(generator_encoder: str, discriminator: str) -> None:
    """Depth (1 channel) -> RGB: the generator sees the condition, the discriminator both."""
    cfg = GANModelConfig(
        encoder=generator_encoder, decoder_args=SMALL_UNET, discriminator=discriminator
    )
    model = build_gan_model(cfg, condition_channels=1, image_channels=3, image_size=(64, 96))
    condition = torch.randn(2, 1, 64, 96)
    fake = model(condition)  # 2,3,64,96
    assert fake.shape == (2, 3, 64, 96)
    assert fake.abs().max() <= 1.0  # tanh
    logits = model.discriminate(fake, condition)
    assert logits.shape == ((2, 1, 6, 10) if discriminator == "patchgan" else (2, 1))
    first_conv = next(m for m in model.discriminator.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.in_channels == 4


@pytest.mark.parametrize("discriminator", ["dcgan", "resnet18"])
def test_dcgan_pair(discriminator: str) -> None:
    cfg = GANModelConfig(
        generator="dcgan",
        generator_args={"latent_dim": 16, "base_channels": 8},
        discriminator=discriminator,
        discriminator_args={"base_channels": 8} if discriminator == "dcgan" else {},
    )
    model = build_gan_model(cfg, condition_channels=0, image_channels=3, image_size=(64, 64))
    z = model.sample_latent(3)
    assert z.shape == (3, 16)
    fake = model(z)
    assert fake.shape == (3, 3, 64, 64) and fake.abs().max() <= 1.0
    assert model.discriminate(fake).shape == (3, 1)


def test_dcgan_generator_non_square() -> None:
    gen = DCGANGenerator((32, 48), out_channels=1, latent_dim=8, base_channels=8, num_layers=3)
    assert gen(torch.randn(2, 8)).shape == (2, 1, 32, 48)


def test_spectral_norm_bounds_weights() -> None:
    disc = build_discriminator(
        "patchgan", 4, (32, 32), spectral_norm=True, args={"base_channels": 8}
    )
    convs = [m for m in disc.modules() if isinstance(m, nn.Conv2d)]
    assert all(hasattr(m, "parametrizations") for m in convs)
    for _ in range(20):  # power iterations run in training-mode forward passes
        disc(torch.randn(1, 4, 32, 32))
    sigma = torch.linalg.matrix_norm(convs[1].weight.detach().flatten(1), ord=2)
    assert sigma.item() == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(
    ("name", "size", "match"),
    [
        ("patchgan", (16, 64), "too small"),
        ("dcgan", (48, 60), "divisible by 2\\*\\*num_layers"),
        ("resnet18", (24, 64), "smaller than its total stride 32"),
    ],
)
def test_incompatible_image_size(name: str, size: tuple[int, int], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        build_discriminator(name, 4, size)


def test_unknown_discriminator() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'patchgan'"):
        build_discriminator("patchgn", 4, (64, 64))
    with pytest.raises(ValueError, match="Unknown discriminator 'no_such_net'"):
        resolve_section(GANModelConfig, {"discriminator": "no_such_net"})


def test_unknown_discriminator_option() -> None:
    with pytest.raises(ConfigError, match="model.discriminator_args: Unknown key 'depth'"):
        build_discriminator("patchgan", 4, (64, 64), args={"depth": 3})


@pytest.mark.parametrize(
    ("cfg", "condition_channels", "match"),
    [
        (GANModelConfig(), 0, "data.condition is none"),
        (GANModelConfig(generator="dcgan", discriminator="dcgan"), 1, "takes no condition"),
        (GANModelConfig(in_channels=3), 1, "model.in_channels=3"),
        (GANModelConfig(generator="dcgan", generator_args={"z": 8}), 0, "Unknown key 'z'"),
    ],
)
def test_inconsistent_generator_config(
    cfg: GANModelConfig, condition_channels: int, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        build_gan_model(
            cfg, condition_channels=condition_channels, image_channels=3, image_size=(64, 64)
        )


def test_generator_args_only_configure_the_dcgan_generator() -> None:
    with pytest.raises(ValidationError, match="only configures the dcgan"):
        GANModelConfig(generator_args={"latent_dim": 8})


def test_backbone_rejects_patchgan_options() -> None:
    with pytest.raises(ConfigError, match="patchgan/dcgan options do not apply"):
        build_discriminator("resnet18", 4, (64, 64), args={"num_layers": 3})
