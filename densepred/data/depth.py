"""Depth data: the depth layouts, the torch dataset, its config and the data module.

Each layout is a reader registered in :data:`~densepred.data.layout.FORMATS` with target
``depth``: ``reader(root, split, **args) -> list[Sample]`` with ``Sample.target`` the depth file
each image should have. The data module checks that those files exist, so every layout reports
a missing pair the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import ConcatDataset, Dataset

from densepred.config.data import DepthDataConfig
from densepred.core.errors import DataError
from densepred.data.dense import DenseDataset
from densepred.data.dense_module import DenseDataModule
from densepred.data.io import read_depth
from densepred.data.layout import (
    IMAGE_EXTS,
    Sample,
    image_files,
    register_format,
    split_dir,
    spread,
)
from densepred.data.preflight import check_valid_depth, read_depths
from densepred.data.synthetic import synthetic_layout
from densepred.data.transforms import apply_dense_transform, augment_transform

"""Former defaults of the removed ``data.min_depth`` / ``data.max_depth``, which every depth
config saved with a checkpoint before the removal holds; they are dropped, any other value fails."""
QUICK_DEPTH_FILES = 16
"""Depth files read per split by :meth:`DepthDataModule.check_valid_depth` with ``data.check: quick``."""


def _empty(folder: Path, layout: str) -> DataError:
    return DataError(f"no images found under '{folder}'. Expected layout: {layout}")


@register_format("folder", "depth")
def folder_reader(
    root: Path,
    split: str,
    image_dir: str = "image",
    depth_dir: str = "depth",
    image_exts: tuple[str, ...] = IMAGE_EXTS,
    depth_ext: str = ".png",
) -> list[Sample]:
    """``root/<split>/<image_dir>/NAME.<image_ext>`` paired with ``root/<split>/<depth_dir>/NAME<depth_ext>``.

    Args:
        root: Dataset folder.
        split: Split subfolder.
        image_dir: Subfolder of the images.
        depth_dir: Subfolder of the depth maps.
        image_exts: Image file extensions (case-insensitive).
        depth_ext: Depth file extension.
    """
    layout = f"<root>/<split>/{image_dir}/NAME{{{','.join(image_exts)}}} + <root>/<split>/{depth_dir}/NAME{depth_ext}"
    base = split_dir(root, split, layout)
    images = image_files(base / image_dir, image_exts)
    if not images:
        raise _empty(base / image_dir, layout)
    return [Sample(p, base / depth_dir / (p.stem + depth_ext)) for p in images]


@register_format("mai", "depth")
def mai_reader(root: Path, split: str) -> list[Sample]:
    """MAI challenge layout: ``root/<split>/rgb/*.png`` + ``root/<split>/depth/*.png`` (same names).

    MAI's own split folders are ``train`` and ``validation`` (the latter without depth).
    """
    return folder_reader(
        root, split, image_dir="rgb", depth_dir="depth", image_exts=(".png",), depth_ext=".png"
    )


@register_format("synthetic", "depth")
@synthetic_layout
def synthetic_reader(folder: Path, split: str) -> list[Sample]:
    """The procedural set (generated under ``root`` on first use), read as MAI layout."""
    return mai_reader(folder, split)


@register_format("nyu", "depth")
def nyu_reader(
    root: Path,
    split: str,
    image_prefix: str = "rgb_",
    depth_prefix: str = "sync_depth_",
    image_ext: str = ".jpg",
    depth_ext: str = ".png",
) -> list[Sample]:
    """NYU Depth v2 in the BTS layout: ``root/<split>/**/rgb_XXXXX.jpg`` + ``sync_depth_XXXXX.png`` beside it.

    Args:
        root: e.g. ``datasets/nyu_depth_v2``.
        split: Subfolder searched recursively, e.g. ``sync`` or ``official_splits/test``.
        image_prefix: File name prefix of the images.
        depth_prefix: File name prefix of the depth maps (uint16 millimetres).
        image_ext: Image extension.
        depth_ext: Depth extension.
    """
    layout = f"<root>/<split>/<scene>/{image_prefix}XXXXX{image_ext} + {depth_prefix}XXXXX{depth_ext} in the same folder"
    base = split_dir(root, split, layout)
    images = sorted(base.rglob(f"{image_prefix}*{image_ext}"))
    if not images:
        raise _empty(base, layout)
    return [
        Sample(
            p, p.with_name(depth_prefix + p.name[len(image_prefix) : -len(image_ext)] + depth_ext)
        )
        for p in images
    ]


def _list_path(base: Path, rel: str) -> Path:
    """Resolve a path from a filenames file; BTS lists start with '/' but are relative."""
    return base / rel.lstrip("/\\")


@register_format("list", "depth")
def list_reader(
    root: Path,
    split: str,
    list_file: str = "{split}.txt",
    image_root: str = ".",
    depth_root: str = ".",
) -> list[Sample]:
    """A filenames file (BTS style): lines ``image_rel depth_rel [ignored columns]``.

    A depth entry ``None`` (as in BTS's KITTI test lists) or a line with only an image marks a
    sample without ground truth.

    Args:
        root: Dataset folder.
        split: Split name, substituted into ``list_file``.
        list_file: File name relative to ``root``; ``{split}`` is replaced by the split.
        image_root: Folder (relative to ``root``) that image paths are relative to (BTS ``data_path``).
        depth_root: Folder (relative to ``root``) that depth paths are relative to (BTS ``gt_path``).
    """
    path = root / list_file.format(split=split)
    layout = f"{path} with lines 'image_path depth_path' relative to {root / image_root} and {root / depth_root}"
    if not path.is_file():
        raise DataError(f"list file '{path}' does not exist. Expected: {layout}")
    samples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts:
            continue
        depth = parts[1] if len(parts) > 1 and parts[1] != "None" else None
        samples.append(
            Sample(
                _list_path(root / image_root, parts[0]),
                _list_path(root / depth_root, depth) if depth else None,
            )
        )
    if not samples:
        raise DataError(f"list file '{path}' lists no images. Expected: {layout}")
    return samples


class DepthDataset(DenseDataset):
    """Image/depth pairs as dicts for a depth model.

    Items: ``image`` float32 3xHxW (ImageNet-normalised), ``depth`` float32 1xHxW metres with 0 =
    invalid (absent for samples without depth), ``path`` the image file name.

    Args:
        samples: Records of a depth layout (``target``: the depth file, or ``None``).
        depth_scale: Stored units per metre of integer depth files (1000 = millimetres).
        transform: Pipeline called as ``transform(image=..., mask=depth)``
            (see :func:`~densepred.data.transforms.build_dense_transform`); default: normalise only.
        native_target: Keep ``depth`` at the file's own size (native-resolution evaluation);
            only the image is resized.
        blank_targets: Samples without depth get an all-invalid (0) depth map instead of none,
            so they batch with labelled ones (unlabelled images for distillation).
    """

    target_noun = "depth"

    def __init__(
        self,
        samples: list[Sample],
        depth_scale: float = 1000.0,
        transform: Callable[..., dict[str, Any]] | None = None,
        native_target: bool = False,
        blank_targets: bool = False,
    ) -> None:
        super().__init__(samples, transform, native_target)
        self.depth_scale = depth_scale
        self.blank_targets = blank_targets

    def read_target(self, sample: Sample, size: tuple[int, int]) -> np.ndarray | None:
        if sample.target is not None:
            return read_depth(sample.target, self.depth_scale)
        return np.zeros(size, np.float32) if self.blank_targets else None

    def make_item(self, image: np.ndarray, target: np.ndarray | None, path: str) -> dict[str, Any]:
        if target is None:
            return {"image": self.transform(image=image)["image"], "path": path}
        image_t, depth_t = apply_dense_transform(self.transform, image, target, self.native_target)
        return {"image": image_t, "depth": depth_t.unsqueeze(0), "path": path}


class DepthDataModule(DenseDataModule):
    """Train/val/test loaders for a :class:`DepthDataConfig` (``config``)."""

    config: DepthDataConfig

    def dense_dataset(self, samples: list[Sample], train: bool) -> DepthDataset:
        cfg = self.config
        transform = augment_transform(cfg.augment, train, cfg.image_size, cfg.normalize)
        return DepthDataset(
            samples, cfg.depth_scale, transform, native_target=cfg.native_targets(train)
        )

    def _dataset(self, samples: list[Sample], train: bool) -> Dataset:
        labeled = self.dense_dataset(samples, train)
        cfg = self.config
        if not train or cfg.unlabeled_root is None:
            return labeled
        folder = Path(cfg.unlabeled_root)
        images = image_files(folder) if folder.is_dir() else []
        if not images:
            raise DataError(
                f"data.unlabeled_root '{folder}' holds no images ({', '.join(IMAGE_EXTS)}); "
                "point it at a folder of images or remove the key."
            )
        unlabeled = [Sample(p, None) for p in images]
        return ConcatDataset(
            [labeled, DepthDataset(unlabeled, transform=labeled.transform, blank_targets=True)]
        )

    def file_kinds(self) -> dict[str, str]:
        return {"image": "image", "target": "depth"}

    def check_valid_depth(
        self, min_depth: float, max_depth: float, roles: tuple[str, ...] = ("train", "val", "test")
    ) -> dict[str, int]:
        """Fail before work starts when a split has no depth pixel inside the task's range.

        ``data.check: full`` reads every depth map, ``quick`` a sample of
        :data:`QUICK_DEPTH_FILES` spread over each split, ``off`` nothing; from the files, or
        with ``data.cache`` as the cache stores them (training maps at the stored size).

        Args:
            min_depth: ``task.min_depth``.
            max_depth: ``task.max_depth``.
            roles: Split roles to check (``train``, ``val``, ``test``; unconfigured ones skipped).

        Returns:
            Split name -> valid pixels counted (``DataError`` when a count is 0).
        """
        cfg = self.config
        if cfg.check == "off":
            return {}
        files = None if cfg.check == "full" else QUICK_DEPTH_FILES
        counts = {}
        for role, split in cfg.splits().items():
            if role not in roles:
                continue
            if cfg.cache is None:
                samples = self.samples(split)
                chosen = spread(samples, files)
                depths, total = read_depths(chosen, cfg.depth_scale), len(samples)
            else:
                total = self.manifest()["splits"][role]["items"]
                chosen = spread(range(total), files)
                depths = self.stored_targets(role, files)
            counts[split] = check_valid_depth(
                split, depths, len(chosen), total, cfg.depth_scale, min_depth, max_depth
            )
        return counts
