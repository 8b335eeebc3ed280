"""Encoder options may shape a network, never choose a file or weights to load.

``model.encoder_args`` (and a backbone discriminator's ``model.discriminator_args``) go to
``timm.create_model``, which also takes arguments that load weights: ``pretrained``,
``pretrained_cfg`` / ``pretrained_cfg_overlay`` (``file=...``, ``url=...``), ``checkpoint_path``,
``cache_dir``; smp adds ``encoder_weights``. Set in a config or saved in a checkpoint, such a key
would make timm open a file the user never named, and timm up to 1.0.24 unpickles local files with
``weights_only=False``. :func:`refuse_loader_args` is the one check, run when a config is validated
and when a checkpoint's config is rebuilt; weights come only from ``model.pretrained``, read by
densepred's own ``weights_only=True`` reader.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from densepred.core.errors import ConfigError

LOADER_PREFIXES = ("pretrained", "checkpoint", "hf_hub")
LOADER_SUFFIXES = ("path", "file", "filename", "dir", "url", "weights", "checkpoint")
"""A key that starts with a prefix (``pretrained``, ``pretrained_cfg``, ``pretrained_cfg_overlay``,
``checkpoint_path``) or whose last ``_`` word is a suffix (``cache_dir``, ``encoder_weights``)
chooses weights or a place to load from; ``drop_path_rate`` does not."""


def loader_keys(args: Mapping[str, Any], allowed: Collection[str] = ()) -> list[str]:
    """The keys of ``args`` that choose weights or a file to load (:data:`LOADER_PREFIXES`,
    :data:`LOADER_SUFFIXES`).

    Args:
        args: Options passed on to ``timm.create_model``.
        allowed: Keys densepred handles itself (e.g. a backbone discriminator's ``pretrained``).
    """
    return [
        key
        for key in args
        if key not in allowed
        and (
            str(key).lower().startswith(LOADER_PREFIXES)
            or str(key).lower().rsplit("_", 1)[-1] in LOADER_SUFFIXES
        )
    ]


def refuse_loader_args(
    args: Mapping[str, Any], where: str, allowed: Collection[str] = (), fix: str | None = None
) -> Mapping[str, Any]:
    """Return ``args`` unchanged, or refuse options that choose weights or a file to load.

    Args:
        args: Options passed on to ``timm.create_model`` (e.g. ``model.encoder_args``).
        where: The config key holding them, for the message.
        allowed: Keys densepred handles itself.
        fix: What to do, ending the message (default: where weights go in a config).

    Raises:
        ConfigError: Naming the first such key.
    """
    found = loader_keys(args, allowed)
    if found:
        weights = f"{where}.pretrained" if "pretrained" in allowed else "model.pretrained"
        fix = fix or (
            f"Set {weights} to a local weights file (read with weights_only=True) or to true for "
            f"timm's hub, and remove {where}.{found[0]}."
        )
        raise ConfigError(
            f"{where}.{found[0]} is refused: options that choose weights or a file to load are "
            f"not passed to timm (a config or checkpoint must not make densepred open a file). {fix}"
        )
    return args
