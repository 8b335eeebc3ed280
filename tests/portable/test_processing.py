"""Pictures -> network inputs -> answers: the same numbers as the training pipelines."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from densepred.config.data import NormalizeConfig
from densepred.core.errors import DataError, DensepredError
from densepred.data.palette import colorize_mask, mask_colors
from densepred.data.transforms import build_dense_transform, build_pair_transform
from densepred.portable.processing import (
    depth_to_unit,
    encode_array,
    latent_noise,
    postprocess,
    preprocess,
    unit_to_depth,
)
from densepred.portable.spec import InputSpec, OutputSpec

RNG = np.random.default_rng(0)
MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)


@pytest.mark.parametrize("size", [(32, 48), None])
def test_images_are_prepared_as_in_validation(size: tuple[int, int] | None) -> None:
    rgb = RNG.integers(0, 256, (45, 61, 3), dtype=np.uint8)
    spec = InputSpec(kind="image", channels=3, size=size, mean=MEAN, std=STD)
    validation = build_dense_transform(
        train=False, image_size=size, normalize=NormalizeConfig(mean=MEAN, std=STD)
    )
    expected = validation(image=rgb)["image"]
    assert torch.allclose(preprocess(rgb, spec)[0], expected, atol=1e-5)


@pytest.mark.parametrize("kind", ["rgb", "depth", "mask"])
def test_gan_conditions_are_encoded_as_in_training(kind: str) -> None:
    arrays = {
        "rgb": RNG.integers(0, 256, (40, 50, 3), dtype=np.uint8),
        "depth": RNG.uniform(0, 12, (40, 50)).astype(np.float32),
        "mask": RNG.integers(0, 5, (40, 50)).astype(np.uint8),
    }
    array = arrays[kind]
    palette = mask_colors().tolist() if kind == "mask" else None
    spec = InputSpec(
        kind=kind,
        channels=1 if kind == "depth" else 3,
        size=(16, 24),
        max_depth=10.0,
        palette=palette,
    )
    resized = build_pair_transform({"array": kind}, (16, 24), hflip=False)(array=array)["array"]
    expected = encode_array(resized, kind, 10.0, mask_colors() if kind == "mask" else None)
    assert torch.allclose(preprocess([array], spec)[0], expected, atol=1e-6)


def test_mask_colours_are_the_palette_with_void() -> None:
    mask = np.array([[0, 1, 255], [3, 20, 7]], np.uint8)
    assert np.array_equal(mask_colors()[mask], colorize_mask(mask))


def test_depth_unit_round_trip_and_noise() -> None:
    depth = np.array([[0.0, 2.5, 10.0, 15.0]], np.float32)
    unit = depth_to_unit(depth, 10.0)
    assert np.allclose(unit, [[-1, -0.5, 1, 1]])
    assert np.allclose(unit_to_depth(torch.from_numpy(unit), 10.0).numpy(), [[0, 2.5, 10, 10]])
    assert torch.equal(latent_noise(3, 8, seed=4), latent_noise(3, 8, seed=4))
    assert latent_noise(3, 8).shape == (3, 8)


def test_mixed_sizes_need_a_fixed_input_size() -> None:
    images = [RNG.integers(0, 256, (20 + i, 30, 3), dtype=np.uint8) for i in range(2)]
    fixed = InputSpec(kind="image", channels=3, size=(16, 16), mean=MEAN, std=STD)
    assert preprocess(images, fixed).shape == (2, 3, 16, 16)
    native = fixed.model_copy(update={"size": None})
    with pytest.raises(DataError, match="several sizes"):
        preprocess(images, native)
    with pytest.raises(DataError, match="HxWx3 uint8 RGB"):
        preprocess(np.zeros((4, 4), np.float32), fixed)
    with pytest.raises(DensepredError, match="latent_noise"):
        preprocess(images, InputSpec(kind="latent", channels=1, latent_dim=4))


def test_answers_at_each_pictures_size() -> None:
    logits = torch.randn(2, 3, 8, 10)
    seg = OutputSpec(kind="segmentation", channels=3, mode="multiclass")
    masks = postprocess(logits, seg, [(16, 20), (5, 7)])
    assert [m.shape for m in masks] == [(16, 20), (5, 7)] and masks[0].dtype == np.uint8
    probs = postprocess(logits, seg, [(16, 20), None], probabilities=True)
    assert probs[0].shape == (3, 16, 20) and np.allclose(probs[0].sum(0), 1, atol=1e-5)
    assert np.array_equal(probs[0].argmax(0), masks[0])
    binary = postprocess(
        torch.randn(1, 1, 4, 4), OutputSpec(kind="segmentation", channels=1, mode="binary")
    )
    assert set(np.unique(binary[0])) <= {0, 1}
    depth = postprocess(torch.rand(1, 1, 8, 10) + 1, OutputSpec(kind="depth", channels=1), [(4, 5)])
    assert depth[0].shape == (4, 5) and depth[0].dtype == np.float32
    cls = postprocess(torch.randn(2, 4), OutputSpec(kind="classification", channels=4))
    assert np.allclose([c.sum() for c in cls], 1, atol=1e-6)
    image = postprocess(torch.zeros(1, 3, 4, 4), OutputSpec(kind="image", channels=3))
    assert (
        image[0].shape == (4, 4, 3) and image[0].dtype == np.uint8 and int(image[0][0, 0, 0]) == 128
    )
