"""The wrappers put around a network before export (no converter needed)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from densepred.config.data import NormalizeConfig
from densepred.core.errors import ConfigError
from densepred.export.wrappers import (
    DEPTH_UNITS,
    MAI_INPUT_SIZE,
    MAI_RESIZES,
    ChannelsLast,
    MaiDepth,
    area_resize,
    pool_factor,
)
from densepred.portable.processing import normalize_image


@pytest.mark.parametrize("resize", list(MAI_RESIZES))
@pytest.mark.parametrize(
    "normalize",
    [None, NormalizeConfig(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))],
    ids=["imagenet", "half"],
)
def test_mai_contract_shapes_units_and_normalisation(build_task, normalize, resize) -> None:
    """1x480x640x3 RGB 0..255 in, 1x480x640x1 depth out; the run's normalisation and the chosen
    resize."""
    model = build_task([]).model
    rgb = np.random.default_rng(0).integers(0, 256, (*MAI_INPUT_SIZE, 3), dtype=np.uint8)
    x = torch.from_numpy(rgb).float()[None]  # 1 x 480 x 640 x 3
    with torch.inference_mode():
        mm = MaiDepth(model, (64, 80), normalize=normalize, resize=resize).eval()(x)
        metres = MaiDepth(model, (64, 80), units="m", normalize=normalize, resize=resize)
        metres = metres.eval()(x)
        # the same network on the training pipeline's normalisation, then the named resize
        norm = normalize or NormalizeConfig()
        normalised = normalize_image(rgb, norm.mean, norm.std)[None]  # 1 x 3 x 480 x 640
        small = MAI_RESIZES[resize](normalised, (64, 80))
        reference = F.interpolate(
            model(small), size=MAI_INPUT_SIZE, mode="bilinear", align_corners=False
        )
    assert mm.shape == (1, *MAI_INPUT_SIZE, 1) and mm.dtype == torch.float32
    torch.testing.assert_close(mm, metres * DEPTH_UNITS["mm"])
    torch.testing.assert_close(metres[..., 0], reference[:, 0], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("side", "target", "factor"),
    [(480, 128, 3), (640, 160, 4), (480, 64, 6), (375, 128, 1), (64, 128, 1)],
)
def test_pool_factor_divides_the_side_without_passing_the_ratio(side, target, factor) -> None:
    assert pool_factor(side, target) == factor


@pytest.mark.parametrize(
    ("src", "dst"),
    [((480, 640), (128, 160)), ((480, 640), (64, 80)), ((375, 500), (96, 128))],
    ids=["mai-main-job", "mai-small", "odd"],
)
def test_area_resize_follows_inter_area_where_bilinear_aliases(src, dst) -> None:
    """On noise (the worst case for aliasing) the in-graph shrink stays at most half as far from
    the training pipeline's cv2.INTER_AREA as plain bilinear resizing."""
    rgb = np.random.default_rng(0).integers(0, 256, (*src, 3)).astype(np.float32)
    reference = cv2.resize(rgb, dst[::-1], interpolation=cv2.INTER_AREA)
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None]
    ours = area_resize(x, dst)
    bilinear = F.interpolate(x, size=dst, mode="bilinear", align_corners=False)
    assert ours.shape == (1, 3, *dst)

    def distance(y: torch.Tensor) -> float:
        return float(np.abs(y[0].permute(1, 2, 0).numpy() - reference).mean())

    assert distance(ours) < 0.5 * distance(bilinear)


def test_area_resize_enlarges_bilinearly() -> None:
    x = torch.rand(1, 3, 32, 40)
    expected = F.interpolate(x, size=(64, 80), mode="bilinear", align_corners=False)
    torch.testing.assert_close(area_resize(x, (64, 80)), expected)


def test_mai_rejects_unknown_units_and_resizes(build_task) -> None:
    with pytest.raises(ConfigError, match="depth unit 'inch'"):
        MaiDepth(build_task([]).model, (64, 80), units="inch")
    with pytest.raises(ConfigError, match="MAI input resize 'cubic'"):
        MaiDepth(build_task([]).model, (64, 80), resize="cubic")


def test_channels_last_permutes_input_and_dense_output(build_task) -> None:
    model = build_task([]).model
    x = torch.randn(1, 3, 64, 80)
    with torch.inference_mode():
        y = ChannelsLast(model).eval()(x.permute(0, 2, 3, 1))
        torch.testing.assert_close(y, model(x).permute(0, 2, 3, 1))
