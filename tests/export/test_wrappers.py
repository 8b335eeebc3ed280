"""The wrappers put around a network before export (no converter needed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from densepred.data.transforms import NormalizeConfig, prepare_image
from densepred.errors import ConfigError
from densepred.export.wrappers import DEPTH_UNITS, MAI_INPUT_SIZE, ChannelsLast, MaiDepth


@pytest.mark.parametrize(
    "normalize",
    [None, NormalizeConfig(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))],
    ids=["imagenet", "half"],
)
def test_mai_contract_shapes_units_and_normalisation(build_task, normalize) -> None:
    """1x480x640x3 RGB 0..255 in, 1x480x640x1 depth out; the run's normalisation and the resize
    as in training."""
    model = build_task([]).model
    rgb = np.random.default_rng(0).integers(0, 256, (*MAI_INPUT_SIZE, 3), dtype=np.uint8)
    x = torch.from_numpy(rgb).float()[None]  # 1 x 480 x 640 x 3
    with torch.inference_mode():
        mm = MaiDepth(model, (64, 80), normalize=normalize).eval()(x)
        metres = MaiDepth(model, (64, 80), units="m", normalize=normalize).eval()(x)
        # the same network on the training pipeline's normalisation, resized bilinearly
        normalised = prepare_image(rgb, normalize=normalize)  # 1 x 3 x 480 x 640
        small = F.interpolate(normalised, size=(64, 80), mode="bilinear", align_corners=False)
        reference = F.interpolate(
            model(small), size=MAI_INPUT_SIZE, mode="bilinear", align_corners=False
        )
    assert mm.shape == (1, *MAI_INPUT_SIZE, 1) and mm.dtype == torch.float32
    torch.testing.assert_close(mm, metres * DEPTH_UNITS["mm"])
    torch.testing.assert_close(metres[..., 0], reference[:, 0], rtol=1e-4, atol=1e-4)


def test_mai_rejects_unknown_units(build_task) -> None:
    with pytest.raises(ConfigError, match="depth unit 'inch'"):
        MaiDepth(build_task([]).model, (64, 80), units="inch")


def test_channels_last_permutes_input_and_dense_output(build_task) -> None:
    model = build_task([]).model
    x = torch.randn(1, 3, 64, 80)
    with torch.inference_mode():
        y = ChannelsLast(model).eval()(x.permute(0, 2, 3, 1))
        torch.testing.assert_close(y, model(x).permute(0, 2, 3, 1))
