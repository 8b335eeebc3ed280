"""Paired data of GAN mode: a condition image and the target image it should be translated to.

Two layouts with ``pair`` targets in :data:`~densepred.data.layout.FORMATS`:

- ``synthetic``: the embedded scenes; any of ``rgb``, ``depth`` and ``mask`` can be the
  condition or the target (``folder/<split>/<kind>/NAME.png``, generated on first use);
- ``folder``: the pix2pix layout ``root/A/<split>/NAME.*`` (conditions) and
  ``root/B/<split>/NAME.*`` (targets), paired by file name (stem).

Every kind becomes a float tensor in [-1, 1] (the range of a tanh generator): ``rgb`` 3xHxW,
``depth`` 1xHxW as ``2 * clip(d / max_depth, 0, 1) - 1`` (invalid 0 m -> -1), ``mask`` 3xHxW
drawn in the segmentation palette. Unconditional runs (``condition: none``) read targets only.
Records: ``Sample(image=condition, target=target)``; unconditional data has only targets,
``Sample(image=target)``. Items: ``target``, ``condition`` (conditional only) and ``path`` (the
target file). Pairs are resized and flipped together by albumentations
(:func:`~densepred.data.transforms.build_pair_transform`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from densepred.config.data import PairedDataConfig
from densepred.core.errors import DataError
from densepred.data.base import BaseDataModule
from densepred.data.io import read_depth, read_image, read_mask
from densepred.data.layout import IMAGE_EXTS, Sample, image_files, register_format
from densepred.data.palette import mask_colors
from densepred.data.synthetic import synthetic_layout
from densepred.data.transforms import build_pair_transform
from densepred.portable.processing import encode_array

Kind = Literal["rgb", "depth", "mask"]
FILE_KINDS: dict[str, str] = {"rgb": "image", "depth": "depth", "mask": "mask"}
"""Pair kind -> file kind of the pre-flight check."""


def _images(folder: Path) -> dict[str, Path]:
    """Image files of ``folder`` by stem; ``DataError`` if the folder is missing or empty."""
    if not folder.is_dir():
        raise DataError(f"data folder '{folder}' does not exist.")
    files = {p.stem: p for p in image_files(folder)}
    if not files:
        raise DataError(f"no images ({', '.join(IMAGE_EXTS)}) found in '{folder}'.")
    return files


def pair_files(condition_dir: Path | None, target_dir: Path) -> list[Sample]:
    """Pair every target with the condition of the same name; fail on unpaired files.

    Args:
        condition_dir: Folder of the conditions, or ``None`` for unconditional data.
        target_dir: Folder of the targets.

    Returns:
        ``Sample(condition, target)`` records; ``Sample(target)`` for unconditional data.
    """
    targets = _images(target_dir)
    if condition_dir is None:
        return [Sample(path) for path in targets.values()]
    conditions = _images(condition_dir)
    unpaired = sorted(set(targets) ^ set(conditions))
    if unpaired:
        raise DataError(
            f"{len(unpaired)} file name(s) appear in only one of '{condition_dir}' and '{target_dir}', "
            f"e.g. '{unpaired[0]}'. Every condition needs a target with the same name and vice versa."
        )
    return [Sample(conditions[name], path) for name, path in targets.items()]


@register_format("synthetic", "pair")
@synthetic_layout
def synthetic_pairs(folder: Path, split: str, condition: str, target: str) -> list[Sample]:
    """Pairs of the synthetic set (generated under ``root`` on first use): ``<split>/<kind>/NAME.png``.

    ``condition``, ``target``: their kinds (condition ``none`` for unconditional data).
    """
    base = folder / split
    return pair_files(None if condition == "none" else base / condition, base / target)


@register_format("folder", "pair")
def folder_pairs(
    root: Path,
    split: str,
    condition: str,
    target: str,
    condition_dir: str = "A",
    target_dir: str = "B",
) -> list[Sample]:
    """The pix2pix layout: ``root/<condition_dir>/<split>/NAME`` and ``root/<target_dir>/<split>/NAME``.

    Args:
        root: Dataset folder.
        split: Split subfolder.
        condition: Kind of the condition (``none``: the condition folder is not read).
        target: Kind of the target.
        condition_dir: Folder of the conditions.
        target_dir: Folder of the targets.
    """
    conditions = None if condition == "none" else root / condition_dir / split
    return pair_files(conditions, root / target_dir / split)


def encode(array: np.ndarray, kind: str, max_depth: float) -> Tensor:
    """A read (and resized) array of ``kind`` -> CxHxW float32 tensor in [-1, 1]
    (:func:`~densepred.portable.processing.encode_array`; masks in :func:`mask_colors`)."""
    return encode_array(array, kind, max_depth, mask_colors() if kind == "mask" else None)


def read_kind(path: Path, kind: str, depth_scale: float) -> np.ndarray:
    """Read a file as ``kind``: RGB uint8 HxWx3, depth HxW metres, or HxW class ids."""
    readers: dict[str, Callable[[Path], np.ndarray]] = {
        "rgb": read_image,
        "depth": partial(read_depth, scale=depth_scale),
        "mask": read_mask,
    }
    return readers[kind](path)


class PairedDataset(Dataset):
    """Condition/target pairs as tensors in [-1, 1], resized (and flipped) together.

    An item holds ``target`` (and ``condition``), the target's ``path``, its ``index`` in the
    split (the GAN task seeds each item's evaluation noise with it) and, with ``native_depth``,
    ``depth``.

    Args:
        samples: Records from :func:`pair_files`.
        condition: Kind of the condition (``none`` for unconditional data).
        target: Kind of the target.
        image_size: (H, W) of the returned tensors.
        hflip: Flip condition and target together at random (training).
        depth_scale: Stored units per metre of integer depth files.
        max_depth: Depth mapped to 1 (see :func:`~densepred.portable.processing.depth_to_unit`).
        native_depth: Also return a depth target as read, ``depth``: 1xHxW metres at its file's
            size, 0 = invalid (evaluation with ``data.eval_size: native``).
    """

    def __init__(
        self,
        samples: list[Sample],
        condition: str,
        target: str,
        image_size: tuple[int, int],
        hflip: bool = False,
        depth_scale: float = 1000.0,
        max_depth: float = 10.0,
        native_depth: bool = False,
    ) -> None:
        if native_depth and (target != "depth" or hflip):
            raise ValueError("native_depth needs a depth target and no flipping")
        self.samples = samples
        self.kinds = {"target": target} | ({} if condition == "none" else {"condition": condition})
        self.transform = build_pair_transform(self.kinds, image_size, hflip)
        self.depth_scale = depth_scale
        self.max_depth = max_depth
        self.native_depth = native_depth

    def __len__(self) -> int:
        return len(self.samples)

    def files(self, sample: Sample) -> dict[str, Path]:
        """The record's files by key (``target``, and ``condition`` for conditional data)."""
        if "condition" not in self.kinds:
            return {"target": sample.image}
        return {"condition": sample.image, "target": sample.target}

    def _read(self, sample: Sample) -> dict[str, np.ndarray]:
        """The raw arrays of a pair; fails when the two differ in size."""
        files = self.files(sample)
        arrays = {k: read_kind(path, self.kinds[k], self.depth_scale) for k, path in files.items()}
        if "condition" in arrays:
            cond, tgt = arrays["condition"].shape[:2], arrays["target"].shape[:2]
            if cond != tgt:
                raise DataError(
                    f"condition '{files['condition']}' is {cond[0]}x{cond[1]} but its target "
                    f"'{files['target']}' is {tgt[0]}x{tgt[1]} (HxW); a pair must have the same "
                    "size. Resize or crop one of them."
                )
        return arrays

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.samples[index]
        raw = self._read(sample)
        arrays = self.transform(**raw)
        item: dict[str, Any] = {"path": str(self.files(sample)["target"]), "index": index}
        for key, array in arrays.items():
            item[key] = encode(array, self.kinds[key], self.max_depth)  # C,H,W
        if self.native_depth:
            item["depth"] = torch.from_numpy(np.ascontiguousarray(raw["target"], np.float32))[None]
        return item


class PairedDataModule(BaseDataModule):
    """Train/val/test loaders of a :class:`PairedDataConfig` (``config``).

    The splits, limits and loaders work as in :class:`~densepred.data.base.BaseDataModule`;
    only the dataset differs.
    """

    config: PairedDataConfig

    @property
    def target_required(self) -> bool:
        return self.config.conditional

    def _dataset(self, samples: list[Sample], train: bool) -> PairedDataset:
        cfg = self.config
        return PairedDataset(
            samples,
            condition=cfg.condition,
            target=cfg.target,
            image_size=cfg.image_size,
            hflip=train and cfg.hflip,
            depth_scale=cfg.depth_scale,
            max_depth=cfg.max_depth,
            native_depth=not train and cfg.target == "depth" and cfg.eval_size == "native",
        )

    def file_kinds(self) -> dict[str, str]:
        cfg = self.config
        if not cfg.conditional:
            return {"image": FILE_KINDS[cfg.target]}
        return {"image": FILE_KINDS[cfg.condition], "target": FILE_KINDS[cfg.target]}
