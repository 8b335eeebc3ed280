"""Paired data of GAN mode: a condition image and the target image it should be translated to.

Two layouts (:data:`PAIRED_FORMATS`):

- ``synthetic``: the embedded scenes; any of ``rgb``, ``depth`` and ``mask`` can be the
  condition or the target (``folder/<split>/<kind>/NAME.png``, generated on first use);
- ``folder``: the pix2pix layout ``root/A/<split>/NAME.*`` (conditions) and
  ``root/B/<split>/NAME.*`` (targets), paired by file name (stem).

Every kind becomes a float tensor in [-1, 1] (the range of a tanh generator): ``rgb`` 3xHxW,
``depth`` 1xHxW as ``2 * clip(d / max_depth, 0, 1) - 1`` (invalid 0 m -> -1), ``mask`` 3xHxW
drawn in the segmentation palette. Unconditional runs (``condition: none``) read targets only.
Items: ``target``, ``condition`` (conditional only) and ``path`` (the target file).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal

import cv2
import numpy as np
import torch
from pydantic import Field, field_validator, model_validator
from torch import Tensor
from torch.utils.data import Dataset

from densepred.data.base import BaseDataModule, DataConfig, validate_reader_args
from densepred.data.io import read_depth, read_image, read_mask
from densepred.data.synthetic import synthetic_layout
from densepred.errors import DataError
from densepred.registry import Registry
from densepred.viz.segmentation import colorize_mask

Kind = Literal["rgb", "depth", "mask"]
KIND_CHANNELS: dict[str, int] = {"rgb": 3, "depth": 1, "mask": 3}
# Images are resized by area averaging; depth and class ids by nearest neighbour, so a resized
# map only holds values of the original (no depth invented across holes, no fractional ids).
KIND_INTERPOLATION: dict[str, int] = {
    "rgb": cv2.INTER_AREA,
    "depth": cv2.INTER_NEAREST,
    "mask": cv2.INTER_NEAREST,
}
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class PairedSample:
    """A target file and its condition file (``None`` for unconditional data)."""

    condition: Path | None
    target: Path


PairedReader = Callable[..., tuple[Path | None, Path]]
PAIRED_FORMATS: Registry[PairedReader] = Registry("paired data format")


@PAIRED_FORMATS.register("synthetic")
@synthetic_layout
def synthetic_dirs(
    folder: Path, split: str, condition: str, target: str
) -> tuple[Path | None, Path]:
    """Condition and target folders of the synthetic set (generated under ``root`` on first use).

    ``condition``, ``target``: their kinds (condition ``none`` for unconditional data).
    """
    base = folder / split
    return (None if condition == "none" else base / condition), base / target


@PAIRED_FORMATS.register("folder")
def folder_dirs(
    root: Path,
    split: str,
    condition: str,
    target: str,
    condition_dir: str = "A",
    target_dir: str = "B",
) -> tuple[Path | None, Path]:
    """The pix2pix layout: ``root/<condition_dir>/<split>/NAME`` and ``root/<target_dir>/<split>/NAME``.

    Args:
        root: Dataset folder.
        split: Split subfolder.
        condition: Kind of the condition (``none``: the condition folder is not read).
        target: Kind of the target (files are read accordingly).
        condition_dir: Folder of the conditions.
        target_dir: Folder of the targets.
    """
    return (
        None if condition == "none" else root / condition_dir / split
    ), root / target_dir / split


def _images(folder: Path) -> dict[str, Path]:
    """Image files of ``folder`` by stem; ``DataError`` if the folder is missing or empty."""
    if not folder.is_dir():
        raise DataError(f"data folder '{folder}' does not exist.")
    files = {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_EXTS}
    if not files:
        raise DataError(f"no images ({', '.join(IMAGE_EXTS)}) found in '{folder}'.")
    return files


def pair_files(condition_dir: Path | None, target_dir: Path) -> list[PairedSample]:
    """Pair every target with the condition of the same name; fail on unpaired files.

    Args:
        condition_dir: Folder of the conditions, or ``None`` for unconditional data.
        target_dir: Folder of the targets.
    """
    targets = _images(target_dir)
    if condition_dir is None:
        return [PairedSample(None, path) for path in targets.values()]
    conditions = _images(condition_dir)
    unpaired = sorted(set(targets) ^ set(conditions))
    if unpaired:
        raise DataError(
            f"{len(unpaired)} file name(s) appear in only one of '{condition_dir}' and '{target_dir}', "
            f"e.g. '{unpaired[0]}'. Every condition needs a target with the same name and vice versa."
        )
    return [PairedSample(conditions[name], path) for name, path in targets.items()]


def depth_to_unit(depth: np.ndarray, max_depth: float) -> np.ndarray:
    """HxW metres -> HxW in [-1, 1] (0 m, i.e. invalid, -> -1; ``max_depth`` and beyond -> 1)."""
    return np.clip(depth / max_depth, 0.0, 1.0) * 2.0 - 1.0


def unit_to_depth(x: Tensor, max_depth: float) -> Tensor:
    """Inverse of :func:`depth_to_unit`: values in [-1, 1] -> metres in [0, max_depth]."""
    return (x.clamp(-1.0, 1.0) + 1.0) * (0.5 * max_depth)


def encode(array: np.ndarray, kind: str, max_depth: float) -> Tensor:
    """A read (and resized) array of ``kind`` -> CxHxW float32 tensor in [-1, 1]."""
    if kind == "depth":
        unit = depth_to_unit(array, max_depth)[..., None]  # H,W,1
    else:
        rgb = colorize_mask(array) if kind == "mask" else array  # H,W,3 uint8
        unit = rgb.astype(np.float32) / 127.5 - 1.0  # H,W,3
    return torch.from_numpy(np.ascontiguousarray(unit, dtype=np.float32)).permute(2, 0, 1)  # C,H,W


def read_kind(path: Path, kind: str, depth_scale: float) -> np.ndarray:
    """Read a file as ``kind``: RGB uint8 HxWx3, depth HxW metres, or HxW class ids."""
    readers: dict[str, Callable[[Path], np.ndarray]] = {
        "rgb": read_image,
        "depth": partial(read_depth, scale=depth_scale),
        "mask": read_mask,
    }
    return readers[kind](path)


def resize(array: np.ndarray, kind: str, size: tuple[int, int]) -> np.ndarray:
    """Resize an array of ``kind`` to ``size`` (H, W) with that kind's interpolation."""
    if array.shape[:2] == tuple(size):
        return array
    return cv2.resize(array, (size[1], size[0]), interpolation=KIND_INTERPOLATION[kind])


