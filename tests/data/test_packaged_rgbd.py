"""The packaged real RGB-D pair: disparity to metric depth, the written dev folder, a clear error."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from densepred.app.realdev import list_photos
from densepred.core.errors import DataError
from densepred.data import packaged_rgbd
from densepred.data.packaged_rgbd import disparity_to_depth, write_packaged_rgbd


def test_disparity_to_depth_follows_the_stereo_formula() -> None:
    disparity = np.array([[100.0, np.inf], [-50.0, 0.0]])
    depth = disparity_to_depth(disparity, focal=1000.0, baseline=0.2, doffs=25.0)
    assert depth[0, 0] == pytest.approx(1000 * 0.2 / 125)
    assert depth[0, 1] == 0  # unknown disparity
    assert depth[1, 0] == 0  # behind the camera
    assert depth[1, 1] == pytest.approx(8.0)


@pytest.mark.skipif(importlib.util.find_spec("skimage") is None, reason="needs scikit-image")
def test_writes_the_motorcycle_as_a_dev_scene(tmp_path: Path) -> None:
    (rgb,) = write_packaged_rgbd(tmp_path)
    (photo,) = list_photos([tmp_path])
    image, depth = photo.load()
    assert photo.rgb == rgb and photo.scene == "middlebury_motorcycle"
    assert image.shape == (500, 741, 3) and depth.shape == (500, 741)
    valid = depth[depth > 0]
    assert 0.85 < valid.size / depth.size < 0.98
    assert 2.0 < np.median(valid) < 3.5 and valid.max() < 6.0


def test_missing_scikit_image_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(packaged_rgbd.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataError, match="pip install scikit-image"):
        write_packaged_rgbd(tmp_path)
