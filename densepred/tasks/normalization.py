"""Which mean/std a run normalises its images with: ``data.normalize`` or the encoder's own.

Resolved once, when a config is loaded, and saved with the run's config and checkpoint, so
training, evaluation, prediction and export normalise the same way.
"""

from __future__ import annotations

from typing import Any

from densepred.config.data import IMAGENET_MEAN, IMAGENET_STD, NormalizeConfig
from densepred.config.run import Config
from densepred.encoders.normalization import pretrained_normalization


def fill_normalization(config: Config) -> None:
    """Set an unset ``data.normalize`` from ``model.encoder``'s pretrained config (in place).

    Sections without a ``normalize`` key (GAN mode) are left alone.
    """
    data = config.data
    if "normalize" not in type(data).model_fields or data.normalize is not None:
        return
    mean, std = pretrained_normalization(config.model.encoder)
    config.data = data.model_copy(update={"normalize": NormalizeConfig(mean=mean, std=std)})


def legacy_normalization(raw: dict[str, Any], has_key: bool) -> dict[str, Any]:
    """A checkpoint's saved config, with ImageNet's mean/std where it predates ``data.normalize``
    (every image then was normalised with them, whatever the encoder).

    Args:
        raw: The checkpoint's plain config.
        has_key: Whether the task's data section has a ``normalize`` key.
    """
    data = raw.get("data")
    if not has_key or not isinstance(data, dict) or "normalize" in data:
        return raw
    imagenet = {"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)}
    return {**raw, "data": {**data, "normalize": imagenet}}