class PairedDataset(Dataset):
    """Condition/target pairs as tensors in [-1, 1], resized to ``image_size``.

    Args:
        samples: Pairs from :func:`pair_files`.
        condition: Kind of the condition (``none`` for unconditional data).
        target: Kind of the target.
        image_size: (H, W) of the returned tensors.
        hflip: Flip condition and target together at random (training).
        depth_scale: Stored units per metre of integer depth files.
        max_depth: Depth mapped to 1 (see :func:`depth_to_unit`).
    """

    def __init__(
        self,
        samples: list[PairedSample],
        condition: str,
        target: str,
        image_size: tuple[int, int],
        hflip: bool = False,
        depth_scale: float = 1000.0,
        max_depth: float = 10.0,
    ) -> None:
        self.samples = samples
        self.condition = condition
        self.target = target
        self.image_size = image_size
        self.hflip = hflip
        self.depth_scale = depth_scale
        self.max_depth = max_depth

    def __len__(self) -> int:
        return len(self.samples)

    def _read(self, sample: PairedSample) -> dict[str, tuple[np.ndarray, str]]:
        """The raw arrays of a pair with their kinds; fails when the two differ in size."""
        arrays = {"target": (read_kind(sample.target, self.target, self.depth_scale), self.target)}
        if sample.condition is None:
            return arrays
        condition = read_kind(sample.condition, self.condition, self.depth_scale)
        cond, tgt = condition.shape[:2], arrays["target"][0].shape[:2]
        if cond != tgt:
            raise DataError(
                f"condition '{sample.condition}' is {cond[0]}x{cond[1]} but its target '{sample.target}' "
                f"is {tgt[0]}x{tgt[1]} (HxW); a pair must have the same size. Resize or crop one of them."
            )
        return {"condition": (condition, self.condition), **arrays}

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.samples[index]
        flip = self.hflip and bool(torch.rand(()) < 0.5)
        item: dict[str, Any] = {"path": str(sample.target)}
        for key, (array, kind) in self._read(sample).items():
            array = resize(array, kind, self.image_size)
            item[key] = encode(array[:, ::-1] if flip else array, kind, self.max_depth)  # C,H,W
        return item


