"""Albumentations pipelines that move an image and its dense target together.

The dense target (a depth map in metres or a segmentation mask of class ids) is passed as the
``mask`` target. Albumentations 2.0 resizes and crops ``mask`` with ``mask_interpolation``,
which defaults to ``cv2.INTER_NEAREST`` in ``Resize`` and ``RandomResizedCrop``; we set it
explicitly, so a resized target only ever holds values of the original (no depth is invented
across invalid pixels or object edges, no fractional class ids). Photometric transforms
(colour jitter, normalisation) are ``ImageOnlyTransform`` and leave the target untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import albumentations as A
import cv2
import numpy as np
import torch
from albumentations.pytorch import ToTensorV2

from densepred.config.data import AugmentConfig, NormalizeConfig
from densepred.core.errors import ConfigError


def _geometry(
    train: bool, image_size: tuple[int, int] | None, crop_scale: tuple[float, float]
) -> list[A.BasicTransform]:
    """Resize (and in training optionally random-crop) to ``image_size``; nearest for the target."""
    if image_size is None:
        if train and crop_scale != (1.0, 1.0):
            raise ConfigError("a random crop (crop_scale below 1) needs a fixed image_size (H, W).")
        return []
    height, width = image_size
    if train and crop_scale != (1.0, 1.0):
        aspect = width / height
        return [
            A.RandomResizedCrop(
                size=(height, width),
                scale=crop_scale,
                ratio=(aspect, aspect),
                interpolation=cv2.INTER_AREA,
                mask_interpolation=cv2.INTER_NEAREST,
                p=1.0,
            )
        ]
    return [
        A.Resize(height, width, interpolation=cv2.INTER_AREA, mask_interpolation=cv2.INTER_NEAREST)
    ]


def build_dense_transform(
    train: bool,
    image_size: tuple[int, int] | None = None,
    hflip: bool = True,
    color_jitter: float = 0.2,
    crop_scale: tuple[float, float] = (1.0, 1.0),
    normalize: NormalizeConfig | None = None,
) -> A.Compose:
    """Pipeline for ``transform(image=rgb_uint8, mask=target)``.

    Output: ``image`` float32 tensor 3xHxW normalised with ``normalize`` (default ImageNet's
    mean/std); ``mask`` (when given)
    a tensor HxW of the target's dtype, resized/cropped with nearest-neighbour interpolation.

    Args:
        train: Add the random augmentations (flip, crop, colour jitter).
        image_size: (H, W) fed to the network; ``None`` keeps the native size.
        hflip: Random horizontal flip (training).
        color_jitter: Strength of brightness/contrast/saturation jitter (hue gets a quarter of it);
            0 disables it (training).
        crop_scale: Area fraction range of a random crop, resized back to ``image_size`` with the
            same aspect (training). ``(1.0, 1.0)`` disables it. For metric depth a zoom changes the
            apparent distance, so keep it off unless the loss is scale-invariant.
        normalize: Mean and std of the normalisation (``None``: ImageNet's).
    """
    steps = _geometry(train, image_size, tuple(crop_scale))
    if train and hflip:
        steps.append(A.HorizontalFlip(p=0.5))
    if train and color_jitter > 0:
        steps.append(
            A.ColorJitter(
                brightness=color_jitter,
                contrast=color_jitter,
                saturation=color_jitter,
                hue=color_jitter / 4,
                p=0.8,
            )
        )
    norm = normalize or NormalizeConfig()
    steps += [A.Normalize(mean=norm.mean, std=norm.std), ToTensorV2()]
    return A.Compose(steps)


def augment_transform(
    augment: AugmentConfig,
    train: bool,
    image_size: tuple[int, int] | None,
    normalize: NormalizeConfig | None = None,
) -> Callable[..., dict[str, Any]]:
    """A split's pipeline: ``augment``'s augmentations when ``train`` (and enabled), else resize +
    normalise.

    Args:
        augment: The ``data.augment`` section.
        train: Whether the split is the training split.
        image_size: (H, W) fed to the network, ``None`` = native size.
        normalize: Mean and std of the normalisation (``None``: ImageNet's).
    """
    return build_dense_transform(
        train=train and augment.enabled,
        image_size=image_size,
        hflip=augment.hflip,
        color_jitter=augment.color_jitter,
        crop_scale=augment.crop_scale,
        normalize=normalize,
    )


def apply_dense_transform(
    transform: Callable[..., dict[str, Any]],
    image: np.ndarray,
    target: np.ndarray,
    native_target: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply a dense pipeline to an image and its target.

    Args:
        transform: Pipeline called as ``transform(image=..., mask=...)``.
        image: HxWx3 uint8 RGB.
        target: HxW depth map or class-id mask of the image's size.
        native_target: Transform the image only and return the target untouched at its own
            size (native-resolution evaluation; the pipeline must then be geometric-deterministic,
            i.e. an evaluation pipeline).

    Returns:
        The image tensor 3xhxw and the target tensor (HxW when ``native_target``, else hxw).
    """
    if native_target:
        return transform(image=image)["image"], torch.from_numpy(np.ascontiguousarray(target))
    out = transform(image=image, mask=target)
    return out["image"], out["mask"]


def resize_pair(
    image: np.ndarray,
    target: np.ndarray | None,
    size: tuple[int, int] | None,
    resize_target: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Resize an image (area) and its dense target (nearest) to ``size`` as arrays, with the
    resize every evaluation pipeline starts with; what a prepared cache stores.

    Args:
        image: HxWx3 uint8 RGB.
        target: HxW depth map or class-id mask of the image's size, or ``None``.
        size: (H, W) to resize to; ``None`` keeps both as they are.
        resize_target: Resize the target too; ``False`` keeps it at its own size (native-size
            evaluation).
    """
    resize = A.Compose(_geometry(False, size, (1.0, 1.0)))
    if target is None or not resize_target:
        return resize(image=image)["image"], target
    out = resize(image=image, mask=target)
    return out["image"], out["mask"]


def build_pair_transform(
    kinds: dict[str, str], image_size: tuple[int, int], hflip: bool
) -> Callable[..., dict[str, Any]]:
    """Resize (and flip) several arrays of one pair together: ``transform(**{key: array})``.

    Albumentations moves every array with the same geometry (``additional_targets``): ``rgb``
    arrays are image targets (area interpolation), ``depth`` and ``mask`` arrays mask targets
    (nearest neighbour, so no depth or class id is invented). No normalisation is applied.

    Args:
        kinds: Array key -> kind (``rgb``, ``depth`` or ``mask``), e.g. ``{"target": "rgb"}``.
        image_size: (H, W) of the outputs.
        hflip: Random horizontal flip of all arrays together.
    """
    geometry = _geometry(False, image_size, (1.0, 1.0))
    if hflip:
        geometry.append(A.HorizontalFlip(p=0.5))
    targets = {key: "image" if kind == "rgb" else "mask" for key, kind in kinds.items()}
    compose = A.Compose(geometry, additional_targets=targets)

    def transform(**arrays: np.ndarray) -> dict[str, np.ndarray]:
        height, width = next(iter(arrays.values())).shape[:2]
        # Albumentations needs an ``image``; a 1x1-channel placeholder when no array is one.
        out = compose(image=np.zeros((height, width, 1), np.uint8), **arrays)
        return {key: out[key] for key in arrays}

    return transform
