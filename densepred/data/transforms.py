"""Albumentations pipelines that move an image and its dense target together.

The dense target (a depth map in metres or a segmentation mask of class ids) is passed as the
``mask`` target. Albumentations 2.0 resizes and crops ``mask`` with ``mask_interpolation``,
which defaults to ``cv2.INTER_NEAREST`` in ``Resize`` and ``RandomResizedCrop``; we set it
explicitly, so a resized target only ever holds values of the original (no depth is invented
across invalid pixels or object edges, no fractional class ids). Photometric transforms
(colour jitter, normalisation) are ``ImageOnlyTransform`` and leave the target untouched.
"""

from __future__ import annotations

import albumentations as A
import cv2
import numpy as np
import torch
from albumentations.pytorch import ToTensorV2

from densepred.errors import ConfigError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


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
) -> A.Compose:
    """Pipeline for ``transform(image=rgb_uint8, mask=target)``.

    Output: ``image`` float32 tensor 3xHxW normalised with ImageNet mean/std; ``mask`` (when given)
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
    steps += [A.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD), ToTensorV2()]
    return A.Compose(steps)


def prepare_image(rgb: np.ndarray, image_size: tuple[int, int] | None = None) -> torch.Tensor:
    """Turn one HxWx3 uint8 RGB image into a normalised 1x3xHxW float32 batch for inference.

    Args:
        rgb: HxWx3 uint8 RGB image (e.g. from :func:`densepred.data.io.read_image`).
        image_size: (H, W) to resize to, or ``None`` to keep the native size.
    """
    transform = build_dense_transform(train=False, image_size=image_size)
    return transform(image=rgb)["image"].unsqueeze(0)