class PairedDataConfig(DataConfig):
    """The ``data`` section of GAN mode.

    The keys of :class:`~densepred.data.base.DataConfig` (``format``: one of
    :data:`PAIRED_FORMATS`, ``synthetic`` or ``folder``; ``args`` are layout options) and these.

    Attributes:
        condition: Kind of the generator's input: ``rgb``, ``depth``, ``mask``, or ``none`` for
            unconditional generation from noise.
        target: Kind of the generated image: ``rgb`` or ``depth``.
        depth_scale: Units per metre of integer depth files (1000 = millimetres).
        min_depth: Lower end of the evaluated depth range (depth targets) in metres.
        max_depth: Depth in metres that maps to 1 (depths are scaled into [-1, 1]); also the
            upper end of the evaluated depth range.
        image_size: (H, W) of training images; the discriminator is built for this size.
        hflip: Random horizontal flip of training pairs.
    """

    reserved_args: ClassVar[dict[str, str]] = {
        **DataConfig.reserved_args,
        "condition": "data.condition",
        "target": "data.target",
    }

    condition: Literal["none", "rgb", "depth", "mask"] = "depth"
    target: Literal["rgb", "depth"] = "rgb"
    depth_scale: float = Field(1000.0, gt=0)
    min_depth: float = Field(1e-3, gt=0)
    max_depth: float = Field(10.0, gt=0)
    image_size: tuple[int, int] = (64, 64)
    hflip: bool = True

    @classmethod
    def reader(cls, format: str) -> PairedReader:
        return PAIRED_FORMATS.get(format)

    @field_validator("image_size")
    @classmethod
    def _positive_size(cls, value: tuple[int, int]) -> tuple[int, int]:
        if min(value) < 1:
            raise ValueError("image_size must be [H, W] with positive sides")
        return value

    @model_validator(mode="after")
    def _check(self) -> PairedDataConfig:
        if self.min_depth >= self.max_depth:
            raise ValueError(
                f"min_depth ({self.min_depth}) must be below max_depth ({self.max_depth})"
            )
        if self.condition == self.target:
            raise ValueError(
                f"condition and target are both '{self.target}'; choose two different kinds"
            )
        return self

    @property
    def conditional(self) -> bool:
        """Whether the generator maps a condition image (else it generates from noise)."""
        return self.condition != "none"

    @property
    def condition_channels(self) -> int:
        """Channels of the condition tensor (0 when unconditional)."""
        return KIND_CHANNELS.get(self.condition, 0)

    @property
    def target_channels(self) -> int:
        """Channels of the target tensor."""
        return KIND_CHANNELS[self.target]


def load_paired_samples(cfg: PairedDataConfig, split: str) -> list[PairedSample]:
    """List the pairs of one split with the layout ``cfg.format``."""
    reader = PAIRED_FORMATS.get(cfg.format)
    args = validate_reader_args(reader, cfg.args)
    condition_dir, target_dir = reader(Path(cfg.root), split, cfg.condition, cfg.target, **args)
    return pair_files(condition_dir, target_dir)


class PairedDataModule(BaseDataModule):
    """Train/val/test loaders of a :class:`PairedDataConfig` (``config``).

    The splits, limits and loaders work as in :class:`~densepred.data.base.BaseDataModule`;
    only the samples and the dataset differ.
    """

    config: PairedDataConfig

    def _samples(self, split: str, limit: int | None) -> list[PairedSample]:
        return load_paired_samples(self.config, split)[:limit]

    def _dataset(self, split: str, limit: int | None, train: bool) -> PairedDataset:
        cfg = self.config
        return PairedDataset(
            self._samples(split, limit),
            condition=cfg.condition,
            target=cfg.target,
            image_size=cfg.image_size,
            hflip=train and cfg.hflip,
            depth_scale=cfg.depth_scale,
            max_depth=cfg.max_depth,
        )
