"""The ``model`` section of dense (encoder -> decoder -> head) tasks and its builder."""

from __future__ import annotations

from typing import Any

from torch import nn

from densepred.config.model import SMP_DECODER_PREFIX, DenseModelConfig
from densepred.models.dense import DenseModel
from densepred.models.smp_models import SmpModel, attach_head, create_smp_model


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
