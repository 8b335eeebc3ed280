"""The ``model`` section of dense (encoder -> decoder -> head) tasks and its builder."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator
from torch import nn

from densepred.decoders import DECODERS
from densepred.encoders import resolve_encoder_name
from densepred.models.execution import ExecutionConfig
from densepred.models.finetune import FinetuneConfig
from densepred.models.recipe import Recipe
from densepred.models.smp_models import SMP_DECODER_PREFIX, smp_architecture


def _known_encoder(name: str) -> str:
    resolve_encoder_name(name)
    return name


EncoderName = Annotated[str, AfterValidator(_known_encoder)]
"""A config value naming an encoder: a friendly name (``list_encoders()``) or any timm model name."""


class DenseModelConfig(FinetuneConfig, ExecutionConfig):
    """``model``: encoder, decoder and head options of a dense prediction network.

    Attributes:
        encoder: Friendly name (``list_encoders()``) or any timm model name.
        pretrained: ``False``, a local weights file, or ``True`` for timm's hub (needs internet).
        output_stride: 32, or 16/8 for a dilated encoder (ASPP-style decoders).
        in_channels: Input channels (3 for RGB).
        encoder_args: Extra keyword arguments for ``timm.create_model``.
        decoder: A name from ``densepred.decoders.DECODERS``, or ``smp.<Architecture>`` for a
            segmentation-models-pytorch architecture (``smp.FPN``, ``smp.DeepLabV3Plus``, ...).
        decoder_args: Options of the decoder (checked against its signature).
        head_args: Options of the head (checked against its signature).
        freeze_encoder, unfreeze_at_epoch: Transfer learning (:class:`FinetuneConfig`).
        channels_last, compile: How the network runs (:class:`ExecutionConfig`).
    """

    encoder: EncoderName = "mobilenet_v3_large"
    pretrained: bool | str = False
    output_stride: Literal[8, 16, 32] = 32
    in_channels: int = Field(3, ge=1)
    encoder_args: dict[str, Any] = Field(default_factory=dict)
    decoder: str = "unet"
    decoder_args: dict[str, Any] = Field(default_factory=dict)
    head_args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("decoder")
    @classmethod
    def _known_decoder(cls, name: str) -> str:
        if name.startswith(SMP_DECODER_PREFIX):
            smp_architecture(name)
        else:
            DECODERS.get(name)
        return name


def dense_recipe(cfg: DenseModelConfig, head: str, **head_defaults: Any) -> Recipe:
    """The recipe of ``cfg``'s network (weights not included): ``dense`` (a
    :class:`~densepred.models.dense.DenseModel`) or, for ``model.decoder: smp.<Architecture>``,
    ``smp`` (:func:`~densepred.models.smp_models.smp_network`).

    Args:
        cfg: The ``model`` section.
        head: Head name in ``densepred.decoders.heads.HEADS``.
        **head_defaults: Head options set by the task (e.g. ``max_depth``, ``num_classes``);
            ``cfg.head_args`` may override them.
    """
    head_args = {**head_defaults, **cfg.head_args}
    if cfg.decoder.startswith(SMP_DECODER_PREFIX):
        return Recipe(
            "smp",
            {
                "architecture": cfg.decoder,
                "encoder": cfg.encoder,
                "head": head,
                "head_args": head_args,
                "output_stride": cfg.output_stride,
                "in_channels": cfg.in_channels,
                "encoder_args": dict(cfg.encoder_args),
                "decoder_args": dict(cfg.decoder_args),
            },
        )
    encoder_args = {
        "output_stride": cfg.output_stride,
        "in_channels": cfg.in_channels,
        **cfg.encoder_args,
    }
    return Recipe(
        "dense",
        {
            "encoder": cfg.encoder,
            "decoder": cfg.decoder,
            "head": head,
            "encoder_args": encoder_args,
            "decoder_args": dict(cfg.decoder_args),
            "head_args": head_args,
        },
    )


def build_dense_model(cfg: DenseModelConfig, head: str, **head_defaults: Any) -> nn.Module:
    """Build :func:`dense_recipe`'s network with ``cfg.pretrained`` encoder weights."""
    return dense_recipe(cfg, head, **head_defaults).build(pretrained=cfg.pretrained)
