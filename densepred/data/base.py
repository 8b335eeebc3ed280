"""What the ``data`` sections and data modules of all tasks share.

:class:`DataConfig` holds the keys every task has and names the target its task reads
(``target``); its ``format`` must be a layout of :data:`~densepred.data.layout.FORMATS` that
provides that target, and ``data.args`` are checked against the layout's reader when the config
is loaded. :class:`BaseDataModule` lists the records of each split, checks their target files,
builds the train/val/test loaders and runs the pre-flight check of the files
(:meth:`BaseDataModule.preflight`); a task's data module only wraps records in its dataset.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import lightning as L
import torch
from pydantic import Field, field_validator, model_validator
from torch.utils.data import DataLoader, Dataset

from densepred.core.errors import DataError
from densepred.core.schema import StrictModel
from densepred.data.collate import collate_native
from densepred.data.layout import (
    FormatReader,
    Sample,
    check_targets,
    format_reader,
    read_samples,
    validate_reader_args,
)
from densepred.data.preflight import preflight_check
from densepred.data.transforms import AugmentConfig, NormalizeConfig

CheckMode = Literal["full", "quick", "off"]


class DataConfig(StrictModel):
    """The keys of every task's ``data`` section; a subclass names its target and adds its keys.

    Attributes:
        format: Layout, a name in :data:`~densepred.data.layout.FORMATS` that provides the
            task's target.
        root: Dataset folder (for ``synthetic``: where generated sets are kept).
        args: Reader keyword arguments, e.g. ``{num_train: 600, size: [192, 256]}`` for synthetic;
            checked against the reader's signature (names and types).
        batch_size: Items per batch.
        num_workers: DataLoader worker processes.
        train_split: Split used for training.
        val_split: Split used for validation.
        test_split: Split used by ``trainer.test`` (``None`` = none).
        limit_train: Use only the first N training samples.
        limit_val: Use only the first N validation (and test) samples.
        check: Pre-flight check of the files before work starts (:meth:`BaseDataModule.preflight`):
            ``quick`` reads headers (decodable, size, dtype, channels), ``full`` also decodes
            every file, ``off`` skips it.
    """

    target_kind: ClassVar[str] = ""
    """The target the task reads: ``depth``, ``mask``, ``label`` or ``pair``."""
    task_keys: ClassVar[tuple[str, ...]] = ()
    """Data keys passed to the reader after ``split``, in this order (e.g. ``classes``)."""
    reserved_args: ClassVar[dict[str, str]] = {"root": "data.root", "split": "data.*_split"}
    """Reader parameters that the data module fills in -> the config key that sets them."""
    cache_keys: ClassVar[tuple[str, ...]] = (
        "format",
        "root",
        "args",
        "train_split",
        "val_split",
        "test_split",
        "limit_train",
        "limit_val",
    )
    """Keys whose values a prepared cache depends on (:func:`densepred.data.cache.cache_spec`)."""

    format: str = "synthetic"
    root: str = "datasets/synthetic"
    args: dict[str, Any] = Field(default_factory=dict)
    batch_size: int = Field(8, ge=1)
    num_workers: int = Field(2, ge=0)
    train_split: str = "train"
    val_split: str = "val"
    test_split: str | None = None
    limit_train: int | None = Field(None, ge=1)
    limit_val: int | None = Field(None, ge=1)
    check: CheckMode = "quick"

    @classmethod
    def layout(cls, format: str) -> FormatReader:
        """Layout ``format``'s reader of this task's target; ``ConfigError`` naming valid formats."""
        return format_reader(format, cls.target_kind)

    @classmethod
    def reader(cls, format: str) -> Callable[..., list[Sample]]:
        """The reader function of layout ``format`` for this task's target."""
        return cls.layout(format).read

    @field_validator("check", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        return "off" if value is False else value  # YAML reads a bare `off` as false

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        cls.layout(value)
        return value

    @model_validator(mode="after")
    def _check_args(self) -> DataConfig:
        reserved = {**self.reserved_args, **{key: f"data.{key}" for key in self.task_keys}}
        clash = [key for key in reserved if key in self.args]
        if clash:
            uses = ", ".join(reserved[key] for key in clash)
            raise ValueError(f"data.args cannot set {clash}: use {uses}")
        validate_reader_args(self.reader(self.format), self.args)
        return self

    def splits(self) -> dict[str, str]:
        """Configured splits by role: ``train``, ``val`` and (if set) ``test``."""
        roles = {"train": self.train_split, "val": self.val_split}
        return roles | ({"test": self.test_split} if self.test_split else {})


class ImageDataConfig(DataConfig):
    """Keys of tasks whose network reads a normalised RGB image (depth, segmentation, classification).

    Attributes:
        normalize: Mean and std of the input normalisation; unset, the encoder's pretrained
            config gives them when the config is loaded (see
            :class:`~densepred.data.transforms.NormalizeConfig`), and the resolved values are
            saved with the run.
    """

    normalize: NormalizeConfig | None = None


class DenseDataConfig(ImageDataConfig):
    """Keys of tasks whose images keep an optional native size (depth, segmentation).

    Attributes:
        image_size: (H, W) fed to the network, ``None`` = native size.
        augment: Training augmentations (dense targets move with the image).
        eval_size: Where validation and test are scored: ``native`` (default) at each target's
            own size, the prediction upsampled to it (as the MAI, NYU, KITTI, CamVid and VOC
            evaluations do), or ``input`` at ``image_size``, the target resized (nearest).
        cache: A cache written by ``prepare-data`` (a folder, or an ``s3://`` prefix) to read
            the splits from instead of the files: the images already decoded and resized, the
            training split streamed with LitData (sharded over DDP ranks and workers). Needs
            the ``stream`` extra; refused when it was prepared for other data settings.
    """

    cache_keys = (*DataConfig.cache_keys, "image_size", "eval_size")

    image_size: tuple[int, int] | None = (128, 160)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    eval_size: Literal["native", "input"] = "native"
    cache: str | None = None

    def native_targets(self, train: bool) -> bool:
        """Whether a split's items keep their target at its own size (evaluation splits with
        ``eval_size: native``)."""
        return not train and self.eval_size == "native"

    @model_validator(mode="after")
    def _crop_needs_size(self) -> DenseDataConfig:
        if (
            self.image_size is None
            and self.augment.enabled
            and self.augment.crop_scale != (1.0, 1.0)
        ):
            raise ValueError(
                f"augment.crop_scale {list(self.augment.crop_scale)} is a random crop, which needs "
                "a fixed data.image_size [H, W]; set one or use crop_scale [1, 1]"
            )
        return self


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
