"""The ``model`` section of GAN mode and the builder of the generator/discriminator pair."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import Field, field_validator

from densepred.core.errors import ConfigError
from densepred.core.registry import check_kwargs
from densepred.models.config import DenseModelConfig, dense_recipe
from densepred.models.gan.discriminators import build_discriminator, check_discriminator_name
from densepred.models.gan.generators import DCGANGenerator
from densepred.models.gan.model import GANModel
from densepred.models.recipe import Recipe


class GANModelConfig(DenseModelConfig):
    """``model`` of GAN mode: the dense-model keys configure the pix2pix generator.

    Attributes:
        generator: ``dense`` (conditional: encoder -> transposed-conv U-Net -> tanh image head,
            configured by the inherited keys ``encoder``, ``decoder``, ``decoder_args``,
            ``head_args``...) or ``dcgan`` (unconditional: noise -> image, options in
            ``generator_args``).
        in_channels: Channels of the generator's input; ``None`` (default) takes them from
            ``data.condition``, a number must match it.
        generator_args: Options of the DCGAN generator (``latent_dim``, ``base_channels``,
            ``num_layers``, ``norm``).
        discriminator: ``patchgan``, ``dcgan`` or any encoder name (backbone discriminator).
        discriminator_args: Options of the discriminator (e.g. ``num_layers`` of PatchGAN,
            ``pretrained`` of a backbone).
        spectral_norm: Spectral normalisation on every discriminator weight.
    """

    generator: Literal["dense", "dcgan"] = "dense"
    in_channels: int | None = Field(None, ge=1)  # type: ignore[assignment]
    generator_args: dict[str, Any] = Field(default_factory=dict)
    discriminator: str = "patchgan"
    discriminator_args: dict[str, Any] = Field(default_factory=dict)
    spectral_norm: bool = False

    @field_validator("discriminator")
    @classmethod
    def _known_discriminator(cls, name: str) -> str:
        check_discriminator_name(name)
        return name


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
    if cfg.generator_args:
        raise ConfigError(
            "model.generator_args only configures the dcgan generator; the dense generator is "
            "configured by model.encoder, model.decoder, model.decoder_args and model.head_args."
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
