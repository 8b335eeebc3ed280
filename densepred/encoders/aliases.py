"""Friendly encoder names and their timm models."""

from __future__ import annotations

import re

import timm

from densepred.core.errors import ConfigError, close_matches, unknown_name_message

# Friendly name -> timm model name; within a family, smallest first.
ENCODER_ALIASES: dict[str, str] = {
    "mobilenet_v1": "mobilenetv1_100",
    "mobilenet_v2": "mobilenetv2_100",
    "mobilenet_v3_small_minimal": "tf_mobilenetv3_small_minimal_100",
    "mobilenet_v3_small": "mobilenetv3_small_100",
    "mobilenet_v3_large": "mobilenetv3_large_100",
    **{f"efficientnet_b{i}": f"efficientnet_b{i}" for i in range(8)},
    "efficientnetv2_s": "efficientnetv2_s",
    "efficientnetv2_m": "efficientnetv2_m",
    "efficientnetv2_l": "efficientnetv2_l",
    "resnet18": "resnet18",
    "resnet34": "resnet34",
    "resnet50": "resnet50",
    "resnet101": "resnet101",
    "mixnet_s": "mixnet_s",
    "mixnet_m": "mixnet_m",
    "mixnet_l": "mixnet_l",
}


# Trailing size token of a friendly name: efficientnet_b3 -> efficientnet, resnet50 -> resnet.
_SIZE_SUFFIX = re.compile(r"(_b\d+|_[sml]|_large|_small(_minimal)?|(?<=resnet)\d+)$")


def encoder_family(name: str) -> str:
    """Family of a friendly encoder name (a name without a size token is its own family)."""
    return _SIZE_SUFFIX.sub("", name)


def family_representatives() -> list[str]:
    """The first (smallest) friendly name of every family, in ``ENCODER_ALIASES`` order: the
    cheap members that stand for their family in quick checks and tests."""
    firsts: dict[str, str] = {}
    for name in ENCODER_ALIASES:
        firsts.setdefault(encoder_family(name), name)
    return list(firsts.values())


def list_encoders() -> list[str]:
    """Friendly encoder names, sorted (any ``timm.list_models()`` name works as well)."""
    return sorted(ENCODER_ALIASES)


def resolve_encoder_name(name: str) -> str:
    """Return the timm model name for a friendly or timm encoder name.

    Args:
        name: A friendly name (``list_encoders()``) or a timm model name, optionally with a
            pretrained tag (``resnet18.a1_in1k``).

    Raises:
        ConfigError: ``name`` is neither; the message lists close friendly and timm names.
    """
    if name in ENCODER_ALIASES:
        return ENCODER_ALIASES[name]
    if timm.is_model(name):
        return name
    timm_hits = close_matches(name, timm.list_models())
    message = unknown_name_message("encoder", name, [*ENCODER_ALIASES, *timm_hits])
    raise ConfigError(f"{message} Any name from timm.list_models() works as well.")
