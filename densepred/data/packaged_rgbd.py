"""Real RGB-D pairs that a package from the package index ships, written as a dev folder.

Only for evaluation (:mod:`densepred.app.realdev`). One source is known so far: scikit-image's
wheel ships the Middlebury 2014 "Motorcycle" stereo scene (Scharstein et al., GCPR 2014; in
scikit-image since 0.13, under its BSD-3-Clause licence; the Middlebury authors ask users to cite
the paper) as ``skimage/data/motorcycle_left.png`` with a ground-truth disparity map
``motorcycle_disp.npz``, both at a quarter of the original size (500x741). Depth follows from the
calibration scikit-image documents for that size: ``z = f * B / (disparity + doffs)`` with
``f = 994.978`` px, ``B = 0.193001`` m and ``doffs = 31.086`` px; unknown disparities (infinite)
are invalid (0).

    python datasets/prepare_real_dev.py                 # -> datasets/real_dev/val/{rgb,depth}/
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from densepred.core.errors import DataError
from densepred.data.io import read_image, write_depth, write_image

MOTORCYCLE = {"focal": 994.978, "baseline": 0.193001, "doffs": 31.086}
"""scikit-image's calibration of its quarter-size Middlebury 2014 Motorcycle pair."""

NAME = "middlebury_motorcycle"


def skimage_data() -> Path:
    """scikit-image's data folder, found without importing the package.

    Raises:
        DataError: scikit-image is not installed.
    """
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "the packaged real RGB-D pair comes with scikit-image; install it with "
            "`pip install scikit-image` (or `pip install -e '.[realdev]'`)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def disparity_to_depth(
    disparity: np.ndarray, focal: float, baseline: float, doffs: float
) -> np.ndarray:
    """Metric z-depth of a Middlebury disparity map; non-finite or non-positive depth -> 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = focal * baseline / (disparity.astype(np.float64) + doffs)
    return np.where(np.isfinite(depth) & (depth > 0), depth, 0.0).astype(np.float32)


def write_packaged_rgbd(root: str | Path, split: str = "val") -> list[Path]:
    """Write the packaged pairs into ``root/split/{rgb,depth}/`` (MAI layout, depth uint16 mm).

    Returns:
        The written image paths.
    """
    data = skimage_data()
    left, disp = data / "motorcycle_left.png", data / "motorcycle_disp.npz"
    if not left.is_file() or not disp.is_file():
        raise DataError(
            f"scikit-image at '{data.parent}' lacks motorcycle_left.png or motorcycle_disp.npz; "
            "a full wheel from the package index ships both."
        )
    with np.load(disp) as npz:
        depth = disparity_to_depth(npz["arr_0"], **MOTORCYCLE)
    folder = Path(root) / split
    rgb_path = folder / "rgb" / f"{NAME}.png"
    write_image(rgb_path, read_image(left))
    write_depth(folder / "depth" / f"{NAME}.png", depth, 1000.0)
    return [rgb_path]
