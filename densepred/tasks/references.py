"""The second validation pass: a config's names and ``*_args`` checked against the registries.

:class:`ComponentReferences` implements :class:`densepred.config.refs.References` with the
component registries (encoders and timm, decoders and smp architectures, heads, losses,
discriminators, data layouts). Given to :func:`densepred.config.loader.parse_config`, it makes a
typo in a decoder argument fail when the config is loaded, like a typo in a key, instead of when
the model is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import torch
from pydantic import BaseModel

import densepred.data  # noqa: F401 (registers every data layout in FORMATS)
from densepred.config.refs import (
    ADVERSARIAL_LOSS,
    DECODER,
    DISCRIMINATOR,
    ENCODER,
    GENERATOR,
    HEAD,
    Triple,
    loss_kind,
)
from densepred.core.errors import ConfigError
from densepred.core.registry import check_kwargs
from densepred.data.layout import format_reader, validate_reader_args
from densepred.decoders import DECODERS
from densepred.decoders.heads import HEADS
from densepred.encoders import create_encoder, resolve_encoder_name
from densepred.encoders.normalization import pretrained_normalization
from densepred.losses.depth import DEPTH_LOSSES
from densepred.losses.gan import GAN_LOSSES
from densepred.losses.segmentation import SEG_LOSSES
from densepred.models.gan.discriminators import (
    DISCRIMINATORS,
    BackboneDiscriminator,
    check_discriminator_name,
)
from densepred.models.gan.generators import DCGANGenerator
from densepred.models.smp_models import (
    SMP_DECODER_PREFIX,
    check_smp_decoder_args,
    smp_architecture,
)

Target = tuple[Callable[..., Any], tuple[str, ...]]
"""What a ``*_args`` mapping is passed to, and the arguments densepred fills in itself."""

SEG_LOSS_INTERNAL = ("mode", "ignore_index", "class_weights")


def _decoder(name: str) -> None:
    if name.startswith(SMP_DECODER_PREFIX):
        smp_architecture(name)
    else:
        DECODERS.get(name)


NAMES: dict[str, Callable[[str], Any]] = {
    ENCODER: resolve_encoder_name,
    DECODER: _decoder,
    HEAD: HEADS.get,
    DISCRIMINATOR: check_discriminator_name,
    ADVERSARIAL_LOSS: GAN_LOSSES.get,
    loss_kind("depth"): DEPTH_LOSSES.get,
    loss_kind("segmentation"): SEG_LOSSES.get,
}
"""Reference kind -> the check that the name exists (raises ``ConfigError``)."""


def _discriminator_target(name: str) -> Target:
    internal = ("in_channels", "image_size")
    if name in DISCRIMINATORS:
        return DISCRIMINATORS.get(name), internal
    return BackboneDiscriminator, (*internal, "encoder")


TARGETS: dict[str, Callable[[str], Target]] = {
    DECODER: lambda name: (DECODERS.get(name), ("encoder_channels", "encoder_reductions")),
    HEAD: lambda name: (HEADS.get(name), ("in_channels",)),
    GENERATOR: lambda name: (DCGANGenerator, ("out_channels", "image_size")),
    DISCRIMINATOR: _discriminator_target,
    loss_kind("depth"): lambda name: (DEPTH_LOSSES.get(name), ()),
    loss_kind("segmentation"): lambda name: (SEG_LOSSES.get(name), SEG_LOSS_INTERNAL),
}
"""Reference kind -> what its ``*_args`` go to (encoders and smp decoders are checked apart)."""


def check_encoder_args(name: str, args: Mapping[str, Any], where: str) -> None:
    """Build encoder ``name`` with ``args`` on the meta device (no memory, no weights): an option
    the timm model does not take fails as a ConfigError naming ``where``."""
    try:
        with torch.device("meta"):
            create_encoder(name, **args)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


class ComponentReferences:
    """:class:`~densepred.config.refs.References` backed by the component registries."""

    def check_name(self, kind: str, name: str) -> None:
        NAMES[kind](name)

    def check_args(self, kind: str, name: str, args: Mapping[str, Any], where: str) -> None:
        if kind == ENCODER:
            check_encoder_args(name, args, where)
        elif kind == DECODER and name.startswith(SMP_DECODER_PREFIX):
            check_smp_decoder_args(smp_architecture(name), dict(args), name)
        else:
            target, internal = TARGETS[kind](name)
            check_kwargs(target, args, where, internal=internal)

    def check_format(self, name: str, target: str) -> None:
        format_reader(name, target)

    def check_reader_args(self, name: str, target: str, args: Mapping[str, Any]) -> None:
        validate_reader_args(format_reader(name, target).read, args)

    def layout_classes(self, name: str, target: str, root: Path, train_split: str) -> list[str]:
        return format_reader(name, target).class_names(root, train_split)

    def layout_void(self, name: str, target: str) -> int | None:
        return format_reader(name, target).void_value

    def normalization(self, encoder: str) -> tuple[Triple, Triple]:
        return pretrained_normalization(encoder)


S = TypeVar("S", bound=BaseModel)


def resolve_section(cls: type[S], data: Mapping[str, Any] | None = None, head: str | None = None) -> S:
    """One config section validated with both passes (names, ``*_args`` and layout defaults
    resolved), for code that builds a section directly instead of loading a config.

    Args:
        cls: The section class, e.g. :class:`densepred.config.data.SegmentationDataConfig`.
        data: Its keys (a plain mapping).
        head: The task's head, against which ``model.head_args`` are checked.
    """
    return cls.model_validate(dict(data or {}), context={"refs": ComponentReferences(), "head": head})
