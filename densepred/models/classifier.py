"""The ``model`` section of image classification: a registry encoder with ``include_top=True``."""

from __future__ import annotations

from pydantic import Field
from torch import nn

from densepred.encoders import create_encoder
from densepred.models.config import EncoderArgs, EncoderName
from densepred.models.execution import ExecutionConfig
from densepred.models.finetune import FinetuneConfig


class ClassifierConfig(FinetuneConfig, ExecutionConfig):
    """``model``: the classifier network (a timm classifier from the encoder registry).

    Attributes:
        encoder: Friendly name (``list_encoders()``) or any timm model name.
        pretrained: ``False``, a local weights file, or ``True`` for timm's hub (needs internet).
            The classifier layer is re-initialised when the class counts differ.
        in_channels: Input channels (3 for RGB).
        encoder_args: Extra keyword arguments for ``timm.create_model`` (e.g. ``drop_rate``).
        freeze_encoder, unfreeze_at_epoch: Transfer learning (:class:`FinetuneConfig`); the
            encoder is everything but the classifier layer.
        channels_last, compile: How the network runs (:class:`ExecutionConfig`).
    """

    encoder: EncoderName = "mobilenet_v2"
    pretrained: bool | str = False
    in_channels: int = Field(3, ge=1)
    encoder_args: EncoderArgs = Field(default_factory=dict)


def build_classifier(cfg: ClassifierConfig, num_classes: int) -> nn.Module:
    """The ``include_top=True`` model of ``cfg.encoder`` with ``num_classes`` logits.

    Args:
        cfg: The ``model`` section.
        num_classes: Number of classes.
    """

    return create_encoder(
        cfg.encoder,
        include_top=True,
        pretrained=cfg.pretrained,
        in_channels=cfg.in_channels,
        num_classes=num_classes,
        **cfg.encoder_args,
    )
