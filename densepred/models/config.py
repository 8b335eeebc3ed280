"""The ``model`` section of dense (encoder -> decoder -> head) tasks and its builder."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator
from torch import nn

from densepred.core.loader_args import refuse_loader_args
from densepred.decoders import DECODERS
from densepred.encoders import resolve_encoder_name
from densepred.models.dense import DenseModel
from densepred.models.execution import ExecutionConfig
from densepred.models.finetune import FinetuneConfig
from densepred.models.smp_models import (
    SMP_DECODER_PREFIX,
    SmpModel,
    attach_head,
    create_smp_model,
    smp_architecture,
)


def _known_encoder(name: str) -> str:
    resolve_encoder_name(name)
    return name


EncoderName = Annotated[str, AfterValidator(_known_encoder)]
"""A config value naming an encoder: a friendly name (``list_encoders()``) or any timm model name."""


def _no_loader_args(args: dict[str, Any]) -> dict[str, Any]:
    return dict(refuse_loader_args(args, "model.encoder_args"))


EncoderArgs = Annotated[dict[str, Any], AfterValidator(_no_loader_args)]
"""``model.encoder_args``: extra ``timm.create_model`` options, none of which may choose weights or
a file to load (:func:`~densepred.core.loader_args.refuse_loader_args`)."""


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
    encoder_args: EncoderArgs = Field(default_factory=dict)
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


def build_dense_model(cfg: DenseModelConfig, head: str, **head_defaults: Any) -> nn.Module:
    """Build a :class:`~densepred.models.dense.DenseModel` (or an smp model) from its config.

    Args:
        cfg: The ``model`` section.
        head: Head name in ``densepred.decoders.heads.HEADS``.
        **head_defaults: Head options set by the task (e.g. ``max_depth``, ``num_classes``);
            ``cfg.head_args`` may override them.
    """
    if cfg.decoder.startswith(SMP_DECODER_PREFIX):
        return build_smp_model(cfg, head, **head_defaults)
    encoder_args = {
        "pretrained": cfg.pretrained,
        "output_stride": cfg.output_stride,
        "in_channels": cfg.in_channels,
        **cfg.encoder_args,
    }
    return DenseModel(
        encoder=cfg.encoder,
        decoder=cfg.decoder,
        head=head,
        encoder_args=encoder_args,
        decoder_args=dict(cfg.decoder_args),
        head_args={**head_defaults, **cfg.head_args},
    )


def build_smp_model(cfg: DenseModelConfig, head: str, **head_defaults: Any) -> SmpModel:
    """:func:`~densepred.models.smp_models.create_smp_model` from the ``model`` section
    (``build_dense_model``'s smp branch).

    Args:
        cfg: The ``model`` section, ``cfg.decoder`` being ``smp.<Architecture>``.
        head: The task's head in ``densepred.decoders.heads.HEADS``; it replaces smp's own head, so
            smp architectures serve depth and GAN generators as well as segmentation.
        **head_defaults: Head options set by the task; ``cfg.head_args`` may override them.
    """
    model = create_smp_model(
        cfg.decoder,
        cfg.encoder,
        num_classes=1,  # smp's head is replaced below
        pretrained=cfg.pretrained,
        output_stride=cfg.output_stride,
        in_channels=cfg.in_channels,
        encoder_args=cfg.encoder_args,
        decoder_args=cfg.decoder_args,
    )
    return attach_head(model, head, {**head_defaults, **cfg.head_args})
