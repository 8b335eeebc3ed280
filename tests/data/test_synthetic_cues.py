"""Generator v4's transfer cues: depth range, no single-pixel shortcut, realism switches.

The statistic tests read a small set generated into ``tmp_path`` (24 train images at 48x64).
Bounds, measured on seeds 0-2 of such sets: v4's pooled |Spearman| of a pixel's brightness or
HSV saturation against its log depth is 0.03-0.24 (brightness) and 0.12-0.30 (saturation), the
R^2 of a cubic fit 0.003-0.10; the 7 real dev photos (../shared/real_rgbd_dev) give 0.13 and
0.15 (R^2 0.09, 0.10); v3's haze gave brightness 0.80-0.85 (R^2 0.64-0.72). The bound, |rho| <
0.35 and R^2 < 0.15, sits above v4's spread and far below v3's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from densepred.core.errors import ConfigError
from densepred.data.io import read_depth, read_image
from densepred.data.synthetic import MAX_DEPTH, ensure_synthetic, render_sample
from densepred.data.synthetic.dataset import parse_realism
from densepred.data.synthetic.realism import Realism
from densepred.data.synthetic.renderer import MIN_DEPTH

SIZE = (48, 64)
MAX_SPEARMAN, MAX_R2 = 0.35, 0.15

STATISTICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "brightness": lambda rgb: rgb.astype(np.float64).mean(axis=2),
    "saturation": lambda rgb: cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[..., 1].astype(np.float64),
}


def _rank(x: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(x, kind="stable"), kind="stable").astype(np.float64)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (ties broken by order, fine for thousands of pixels)."""
    return float(np.corrcoef(_rank(x), _rank(y))[0, 1])


def cubic_r2(x: np.ndarray, y: np.ndarray) -> float:
    """R^2 of the best cubic polynomial predicting ``y`` from ``x``."""
    coef = np.polyfit(x, y, 3)
    return float(1 - np.var(y - np.polyval(coef, x)) / np.var(y))


def pooled(pairs: list[tuple[np.ndarray, np.ndarray]], statistic: str) -> tuple[float, float]:
    """(Spearman, cubic R^2) of a pixel statistic against log depth, over all valid pixels."""
    fn = STATISTICS[statistic]
    x = np.concatenate([fn(rgb)[depth > 0] for rgb, depth in pairs])
    y = np.concatenate([np.log(depth[depth > 0]) for _, depth in pairs])
    return spearman(x, y), cubic_r2(x, y)


@pytest.fixture(scope="module")
def v4_pairs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[np.ndarray, np.ndarray]]:
    """The 24 training pairs of a v4 set generated on disk (PNG round trip included)."""
    folder = ensure_synthetic(tmp_path_factory.mktemp("v4"), 24, 1, SIZE, seed=0, workers=1)
    names = sorted((folder / "train" / "rgb").iterdir())
    return [(read_image(p), read_depth(folder / "train" / "depth" / p.name, 1000.0)) for p in names]


@pytest.mark.parametrize("statistic", sorted(STATISTICS))
def test_no_pixel_statistic_predicts_depth(v4_pairs: list, statistic: str) -> None:
    rho, r2 = pooled(v4_pairs, statistic)
    assert abs(rho) < MAX_SPEARMAN and r2 < MAX_R2, (statistic, rho, r2)


def test_the_bound_catches_a_haze_shortcut() -> None:
    """With v3's cues (dense grey haze, one light, ideal camera) brightness reads out depth."""
    v3_like = Realism(*[False] * len(Realism.names()))
    pairs = [
        (v.rgb, v.depth)
        for v, _ in (render_sample(0, "train", i, SIZE, realism=v3_like) for i in range(24))
    ]
    rho, r2 = pooled(pairs, "brightness")
    assert rho > 2 * MAX_SPEARMAN and r2 > 3 * MAX_R2


def test_depth_spans_the_sensor_range(v4_pairs: list) -> None:
    """Valid depth lies in [0.3, 10] m and the set uses the range: close-ups and far walls."""
    valid = np.concatenate([depth[depth > 0] for _, depth in v4_pairs])
    assert valid.min() >= MIN_DEPTH - 1e-3 and valid.max() <= MAX_DEPTH
    assert np.quantile(valid, 0.01) < 1.2 and np.quantile(valid, 0.99) > 5.0
    invalid = np.mean([(depth == 0).mean() for _, depth in v4_pairs])
    assert invalid < 0.1  # windows, holes, out of range: a small minority


def test_render_is_deterministic_for_every_switch_setting() -> None:
    for realism in (Realism(), Realism(camera=False, lighting=False)):
        first, again = (render_sample(3, "val", 5, SIZE, realism=realism)[0] for _ in range(2))
        assert np.array_equal(first.rgb, again.rgb) and np.array_equal(first.depth, again.depth)


def test_switches_change_the_folder_and_are_recorded(tmp_path: Path) -> None:
    folder = ensure_synthetic(tmp_path, 1, 1, SIZE, workers=1, realism=Realism(camera=False))
    assert folder.name.endswith("_ratm-str-tex-lig")
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["generator_version"] == 4 and meta["realism"]["camera"] is False


@pytest.mark.parametrize(
    ("switches", "message"),
    [({"haze": False}, "unknown switches"), ({"camera": "no"}, "must be true or false")],
)
def test_bad_realism_switches_are_config_errors(switches: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_realism(switches)
