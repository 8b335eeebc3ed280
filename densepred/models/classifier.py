"""The ``model`` section of image classification: a registry encoder with ``include_top=True``."""

from __future__ import annotations

from torch import nn

from densepred.config.model import ClassifierConfig
from densepred.encoders import create_encoder


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
