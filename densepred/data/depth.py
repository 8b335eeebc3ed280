"""Depth data: on-disk layouts (readers), the torch dataset, its config and the data module.

A reader lists the image files of a split and the depth file each one should have:
``reader(root, split, **args) -> list[DepthSample]``. :func:`load_depth_samples` then checks
that the depth files exist (or drops them for predict-only splits), so every layout reports a
missing pair the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator
from torch.utils.data import Dataset

from densepred.data.base import BaseDataModule, DataConfig, validate_reader_args
from densepred.data.io import read_depth, read_image
from densepred.data.synthetic import synthetic_layout
from densepred.data.transforms import build_dense_transform
from densepred.errors import DataError
from densepred.registry import Registry
from densepred.schema import StrictModel

IMAGE_EXTS = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class DepthSample:
    """An image and its depth map (``None`` for predict-only samples).

    Attributes:
        image: RGB image file.
        depth: Depth file (uint16 PNG in ``1 / depth_scale`` metres, or float metres), or ``None``.
    """

    image: Path
    depth: Path | None


DepthReader = Callable[..., list[DepthSample]]
DEPTH_FORMATS: Registry[DepthReader] = Registry("depth data format")


def _split_dir(root: Path, split: str, layout: str) -> Path:
    """``root/split``, or ``DataError`` describing the expected layout if it does not exist."""
    folder = root / split
    if not folder.is_dir():
        raise DataError(f"data folder '{folder}' does not exist. Expected layout: {layout}")
    return folder


def _empty(folder: Path, layout: str) -> DataError:
    return DataError(f"no images found under '{folder}'. Expected layout: {layout}")


@DEPTH_FORMATS.register("folder")
def folder_reader(
    root: Path,
    split: str,
    image_dir: str = "image",
    depth_dir: str = "depth",
    image_exts: tuple[str, ...] = IMAGE_EXTS,
    depth_ext: str = ".png",
) -> list[DepthSample]:
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
    base = _split_dir(root, split, layout)
    exts = {e.lower() for e in image_exts}
    images = sorted(p for p in (base / image_dir).glob("*") if p.suffix.lower() in exts)
    if not images:
        raise _empty(base / image_dir, layout)
    return [DepthSample(p, base / depth_dir / (p.stem + depth_ext)) for p in images]


@DEPTH_FORMATS.register("mai")
def mai_reader(root: Path, split: str) -> list[DepthSample]:
    """MAI challenge layout: ``root/<split>/rgb/*.png`` + ``root/<split>/depth/*.png`` (same names).

    MAI's own split folders are ``train`` and ``validation`` (the latter without depth).
    """
    return folder_reader(
        root, split, image_dir="rgb", depth_dir="depth", image_exts=(".png",), depth_ext=".png"
    )


@DEPTH_FORMATS.register("synthetic")
@synthetic_layout
def synthetic_reader(folder: Path, split: str) -> list[DepthSample]:
    """The procedural set (generated under ``root`` on first use), read as MAI layout."""
    return mai_reader(folder, split)


@DEPTH_FORMATS.register("nyu")
def nyu_reader(
    root: Path,
    split: str,
    image_prefix: str = "rgb_",
    depth_prefix: str = "sync_depth_",
    image_ext: str = ".jpg",
    depth_ext: str = ".png",
) -> list[DepthSample]:
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
    base = _split_dir(root, split, layout)
    images = sorted(base.rglob(f"{image_prefix}*{image_ext}"))
    if not images:
        raise _empty(base, layout)
    return [
        DepthSample(
            p, p.with_name(depth_prefix + p.name[len(image_prefix) : -len(image_ext)] + depth_ext)
        )
        for p in images
    ]


def _list_path(base: Path, rel: str) -> Path:
    """Resolve a path from a filenames file; BTS lists start with '/' but are relative."""
    return base / rel.lstrip("/\\")


@DEPTH_FORMATS.register("list")
def list_reader(
    root: Path,
    split: str,
    list_file: str = "{split}.txt",
    image_root: str = ".",
    depth_root: str = ".",
) -> list[DepthSample]:
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
            DepthSample(
                _list_path(root / image_root, parts[0]),
                _list_path(root / depth_root, depth) if depth else None,
            )
        )
    if not samples:
        raise DataError(f"list file '{path}' lists no images. Expected: {layout}")
    return samples


def _check_depth(samples: list[DepthSample], require_depth: bool) -> list[DepthSample]:
    """Fail on images without a depth file, or (predict-only) drop the missing depth paths."""
    missing = [s for s in samples if s.depth is None or not s.depth.is_file()]
    if missing and require_depth:
        first = missing[0]
        expected = (
            f"expected its depth at '{first.depth}'"
            if first.depth
            else "its list entry names no depth file"
        )
        raise DataError(
            f"{len(missing)} of {len(samples)} images have no depth map; the first is '{first.image}' "
            f"({expected}). Add the missing depth files or remove those images."
        )
    gone = {s.image for s in missing}
    return [DepthSample(s.image, None) if s.image in gone else s for s in samples]


def load_depth_samples(
    format: str,
    root: str | Path,
    split: str,
    args: dict[str, Any] | None = None,
    require_depth: bool = True,
) -> list[DepthSample]:
    """List the samples of one split with the reader registered as ``format``.

    Args:
        format: Name in :data:`DEPTH_FORMATS` (``synthetic``, ``mai``, ``nyu``, ``folder``, ``list``).
        root: Dataset folder.
        split: Split name or subfolder.
        args: Reader keyword arguments (``data.args``), checked against the reader's signature.
        require_depth: Fail when an image has no depth file; with ``False`` such samples get
            ``depth=None`` (prediction on unlabelled images).
    """
    reader = DEPTH_FORMATS.get(format)
    samples = reader(Path(root), split, **validate_reader_args(reader, args))
    return _check_depth(samples, require_depth)


class DepthDataset(Dataset):
    """Image/depth pairs as dicts for a depth model.

    Items: ``image`` float32 3xHxW (ImageNet-normalised), ``depth`` float32 1xHxW metres with 0 =
    invalid (absent for samples without depth), ``path`` the image file name.

    Args:
        samples: Pairs from :func:`load_depth_samples`.
        depth_scale: Stored units per metre of integer depth files (1000 = millimetres).
        transform: Pipeline called as ``transform(image=..., mask=depth)``
            (see :func:`~densepred.data.transforms.build_dense_transform`); default: normalise only.
    """

    def __init__(
        self,
        samples: list[DepthSample],
        depth_scale: float = 1000.0,
        transform: Callable[..., dict[str, Any]] | None = None,
    ) -> None:
        self.samples = samples
        self.depth_scale = depth_scale
        self.transform = transform or build_dense_transform(train=False)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.samples[index]
        image = read_image(sample.image)
        if sample.depth is None:
            return {"image": self.transform(image=image)["image"], "path": str(sample.image)}
        depth = read_depth(sample.depth, self.depth_scale)
        if depth.shape != image.shape[:2]:
            raise DataError(
                f"depth '{sample.depth}' is {depth.shape[0]}x{depth.shape[1]} but its image '{sample.image}' "
                f"is {image.shape[0]}x{image.shape[1]} (HxW); they must have the same size."
            )
        out = self.transform(image=image, mask=depth)
        return {"image": out["image"], "depth": out["mask"].unsqueeze(0), "path": str(sample.image)}


class DepthAugmentConfig(StrictModel):
    """Training augmentations (``data.augment``).

    Attributes:
        enabled: Master switch; ``False`` trains on resized images only.
        hflip: Random horizontal flip.
        color_jitter: Brightness/contrast/saturation jitter strength (hue: a quarter of it).
            Use 0 on the synthetic set, whose haze is a depth cue (datasets/README.md).
        crop_scale: Area fraction range of a random crop resized back to ``image_size``;
            ``[1, 1]`` = off (a zoom changes apparent distance, see the transforms module).
    """

    enabled: bool = True
    hflip: bool = True
    color_jitter: float = Field(0.2, ge=0.0, le=1.0)
    crop_scale: tuple[float, float] = (1.0, 1.0)

    @field_validator("crop_scale")
    @classmethod
    def _check_crop(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1] <= 1:
            raise ValueError("crop_scale must be [low, high] with 0 < low <= high <= 1")
        return value

    def transform(
        self, train: bool, image_size: tuple[int, int] | None
    ) -> Callable[..., dict[str, Any]]:
        """A split's pipeline: these augmentations when ``train`` (and enabled), else resize + normalise.

        Args:
            train: Whether the split is the training split.
            image_size: (H, W) fed to the network, ``None`` = native size.
        """
        return build_dense_transform(
            train=train and self.enabled,
            image_size=image_size,
            hflip=self.hflip,
            color_jitter=self.color_jitter,
            crop_scale=self.crop_scale,
        )


class DepthDataConfig(DataConfig):
    """The ``data`` section of a depth config.

    The keys of :class:`~densepred.data.base.DataConfig` (``format``: one of :data:`DEPTH_FORMATS`)
    and these.

    Attributes:
        depth_scale: Units per metre of integer depth files (1000 = mm: MAI, NYU; 256: KITTI).
        image_size: (H, W) fed to the network, ``None`` = native size.
        augment: Training augmentations.
        min_depth: Lower end of the evaluated depth range in metres.
        max_depth: Upper end of the evaluated depth range in metres. Ground truth outside
            ``(min_depth, max_depth)`` is kept as is; losses and metrics use only pixels inside.
    """

    depth_scale: float = Field(1000.0, gt=0)
    image_size: tuple[int, int] | None = (128, 160)
    augment: DepthAugmentConfig = Field(default_factory=DepthAugmentConfig)
    min_depth: float = Field(1e-3, ge=0)
    max_depth: float = Field(10.0, gt=0)

    @classmethod
    def reader(cls, format: str) -> DepthReader:
        return DEPTH_FORMATS.get(format)

    @model_validator(mode="after")
    def _check(self) -> DepthDataConfig:
        if self.min_depth >= self.max_depth:
            raise ValueError(
                f"min_depth ({self.min_depth}) must be below max_depth ({self.max_depth})"
            )
        return self


class DepthDataModule(BaseDataModule):
    """Train/val/test loaders for a :class:`DepthDataConfig` (``config``)."""

    config: DepthDataConfig

    def _samples(self, split: str, limit: int | None) -> list[DepthSample]:
        cfg = self.config
        return load_depth_samples(cfg.format, cfg.root, split, cfg.args)[:limit]

    def _dataset(self, split: str, limit: int | None, train: bool) -> DepthDataset:
        cfg = self.config
        transform = cfg.augment.transform(train, cfg.image_size)
        return DepthDataset(self._samples(split, limit), cfg.depth_scale, transform)
