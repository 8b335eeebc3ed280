"""``prepare-data``: write a config's splits once as a cache that ``data.cache`` trains from.

Each split role (``train``, ``val``, ``test`` if configured) becomes LitData shards in
``<out>/<role>``: the items the task's dataset decodes, resized with training's own resize
(:func:`densepred.data.stream.write_split`); the training items in a shuffled order (LitData
streams whole shards, so a shard must not hold one scene's consecutive frames). The manifest
(:data:`~densepred.data.cache.MANIFEST`) is written last; until then the folder does not train.
An interrupted run resumes: splits recorded in :data:`~densepred.data.cache.PROGRESS` whose
shards are complete are kept, the others are written again.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from typing import Any

import numpy as np

from densepred.app.tasks import TASKS
from densepred.config.data import DenseDataConfig
from densepred.config.run import Config
from densepred.core.errors import ConfigError, DataError
from densepred.data.cache import (
    MANIFEST,
    PROGRESS,
    VERSION,
    cache_spec,
    differences,
    mismatch_message,
    stream_module,
    train_size,
)
from densepred.data.dense_module import DenseDataModule

logger = logging.getLogger(__name__)

DEFAULT_CHUNK = "64MB"
"""Shard size: LitData's default, about 450 training items of 128x160 (or 60 native-size
validation items of 480x640) per shard."""


def default_workers() -> int:
    """Processes that decode files while preparing: the CPUs, at most 8."""
    return min(8, os.cpu_count() or 1)


def _files_datamodule(config: Config) -> DenseDataModule:
    """The config's data module reading the dataset's files (``data.cache`` unset)."""
    data = config.data.model_copy(update={"cache": None})
    return TASKS.get(config.task_name).build_datamodule(dataclasses.replace(config, data=data))


def _existing(stream: Any, location: str, spec: dict[str, Any], overwrite: bool) -> Any | None:
    """The manifest at ``location`` if it is complete and made for ``spec`` (nothing to do);
    else ``None`` after removing a manifest that ``overwrite`` replaces.

    Raises:
        DataError: A complete cache for other settings is there and ``overwrite`` is off.
    """
    where = stream.child(location, MANIFEST)
    recorded = stream.read_json(where)
    if recorded is None:
        return None
    same = recorded.get("version") == VERSION and not differences(recorded["spec"], spec)
    if same and not overwrite:
        return recorded
    if not overwrite:
        raise DataError(
            mismatch_message(location, recorded["spec"], spec)
            + " Or pass --overwrite to replace the cache there."
        )
    stream.remove(where)  # from here on the folder is an incomplete cache
    return None


def prepare_data(
    config: Config,
    out: str | None = None,
    workers: int | None = None,
    chunk_bytes: str = DEFAULT_CHUNK,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write (or finish, or confirm) the cache of ``config``'s data at ``out``.

    Args:
        config: A depth or segmentation config.
        out: The cache's folder or ``s3://`` prefix (default: the config's ``data.cache``).
        workers: Processes decoding files (default :func:`default_workers`).
        chunk_bytes: Shard size, e.g. ``"64MB"``.
        overwrite: Replace a complete cache made for other data settings.

    Returns:
        The cache's manifest.

    Raises:
        ConfigError: No output given, a task without dense targets, or LitData missing.
        DataError: A file fails the checks (``data.check``) or cannot be read, or a cache for
            other settings is at ``out`` (without ``overwrite``).
    """
    data = config.data
    if not isinstance(data, DenseDataConfig):
        raise ConfigError(
            f"prepare-data caches the data of dense tasks (depth, segmentation); task "
            f"'{config.task_name}' reads its files directly."
        )
    location = out or data.cache
    if location is None:
        raise ConfigError("prepare-data needs where to write the cache: --out DIR or data.cache.")
    stream = stream_module()
    spec = cache_spec(data)
    done = _existing(stream, location, spec, overwrite)
    if done is not None:
        logger.info("%s already holds the cache of these data settings", location)
        return done
    datamodule = _files_datamodule(config)
    datamodule.prepare_data()  # e.g. renders the synthetic set
    datamodule.preflight()  # every file, all problems at once (data.check)
    progress_at = stream.child(location, PROGRESS)
    progress = stream.read_json(progress_at) or {}
    finished = progress.get("splits", {}) if progress.get("spec") == spec else {}
    splits: dict[str, Any] = {}
    for role, split in data.splits().items():
        role_at = stream.child(location, role)
        if role in finished and stream.split_written(role_at):
            logger.info("%s: kept, written by an earlier run", role_at)
            splits[role] = finished[role]
            continue
        start = time.perf_counter()
        samples = datamodule.samples(split, data.limit_train if role == "train" else data.limit_val)
        reader = datamodule.dense_dataset(samples, train=False)  # decoding only
        train = role == "train"
        size = train_size(data) if train else data.image_size
        crop_source = size is not None and list(size) != list(data.image_size)  # random crops
        writer = stream.ItemWriter(
            reader, size, resize_target=not data.native_targets(train), shrink_only=crop_source
        )
        order = np.random.default_rng(config.seed).permutation(len(samples)) if train else None
        indices = order.tolist() if order is not None else range(len(samples))
        stream.write_split(writer, indices, role_at, workers or default_workers(), chunk_bytes)
        splits[role] = {"split": split, "items": len(samples)}
        stream.write_json(progress_at, {"version": VERSION, "spec": spec, "splits": splits})
        logger.info("%s: %d items in %.1f s", role_at, len(samples), time.perf_counter() - start)
    manifest = {
        "version": VERSION,
        "spec": spec,
        "splits": splits,
        "extras": datamodule.cache_extras(),
        "chunk_bytes": chunk_bytes,
        "train_order_seed": config.seed,
    }
    stream.write_json(stream.child(location, MANIFEST), manifest)  # last: the cache is complete
    stream.remove(progress_at)
    return manifest
