"""GAN mode: generators, discriminators (``DISCRIMINATORS`` + any encoder) and their pair."""

from densepred.models.gan.build import build_gan_model
from densepred.models.gan.discriminators import (
    DISCRIMINATORS,
    BackboneDiscriminator,
    DCGANDiscriminator,
    PatchGANDiscriminator,
    build_discriminator,
)
from densepred.models.gan.generators import DCGANGenerator
from densepred.models.gan.model import GANModel

__all__ = [
    "DISCRIMINATORS",
    "BackboneDiscriminator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "GANModel",
    "PatchGANDiscriminator",
    "build_discriminator",
    "build_gan_model",
]
