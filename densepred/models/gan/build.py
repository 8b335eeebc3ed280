"""The ``model`` section of GAN mode and the builder of the generator/discriminator pair."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from densepred.config.model import GANModelConfig
from densepred.core.errors import ConfigError
from densepred.core.registry import check_kwargs
from densepred.models.config import dense_recipe
from densepred.models.gan.discriminators import build_discriminator
from densepred.models.gan.generators import DCGANGenerator
from densepred.models.gan.model import GANModel
from densepred.models.recipe import Recipe


def _dense_generator(
    cfg: GANModelConfig, condition_channels: int, image_channels: int, image_size: Sequence[int]
) -> Recipe:
    """The pix2pix generator: a DenseModel from the condition to a tanh image."""
    if condition_channels == 0:
        raise ConfigError(
            "model.generator: the dense (pix2pix) generator maps a condition image, but "
            "data.condition is none. Set data.condition (e.g. depth) or use model.generator: dcgan."
        )
    if cfg.in_channels not in (None, condition_channels):
        raise ConfigError(
            f"model.in_channels={cfg.in_channels} but the condition has {condition_channels} "
            "channel(s); remove model.in_channels (GAN mode sets it from data.condition)."
        )
    dense_cfg = cfg.model_copy(update={"in_channels": condition_channels})
    return dense_recipe(dense_cfg, head="image", out_channels=image_channels)


def _dcgan_generator(
    cfg: GANModelConfig, condition_channels: int, image_channels: int, image_size: Sequence[int]
) -> Recipe:
    """The DCGAN generator: noise -> image."""
    if condition_channels:
        raise ConfigError(
            "model.generator: dcgan generates from noise and takes no condition; set "
            "data.condition: none, or use model.generator: dense for image-to-image translation."
        )
    internal = {"out_channels": image_channels, "image_size": list(image_size)}
    check_kwargs(DCGANGenerator, cfg.generator_args, "model.generator_args", internal=internal)
    return Recipe("dcgan_generator", {**internal, **cfg.generator_args})


GENERATORS: dict[str, Callable[..., Recipe]] = {
    "dense": _dense_generator,
    "dcgan": _dcgan_generator,
}


def generator_recipe(
    cfg: GANModelConfig, condition_channels: int, image_channels: int, image_size: Sequence[int]
) -> Recipe:
    """The generator's recipe (weights not included).

    Args:
        cfg: The ``model`` section.
        condition_channels: Channels of the condition image (0 for unconditional generation).
        image_channels: Channels of the generated image.
        image_size: Training image size (H, W).
    """
    return GENERATORS[cfg.generator](cfg, condition_channels, image_channels, image_size)


def build_gan_model(
    cfg: GANModelConfig, condition_channels: int, image_channels: int, image_size: Sequence[int]
) -> GANModel:
    """Build the generator and discriminator of a GAN run.

    Args:
        cfg: The ``model`` section.
        condition_channels: Channels of the condition image (0 for unconditional generation).
        image_channels: Channels of the generated image.
        image_size: Training image size (H, W), checked against both networks.
    """
    recipe = generator_recipe(cfg, condition_channels, image_channels, image_size)
    generator = recipe.build(pretrained=cfg.pretrained if cfg.generator == "dense" else False)
    latent_dim = getattr(generator, "latent_dim", 0)  # the DCGAN generator's noise length
    discriminator = build_discriminator(
        cfg.discriminator,
        in_channels=condition_channels + image_channels,
        image_size=image_size,
        spectral_norm=cfg.spectral_norm,
        args=cfg.discriminator_args,
    )
    return GANModel(
        generator, discriminator, conditional=condition_channels > 0, latent_dim=latent_dim
    )
