"""What the ``data`` sections and data modules of all tasks share.

A task's layout reader is called as ``reader(root, split, <task keys>, **data.args)``.
:func:`validate_reader_args` checks ``data.args`` against the reader's signature, names and
types, so a bad value fails when the config is loaded. :class:`DataConfig` holds the keys every
task has; :class:`BaseDataModule` builds the train/val/test loaders from them.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import lightning as L
import torch
from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator
from torch.utils.data import DataLoader, Dataset

from densepred.errors import ConfigError, DataError
from densepred.registry import check_kwargs
from densepred.schema import StrictModel


def _type_name(annotation: Any) -> str:
    """``int`` for classes, ``tuple[int, int]`` for generic aliases."""
    return annotation.__name__ if isinstance(annotation, type) else str(annotation)


def validate_reader_args(
    reader: Callable[..., Any], args: Mapping[str, Any] | None, where: str = "data.args"
) -> dict[str, Any]:
    """Check reader keyword arguments against the reader's signature and convert them to its types.

    Names are checked by :func:`~densepred.registry.check_kwargs`; each value is validated by
    pydantic against its parameter's annotation (a YAML list becomes a tuple, ``"abc"`` for an
    ``int`` fails).

    Args:
        reader: The layout's reader.
        args: Its keyword arguments (``data.args``).
        where: Config key of ``args``, used in messages.

    Returns:
        The arguments converted to the types of the reader's annotations.
    """
    args = dict(args or {})
    check_kwargs(reader, args, where)
    params = inspect.signature(reader, eval_str=True).parameters
    converted = {}
    for key, value in args.items():
        annotation = params[key].annotation if key in params else inspect.Parameter.empty
        if annotation is inspect.Parameter.empty:
            converted[key] = value
            continue
        try:
            converted[key] = TypeAdapter(annotation).validate_python(value)
        except ValidationError as exc:
            raise ConfigError(
                f"{where}.{key}: expected {_type_name(annotation)}, got {value!r} "
                f"({exc.errors()[0]['msg']})"
            ) from None
    return converted


class DataConfig(StrictModel):
    """The keys of every task's ``data`` section; a subclass adds its own and names its layouts.

    Attributes:
        format: Layout, a name known to :meth:`reader`.
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
    """

    reserved_args: ClassVar[dict[str, str]] = {"root": "data.root", "split": "data.*_split"}
    """Reader parameters that the data module fills in -> the config key that sets them."""

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

    @classmethod
    def reader(cls, format: str) -> Callable[..., Any]:
        """The reader of layout ``format``; ``ConfigError`` with the valid names if it is unknown."""
        raise NotImplementedError(f"{cls.__name__} names no layouts")

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        cls.reader(value)
        return value

    @model_validator(mode="after")
    def _check_args(self) -> DataConfig:
        reserved = [key for key in self.reserved_args if key in self.args]
        if reserved:
            uses = ", ".join(self.reserved_args[key] for key in reserved)
            raise ValueError(f"data.args cannot set {reserved}: use {uses}")
        validate_reader_args(self.reader(self.format), self.args)
        return self


class BaseDataModule(L.LightningDataModule, ABC):
    """Train/val/test loaders of a :class:`DataConfig`; subclasses list the samples and wrap them.

    Args:
        config: The ``data`` section.
    """

    def __init__(self, config: DataConfig) -> None:
        super().__init__()
        self.config = config
        self.datasets: dict[str, Dataset] = {}

    @abstractmethod
    def _samples(self, split: str, limit: int | None) -> list[Any]:
        """The samples of ``split``, at most ``limit`` of them (``None``: all)."""

    @abstractmethod
    def _dataset(self, split: str, limit: int | None, train: bool) -> Dataset:
        """The dataset of ``split``, with training augmentation when ``train``."""

    def prepare_data(self) -> None:
        """List the training split once (this generates the synthetic set if it is missing)."""
        self._samples(self.config.train_split, None)

    def setup(self, stage: str | None = None) -> None:
        """Build the datasets the stage needs (``fit``, ``validate``, ``test``)."""
        cfg = self.config
        if stage in (None, "fit"):
            self.datasets["train"] = self._dataset(cfg.train_split, cfg.limit_train, train=True)
        if stage in (None, "fit", "validate"):
            self.datasets["val"] = self._dataset(cfg.val_split, cfg.limit_val, train=False)
        if stage in (None, "test") and cfg.test_split is not None:
            self.datasets["test"] = self._dataset(cfg.test_split, cfg.limit_val, train=False)

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
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)
