"""Albumentations pipelines: nearest-neighbour targets, joint geometry, image-only photometrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from densepred.config.data import IMAGENET_MEAN, IMAGENET_STD
from densepred.core.errors import ConfigError
from densepred.data.transforms import build_dense_transform

RNG = np.random.default_rng(0)


def _depth_of_zeros_and_fives(shape: tuple[int, int]) -> np.ndarray:
    return np.where(RNG.uniform(size=shape) < 0.5, 0.0, 5.0).astype(np.float32)


@pytest.mark.parametrize("train", [False, True])
@pytest.mark.parametrize("image_size", [(8, 10), (37, 45), (64, 80)])
def test_resized_target_never_invents_values(train: bool, image_size: tuple[int, int]) -> None:
    image = RNG.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    transform = build_dense_transform(
        train, image_size, crop_scale=(0.5, 1.0) if train else (1.0, 1.0)
    )
    for _ in range(5):
        out = transform(image=image, mask=_depth_of_zeros_and_fives((30, 40)))
        assert out["image"].shape == (3, *image_size) and out["image"].dtype == torch.float32
        assert out["mask"].shape == image_size and out["mask"].dtype == torch.float32
        assert set(torch.unique(out["mask"]).tolist()) <= {0.0, 5.0}


def test_class_masks_keep_integer_ids() -> None:
    mask = RNG.integers(0, 6, (30, 40), dtype=np.uint8)
    out = build_dense_transform(True, (17, 23))(image=np.zeros((30, 40, 3), np.uint8), mask=mask)
    assert out["mask"].dtype == torch.uint8 and set(torch.unique(out["mask"]).tolist()) <= set(
        range(6)
    )


def test_flip_moves_image_and_target_together() -> None:
    ramp = np.tile(np.arange(20, dtype=np.uint8) * 10, (8, 1))
    image = np.repeat(ramp[..., None], 3, axis=2)
    transform = build_dense_transform(True, None, hflip=True, color_jitter=0.0)
    flips = 0
    for _ in range(20):
        out = transform(image=image, mask=ramp.astype(np.float32))
        grey = out["image"][0] * IMAGENET_STD[0] + IMAGENET_MEAN[0]
        np.testing.assert_allclose(grey.numpy() * 255, out["mask"].numpy(), atol=1e-3)
        flips += int(out["mask"][0, 0] > out["mask"][0, -1])
    assert 0 < flips < 20


def test_colour_jitter_changes_only_the_image() -> None:
    image = RNG.integers(0, 256, (16, 20, 3), dtype=np.uint8)
    depth = RNG.uniform(0.5, 5.0, (16, 20)).astype(np.float32)
    transform = build_dense_transform(True, None, hflip=False, color_jitter=0.5)
    plain = build_dense_transform(False)(image=image)["image"]
    changed = 0
    for _ in range(10):
        out = transform(image=image, mask=depth)
        np.testing.assert_array_equal(out["mask"].numpy(), depth)
        changed += int(not torch.allclose(out["image"], plain))
    assert changed > 0


def test_eval_pipeline_normalises_with_imagenet_stats() -> None:
    image = np.full((4, 6, 3), 255, np.uint8)
    out = build_dense_transform(False)(image=image)["image"]
    expected = (1.0 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    np.testing.assert_allclose(out[:, 0, 0].numpy(), expected, rtol=1e-5)


def test_random_crop_needs_a_size() -> None:
    with pytest.raises(ConfigError, match="image_size"):
        build_dense_transform(True, None, crop_scale=(0.5, 1.0))
