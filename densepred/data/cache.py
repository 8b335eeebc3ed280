"""What a prepared cache holds and which configs may train from it (``data.cache``).

``prepare-data`` writes each split of a config as LitData shards
(:mod:`densepred.data.stream`) and then, last, :data:`MANIFEST`: the config values the cache's
content depends on (:func:`cache_spec`), the splits and their item counts. A folder without the
manifest is an interrupted (or running) preparation and never trains; a manifest whose values
differ from the config's is refused with the keys that differ (:func:`check_manifest`).

This module needs neither torch nor LitData; :func:`stream_module` imports the part that does,
or names the optional extra.
"""

from __future__ import annotations

import importlib.util
import json
import math
from types import ModuleType
from typing import Any

from densepred.config.data import DenseDataConfig
from densepred.core.errors import ConfigError, DataError
from densepred.core.fileio import to_json

MANIFEST = "densepred_cache.json"
"""Written last by ``prepare-data``: its presence marks a complete cache."""
PROGRESS = "densepred_cache.partial.json"
"""The splits an unfinished ``prepare-data`` has completed (removed when the manifest is written)."""
VERSION = 1
"""Layout version of the stored items; a cache of another version is refused."""
INSTALL_HINT = 'pip install -e ".[stream]"'
TRAIN_SIZE = "train_size"
"""Spec entry of the size training items are stored at (from two config keys, :func:`train_size`)."""
KEY_NAMES = {
    TRAIN_SIZE: "data.image_size / data.augment.crop_scale (the training items' stored size)"
}
PREPARE_HINT = "densepred prepare-data CONFIG --out DIR"


def stream_module() -> ModuleType:
    """:mod:`densepred.data.stream` (LitData shards); ``ConfigError`` naming the extra without it."""
    if importlib.util.find_spec("litdata") is None:
        raise ConfigError(
            f"data.cache needs LitData, which comes with the optional stream extra: {INSTALL_HINT} "
            "(from the repository root); or remove data.cache to read the dataset's files."
        )
    from densepred.data import stream  # here: it imports LitData, an optional extra

    return stream


def train_size(config: DenseDataConfig) -> list[int] | None:
    """(H, W) the cache stores training images and targets at; ``None``: their own size.

    Without a random crop that is ``data.image_size``, where training resizes to anyway, so
    the cached item is the resized one training makes. With a random crop (``augment.enabled``
    and ``crop_scale`` below 1) the crop is taken from the stored image: the size is raised to
    ``ceil(image_size / sqrt(low))`` so that even the smallest crop still holds ``image_size``
    pixels and is shrunk, never enlarged.
    """
    if config.image_size is None:
        return None
    low = config.augment.crop_scale[0]
    if not config.augment.enabled or low >= 1.0:
        return list(config.image_size)
    return [math.ceil(side / math.sqrt(low)) for side in config.image_size]


def cache_spec(config: DenseDataConfig) -> dict[str, Any]:
    """Config key -> value (as JSON reads it back) of every value the cached items depend on:
    the data's identity (format, root, args, splits, limits), the sizes and the task's reading
    of targets (``depth_scale``; ``classes``, ``void_value``, ``ignore_index``)."""
    spec: dict[str, Any] = {"data.target": config.target_kind}
    spec.update({f"data.{key}": getattr(config, key) for key in config.cache_keys})
    spec[TRAIN_SIZE] = train_size(config)
    return json.loads(to_json(spec))


def differences(recorded: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """The spec keys whose values differ (or that one side lacks), sorted."""
    return sorted(
        key for key in recorded.keys() | wanted.keys() if recorded.get(key) != wanted.get(key)
    )


def mismatch_message(location: str, recorded: dict[str, Any], wanted: dict[str, Any]) -> str:
    """Why the cache at ``location`` does not fit a config: each differing key with both values."""
    lines = [
        f"{KEY_NAMES.get(key, key)}: cache {recorded.get(key)!r}, config {wanted.get(key)!r}"
        for key in differences(recorded, wanted)
    ]
    return (
        f"data.cache '{location}' was prepared for other data settings:\n  "
        + "\n  ".join(lines)
        + f"\nPrepare a cache for this config in another folder ({PREPARE_HINT}), or set these "
        "keys back to the cache's values."
    )


def incomplete_message(location: str) -> str:
    """The error of a cache folder without a manifest."""
    return (
        f"data.cache '{location}' holds no complete cache: {MANIFEST} is missing, so prepare-data "
        "never ran there, was interrupted, or is still running. Run "
        f"`{PREPARE_HINT.replace('DIR', location)}` (it resumes an interrupted run), or remove "
        "data.cache to read the dataset's files."
    )


def check_manifest(
    manifest: dict[str, Any] | None, config: DenseDataConfig, location: str
) -> dict[str, Any]:
    """Return ``manifest`` if it is complete and made for ``config``'s data settings.

    Raises:
        DataError: No manifest (an incomplete cache), another layout version, or another spec
            (naming every key that differs).
    """
    if manifest is None:
        raise DataError(incomplete_message(location))
    if manifest.get("version") != VERSION:
        raise DataError(
            f"data.cache '{location}' has layout version {manifest.get('version')}, this densepred "
            f"reads version {VERSION}; prepare it again ({PREPARE_HINT})."
        )
    wanted = cache_spec(config)
    if differences(manifest["spec"], wanted):
        raise DataError(mismatch_message(location, manifest["spec"], wanted))
    return manifest
