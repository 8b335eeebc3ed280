"""What the data modules of all tasks share.

:class:`BaseDataModule` lists the records of each split of a ``data`` section
(:class:`densepred.config.data.DataConfig`), checks their target files, builds the
train/val/test loaders and runs the pre-flight check of the files
(:meth:`BaseDataModule.preflight`); a task's data module only wraps records in its dataset.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from densepred.config.data import DataConfig
from densepred.core.errors import DataError
from densepred.data.collate import collate_native
from densepred.data.layout import (
    Sample,
    check_targets,
    read_samples,
)
from densepred.data.preflight import preflight_check


class BaseDataModule(L.LightningDataModule, ABC):
    """Records, datasets, loaders and the pre-flight check of a :class:`DataConfig`.

    A subclass only wraps a split's records in its dataset (:meth:`_dataset`).

    Args:
        config: The ``data`` section.
    """

    def __init__(self, config: DataConfig) -> None:
        super().__init__()
        self.config = config
        self.datasets: dict[str, Dataset] = {}

    @property
    def target_required(self) -> bool:
        """Whether every record must have its target file (``False``: e.g. unconditional GAN)."""
        return True

    def task_values(self) -> tuple[Any, ...]:
        """The values of the config's ``task_keys``, passed to the reader after ``split``."""
        return tuple(getattr(self.config, key) for key in self.config.task_keys)

    def read_split(self, split: str) -> list[Sample]:
        """All records of ``split`` as the layout lists them, target files not yet checked."""
        cfg = self.config
        return read_samples(
            cfg.format, cfg.target_kind, cfg.root, split, self.task_values(), cfg.args
        )

    def subset(self, samples: list[Sample], limit: int | None) -> list[Sample]:
        """At most ``limit`` records (``None``: all); the first ones by default."""
        return samples[:limit]

    def samples(self, split: str, limit: int | None = None) -> list[Sample]:
        """The records of ``split`` (at most ``limit``); ``DataError`` if a target file is missing."""
        samples = self.read_split(split)
        if self.target_required:
            check_targets(samples, self.config.target_kind)
        return self.subset(samples, limit)

    @abstractmethod
    def _dataset(self, samples: list[Sample], train: bool) -> Dataset:
        """The dataset of a split's records, with training augmentation when ``train``."""

    def prepare_data(self) -> None:
        """List the evaluation split once (this generates the synthetic set if it is missing).

        Only a split that every stage reads is listed, so a dataset that holds just the split
        being evaluated works for ``validate`` and ``test``.
        """
        cfg = self.config
        self.read_split(cfg.test_split or cfg.val_split)

    def setup(self, stage: str | None = None) -> None:
        """Build the datasets the stage needs (``fit``, ``validate``, ``test``)."""
        if stage in (None, "fit"):
            self.datasets["train"] = self.role_dataset("train")
        if stage in (None, "fit", "validate"):
            self.datasets["val"] = self.role_dataset("val")
        if stage in (None, "test") and self.config.test_split is not None:
            self.datasets["test"] = self.role_dataset("test")

    def role_dataset(self, role: str) -> Dataset:
        """The dataset of split role ``train``, ``val`` or ``test`` (its configured split and
        limit; training augmentation for ``train``)."""
        cfg = self.config
        limit = cfg.limit_train if role == "train" else cfg.limit_val
        return self._dataset(self.samples(cfg.splits()[role], limit), role == "train")

    def preflight(self, roles: tuple[str, ...] = ("train", "val", "test"), workers: int = 8) -> int:
        """Check the files of the configured splits before work starts (``data.check``).

        Lists each split, then checks every record in a thread pool with a progress bar:
        missing target files, and per file decodable, size, dtype and channels (``quick``:
        headers; ``full``: full decode). All problems are reported together in one
        ``DataError`` (at most 20 files named, plus a count).

        Args:
            roles: Split roles to check (``train``, ``val``, ``test``; a role whose split is
                not configured is skipped), e.g. ``("val",)`` before an evaluation.
            workers: Threads reading headers.

        Returns:
            The number of records checked (0 with ``data.check: off``).
        """
        cfg = self.config
        if cfg.check == "off":
            return 0
        splits = {role: split for role, split in cfg.splits().items() if role in roles}
        return preflight_check(
            {split: self._listing(split) for split in splits.values()},
            self.file_kinds(),
            full=cfg.check == "full",
            workers=workers,
        )

    def _listing(self, split: str) -> list[Sample] | DataError:
        """The split's records, or the error listing it raised (reported with the others)."""
        try:
            return self.read_split(split)
        except DataError as exc:
            return exc

    def file_kinds(self) -> dict[str, str]:
        """Record field -> file kind checked by :meth:`preflight` (``image``, ``depth``, ``mask``)."""
        return {"image": "image"}

    def _loader(self, name: str, train: bool) -> DataLoader:
        if name not in self.datasets:
            raise DataError(
                f"no '{name}' dataset: call setup() first (and set data.test_split for testing)."
            )
        dataset, cfg = self.datasets[name], self.config
        return DataLoader(
            dataset,
            batch_size=cfg.batch_size,
            shuffle=train,
            drop_last=train and len(dataset) > cfg.batch_size,
            num_workers=cfg.num_workers,
            pin_memory=torch.cuda.is_available(),
            persistent_workers=cfg.num_workers > 0,
            collate_fn=collate_native,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)
