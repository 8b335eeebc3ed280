"""The ``data`` sections: where the files are, how they are read, batched and augmented.

:class:`DataConfig` holds the keys every task has and names the target its task reads
(``target_kind``); its ``format`` must be a layout that provides that target, and ``data.args``
must fit the layout's reader. Both are checked in the second validation pass, against
:data:`densepred.data.layout.FORMATS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from densepred.config.refs import references
from densepred.core.schema import StrictModel

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

CheckMode = Literal["full", "quick", "off"]

LEGACY_RANGE = {"min_depth": 1e-3, "max_depth": 10.0}
"""``data.min_depth`` / ``data.max_depth`` as saved by old checkpoints (their defaults)."""

KIND_CHANNELS: dict[str, int] = {"rgb": 3, "depth": 1, "mask": 3}
"""Channels of each kind of GAN pair image (masks are drawn in the palette's colours)."""


def _positive_size(size: tuple[int, int]) -> tuple[int, int]:
    if min(size) < 1:
        raise ValueError(
            "not an image size: give [H, W] in pixels, both at least 1 (e.g. [128, 160])"
        )
    return size


ImageSize = Annotated[tuple[int, int], AfterValidator(_positive_size)]
"""``data.image_size``: ``[H, W]`` of the network input, both at least 1 (``[0, -4]`` fails at load)."""


class NormalizeConfig(StrictModel):
    """``data.normalize``: per-channel mean and std (of 0..1 RGB) the image is normalised with.

    Unset in a config, it is taken from the encoder's pretrained config when the config is
    loaded and saved with the run's config and checkpoint, so evaluate, predict and export
    normalise the same way.

    Attributes:
        mean: Per-channel mean of 0..1 RGB.
        std: Per-channel standard deviation (positive).
    """

    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    @field_validator("std")
    @classmethod
    def _positive(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if min(value) <= 0:
            raise ValueError(f"every std must be positive, got {list(value)}")
        return value


class AugmentConfig(StrictModel):
    """Training augmentations (``data.augment``).

    Attributes:
        enabled: Master switch; ``False`` trains on resized images only.
        hflip: Random horizontal flip.
        color_jitter: Brightness/contrast/saturation jitter strength (hue: a quarter of it).
            Generator v3 carried depth in its haze, so jitter was 0 there; v4 has no such cue.
        crop_scale: Area fraction range of a random crop resized back to ``image_size``;
            ``[1, 1]`` = off (a zoom changes apparent distance, see densepred.data.transforms).
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


class DataConfig(StrictModel):
    """The keys of every task's ``data`` section; a subclass names its target and adds its keys.

    Attributes:
        format: Layout, a name in ``densepred.data.layout.FORMATS`` that provides the task's
            target.
        root: Dataset folder (for ``synthetic``: where generated sets are kept).
        args: Reader keyword arguments, e.g. ``{num_train: 600, size: [192, 256]}`` for synthetic;
            checked against the reader's signature (names and types).
        image_size: (H, W) the network is fed (``None``: each image's native size, where the
            task allows it).
        batch_size: Items per batch.
        num_workers: DataLoader worker processes.
        train_split: Split used for training.
        val_split: Split used for validation.
        test_split: Split used by ``trainer.test`` (``None`` = none).
        limit_train: Use only the first N training samples.
        limit_val: Use only the first N validation (and test) samples.
        check: Pre-flight check of the files before work starts: ``quick`` reads headers
            (decodable, size, dtype, channels), ``full`` also decodes every file, ``off`` skips it.
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
    """Keys whose values a prepared cache depends on (``densepred.data.cache.cache_spec``)."""

    format: str = "synthetic"
    root: str = "datasets/synthetic"
    image_size: ImageSize | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    batch_size: int = Field(8, ge=1)
    num_workers: int = Field(2, ge=0)
    train_split: str = "train"
    val_split: str = "val"
    test_split: str | None = None
    limit_train: int | None = Field(None, ge=1)
    limit_val: int | None = Field(None, ge=1)
    check: CheckMode = "quick"

    @field_validator("check", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        return "off" if value is False else value  # YAML reads a bare `off` as false

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str, info: ValidationInfo) -> str:
        refs = references(info)
        if refs is not None:
            refs.check_format(value, cls.target_kind)
        return value

    @model_validator(mode="after")
    def _check_args(self, info: ValidationInfo) -> DataConfig:
        reserved = {**self.reserved_args, **{key: f"data.{key}" for key in self.task_keys}}
        clash = [key for key in reserved if key in self.args]
        if clash:
            uses = ", ".join(reserved[key] for key in clash)
            raise ValueError(f"data.args cannot set {clash}: use {uses}")
        refs = references(info)
        if refs is not None:
            refs.check_reader_args(self.format, self.target_kind, self.args)
        return self

    def splits(self) -> dict[str, str]:
        """Configured splits by role: ``train``, ``val`` and (if set) ``test``."""
        roles = {"train": self.train_split, "val": self.val_split}
        return roles | ({"test": self.test_split} if self.test_split else {})


class ImageDataConfig(DataConfig):
    """Keys of tasks whose network reads a normalised RGB image (depth, segmentation, classification).

    Attributes:
        normalize: Mean and std of the input normalisation; unset, the encoder's pretrained
            config gives them when the config is loaded, and the resolved values are saved with
            the run.
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
        cache: A cache written by ``densepred prepare-data`` (a folder, or an ``s3://``
            prefix) to read the splits from instead of the files: images already decoded and
            resized, the training split streamed by LitData (each DDP rank and worker a
            disjoint part). Needs the ``stream`` extra; refused when prepared for other data
            settings (``None``: read the files).
    """

    cache_keys: ClassVar[tuple[str, ...]] = (*DataConfig.cache_keys, "image_size", "eval_size")

    image_size: ImageSize | None = (128, 160)
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


class DepthDataConfig(DenseDataConfig):
    """The ``data`` section of a depth config.

    The keys of :class:`DenseDataConfig` (``format``: a layout with depth targets: ``folder``,
    ``list``, ``mai``, ``nyu``, ``synthetic``) and these. The depth range is the task's
    (``task.min_depth`` / ``task.max_depth``): ``data.min_depth`` / ``data.max_depth`` are
    rejected, since a data range would only be ignored (the values saved in old checkpoints,
    :data:`LEGACY_RANGE`, are dropped so those checkpoints still load).

    Attributes:
        depth_scale: Units per metre of integer depth files (1000 = mm: MAI, NYU; 256: KITTI).
        unlabeled_root: A folder of images without depth mixed into training; they get their
            targets from the teacher only (needs ``task.distill``).
    """

    target_kind: ClassVar[str] = "depth"
    cache_keys: ClassVar[tuple[str, ...]] = (*DenseDataConfig.cache_keys, "depth_scale")

    depth_scale: float = Field(1000.0, gt=0)
    unlabeled_root: str | None = None

    @model_validator(mode="after")
    def _cache_has_no_unlabeled(self) -> DepthDataConfig:
        if self.cache is not None and self.unlabeled_root is not None:
            raise ValueError(
                "data.cache holds the labelled splits only, not data.unlabeled_root's images; "
                "remove one of the two"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _range_is_the_tasks(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        # Configs saved before the keys were removed hold their old defaults: drop those.
        data = {k: v for k, v in data.items() if LEGACY_RANGE.get(k, object()) != v}
        moved = [key for key in LEGACY_RANGE if key in data]
        if moved:
            raise ValueError(
                f"data.{moved[0]} is not a data setting: the depth range is task.min_depth / "
                f"task.max_depth (used by the head, losses and metrics); move {', '.join(moved)} "
                "to the task section"
            )
        return data


def _layout_classes(data: Any, target: str, info: ValidationInfo) -> Any:
    """``data`` with the layout's default ``classes`` (and void value) where it sets none; only in
    the second validation pass, which can ask the layout."""
    refs = references(info)
    if refs is None or not isinstance(data, dict):
        return data
    name = data.get("format", "synthetic")
    refs.check_format(name, target)
    data = dict(data)
    if not data.get("classes"):
        root = Path(data.get("root", "datasets/synthetic"))
        classes = refs.layout_classes(name, target, root, data.get("train_split", "train"))
        if not classes:
            raise ValueError(
                f"format '{name}' needs data.classes: the class names, index = label value"
            )
        data["classes"] = classes
    if target == "mask":
        data.setdefault("void_value", refs.layout_void(name, target))
    return data


class SegmentationDataConfig(DenseDataConfig):
    """The ``data`` section of a segmentation config.

    The keys of :class:`DenseDataConfig` (``format``: a layout with mask targets) and these.
    ``classes`` and ``void_value`` default to the layout's own (synthetic: its six mask classes;
    camvid: SegNet's 11, void 11; voc: the 21 VOC classes, void 255; folder: classes required,
    void 255). The resolved values are written to the run's config and checkpoint, so a
    checkpoint alone rebuilds its model.

    Attributes:
        classes: Class names, index = label value in the masks.
        void_value: Label value of void pixels on disk (``None``: none).
        ignore_index: Value void pixels get in batches; losses and metrics skip it.
    """

    target_kind: ClassVar[str] = "mask"
    cache_keys: ClassVar[tuple[str, ...]] = (
        *DenseDataConfig.cache_keys,
        "classes",
        "void_value",
        "ignore_index",
    )

    classes: list[str] = Field(default_factory=list)
    void_value: int | None = None
    ignore_index: int = 255

    @model_validator(mode="before")
    @classmethod
    def _layout_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        return _layout_classes(data, cls.target_kind, info)

    @model_validator(mode="after")
    def _check(self) -> SegmentationDataConfig:
        if 0 <= self.ignore_index < len(self.classes):
            raise ValueError(
                f"ignore_index {self.ignore_index} is a class id (0..{len(self.classes) - 1}); "
                "pick a value outside"
            )
        return self


class ClassificationDataConfig(ImageDataConfig):
    """The ``data`` section of a classification config.

    The keys of :class:`DataConfig` (``format``: a layout with label targets; ``limit_train`` /
    ``limit_val`` keep samples spread over the classes) and these. ``classes`` defaults to the
    layout's own (synthetic: box, sphere, cylinder; imagefolder: the sorted folder names of the
    training split). The resolved list is written to the run's config and checkpoint, so a
    checkpoint alone rebuilds its model.

    Attributes:
        classes: Class names, index = label.
        image_size: (H, W) every image is resized to.
        augment: Training augmentations.
    """

    target_kind: ClassVar[str] = "label"
    task_keys: ClassVar[tuple[str, ...]] = ("classes",)

    classes: list[str] = Field(default_factory=list)
    image_size: ImageSize = (96, 128)
    batch_size: int = Field(16, ge=1)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)

    @model_validator(mode="before")
    @classmethod
    def _layout_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        return _layout_classes(data, cls.target_kind, info)

    @field_validator("classes")
    @classmethod
    def _two_or_more(cls, classes: list[str], info: ValidationInfo) -> list[str]:
        if not classes and references(info) is None:
            return classes  # the layout's defaults come in the second pass
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ValueError(f"classes must hold at least two distinct names, got {classes}")
        return classes


class PairedDataConfig(DataConfig):
    """The ``data`` section of GAN mode.

    The keys of :class:`DataConfig` (``format``: a layout with pair targets, ``synthetic`` or
    ``folder``; ``args`` are layout options) and these.

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
        eval_size: Where a depth target's metrics are taken in validation and test: ``native``
            (default) at each depth file's own size, the generated depth upsampled bilinearly
            to it (as the depth task does), or ``input`` at ``image_size``. Image metrics (L1,
            PSNR, SSIM) and the losses are at ``image_size`` either way.
    """

    target_kind: ClassVar[str] = "pair"
    task_keys: ClassVar[tuple[str, ...]] = ("condition", "target")

    condition: Literal["none", "rgb", "depth", "mask"] = "depth"
    target: Literal["rgb", "depth"] = "rgb"
    depth_scale: float = Field(1000.0, gt=0)
    min_depth: float = Field(1e-3, gt=0)
    max_depth: float = Field(10.0, gt=0)
    image_size: ImageSize = (64, 64)
    hflip: bool = True
    eval_size: Literal["native", "input"] = "native"

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
