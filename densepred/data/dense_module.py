"""The data module of a dense task (depth, segmentation): its splits from the files or, with
``data.cache``, from a prepared cache (:mod:`densepred.data.cache`, :mod:`densepred.data.stream`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset

from densepred.config.data import DenseDataConfig
from densepred.data.base import BaseDataModule
from densepred.data.cache import MANIFEST, check_manifest, stream_module
from densepred.data.collate import collate_native
from densepred.data.dense import DenseDataset
from densepred.data.layout import Sample, spread


class DenseDataModule(BaseDataModule):
    """The data module of a dense task; with ``data.cache`` it reads a prepared cache.

    Without a cache it is :class:`~densepred.data.base.BaseDataModule`. With one, nothing of
    the dataset's files is read: :meth:`preflight` checks the cache's manifest (complete, made
    for these data settings), the training split is streamed (LitData:
    :class:`~densepred.data.stream.StreamedSplit`, shuffled with the run's seed, each DDP rank
    and worker reading a disjoint part) and the evaluation splits are read by index in their
    stored order, their items made by the same :meth:`DenseDataset.make_item` as from files.
    """

    config: DenseDataConfig

    def __init__(self, config: DenseDataConfig) -> None:
        super().__init__(config)
        self._manifest: dict[str, Any] | None = None

    @abstractmethod
    def dense_dataset(self, samples: list[Sample], train: bool) -> DenseDataset:
        """The task's dataset of a split's records, with training augmentation when ``train``."""

    def _dataset(self, samples: list[Sample], train: bool) -> Dataset:
        return self.dense_dataset(samples, train)

    def manifest(self) -> dict[str, Any]:
        """The manifest of ``data.cache``, checked against the config (read once).

        Raises:
            ConfigError: LitData (the ``stream`` extra) is not installed.
            DataError: The cache is incomplete or was prepared for other data settings.
        """
        if self._manifest is None:
            stream, location = stream_module(), self.config.cache
            recorded = stream.read_json(stream.child(location, MANIFEST))
            self._manifest = check_manifest(recorded, self.config, location)
        return self._manifest

    def cache_extras(self) -> dict[str, Any]:
        """What a cache records beside its items, computed from the files when it is prepared
        (default: nothing); read back from :meth:`manifest` ``["extras"]``."""
        return {}

    def prepare_data(self) -> None:
        """List the evaluation split once (from files only: a cache needs nothing listed)."""
        if self.config.cache is None:
            super().prepare_data()

    def role_dataset(self, role: str) -> Dataset:
        cfg = self.config
        if cfg.cache is None:
            return super().role_dataset(role)
        stream, count = stream_module(), self.manifest()["splits"][role]["items"]
        location = stream.child(cfg.cache, role)
        make_item = self.dense_dataset([], role == "train").make_item
        if role != "train":
            return stream.CachedSplit(location, count, make_item)
        # The run's seed (seed_everything), the same on every rank as LitData's sharding needs.
        seed = torch.initial_seed() % 2**32
        return stream.StreamedSplit(location, make_item, seed, drop_last=count > cfg.batch_size)

    def stored_targets(self, role: str, count: int | None) -> Iterator[np.ndarray]:
        """Targets of a split role as the cache stores them: ``count`` spread over the split
        (``None``: all), read one at a time."""
        stream = stream_module()
        total = self.manifest()["splits"][role]["items"]
        split = stream.CachedSplit(stream.child(self.config.cache, role), total)
        for index in spread(range(total), count):
            yield split.stored(index)["target"]

    def preflight(self, roles: tuple[str, ...] = ("train", "val", "test"), workers: int = 8) -> int:
        """Check the files (:meth:`BaseDataModule.preflight`) or, with ``data.cache``, the
        cache's manifest, whatever ``data.check`` says; returns the records of ``roles``."""
        if self.config.cache is None:
            return super().preflight(roles, workers)
        splits = self.manifest()["splits"]
        return sum(splits[role]["items"] for role in self.config.splits() if role in roles)

    def _loader(self, name: str, train: bool) -> DataLoader:
        dataset, cfg = self.datasets.get(name), self.config
        if not isinstance(dataset, IterableDataset):
            return super()._loader(name, train)
        return stream_module().stream_loader(
            dataset, cfg.batch_size, cfg.num_workers, collate_native, torch.cuda.is_available()
        )
