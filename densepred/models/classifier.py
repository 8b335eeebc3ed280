"""The ``model`` section of image classification: a registry encoder with ``include_top=True``."""

from __future__ import annotations

from typing import Any

from torch import nn

from densepred.config.model import ClassifierConfig
from densepred.encoders import create_encoder
from densepred.encoders.weights import Pretrained
from densepred.models.recipe import NETWORKS, Recipe


@NETWORKS.register("classifier")
def classifier_network(
    encoder: str,
    num_classes: int,
    in_channels: int = 3,
    encoder_args: dict[str, Any] | None = None,
    pretrained: Pretrained = False,
) -> nn.Module:
    """The ``classifier`` recipe: the ``include_top=True`` timm model of ``encoder``.

    Args:
        encoder: Encoder name (friendly or timm).
        num_classes: Number of logits.
        in_channels: Input channels.
        encoder_args: Extra ``timm.create_model`` arguments.
        pretrained: Weights (see :func:`densepred.encoders.create_encoder`).
    """
    return create_encoder(
        encoder,
        include_top=True,
        pretrained=pretrained,
        in_channels=in_channels,
        num_classes=num_classes,
        **(encoder_args or {}),
    )


def classifier_recipe(cfg: ClassifierConfig, num_classes: int) -> Recipe:
    """The recipe of ``cfg``'s classifier with ``num_classes`` logits (weights not included).

    Args:
        cfg: The ``model`` section.
        num_classes: Number of classes.
    """
    return Recipe(
        "classifier",
        {
            "encoder": cfg.encoder,
            "num_classes": num_classes,
            "in_channels": cfg.in_channels,
            "encoder_args": dict(cfg.encoder_args),
        },
    )
