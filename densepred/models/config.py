"""The ``model`` section of dense (encoder -> decoder -> head) tasks and its builder."""

from __future__ import annotations

from typing import Any

from torch import nn

from densepred.config.model import SMP_DECODER_PREFIX, DenseModelConfig
from densepred.models.recipe import Recipe


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
