"""The input normalisation an encoder's pretrained weights expect (timm's pretrained config)."""

from __future__ import annotations

from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, resolve_data_config
from timm.models import get_pretrained_cfg

from densepred.encoders.aliases import resolve_encoder_name

Triple = tuple[float, float, float]


def pretrained_normalization(name: str) -> tuple[Triple, Triple]:
    """``(mean, std)`` of encoder ``name``'s default pretrained config, from timm's
    :func:`~timm.data.resolve_data_config` (e.g. 0.5/0.5 for ``tf_mobilenetv3_*``); ImageNet's
    when timm has no pretrained config for the model.

    Args:
        name: A friendly or timm encoder name (a ``.tag`` selects that weights' config).
    """
    cfg = get_pretrained_cfg(resolve_encoder_name(name))
    if cfg is None:
        return tuple(IMAGENET_DEFAULT_MEAN), tuple(IMAGENET_DEFAULT_STD)
    data = resolve_data_config(pretrained_cfg=cfg.to_dict())
    return tuple(float(v) for v in data["mean"]), tuple(float(v) for v in data["std"])
