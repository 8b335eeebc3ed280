"""Real RGB-D photos for checking depth models, scored per image and per scene.

A dev folder has the MAI layout ``ROOT/SPLIT/rgb/NAME.png`` + ``ROOT/SPLIT/depth/NAME.png``
(uint16 mm, 0 = invalid). Frames of one scene share a name up to a trailing ``_<number>``
(``redwood_livingroom_0`` .. ``_4`` are scene ``redwood_livingroom``), so a scene with many frames
counts once. Every score is beside the constant at each image's true mean log depth
(:func:`oracle_constant`): it knows the scale a monocular model must guess, and its si-RMSE is the
per-image spread of log depth, what a model that learned no depth structure scores.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from densepred.app.real_photos import oracle_constant, score
from densepred.core.errors import DataError
from densepred.data.io import read_depth, read_image

_FRAME = re.compile(r"_\d+$")


@dataclass(frozen=True)
class Photo:
    """One real RGB-D pair.

    Attributes:
        name: File stem.
        scene: Scene name (the stem without a trailing ``_<number>``).
        rgb: Image path.
        depth: Depth path (uint16 millimetres, 0 = invalid).
    """

    name: str
    scene: str
    rgb: Path
    depth: Path

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """The HxWx3 uint8 image and HxW float32 depth in metres (0 = invalid)."""
        return read_image(self.rgb), read_depth(self.depth, 1000.0)


def scene_of(name: str) -> str:
    """Scene of a frame: its name without a trailing ``_<number>``."""
    return _FRAME.sub("", name)


def list_photos(roots: Iterable[str | Path], split: str = "val") -> list[Photo]:
    """Every RGB-D pair under ``ROOT/SPLIT/{rgb,depth}`` of each root, sorted by name.

    Raises:
        DataError: A root has no image, an image has no depth file, or two roots share a name.
    """
    photos: dict[str, Photo] = {}
    for root in map(Path, roots):
        folder = root / split
        images = sorted((folder / "rgb").glob("*.png"))
        if not images:
            raise DataError(
                f"no images under '{folder / 'rgb'}'; expected ROOT/SPLIT/rgb/NAME.png."
            )
        for rgb in images:
            depth = folder / "depth" / rgb.name
            if not depth.is_file():
                raise DataError(f"'{rgb}' has no depth file '{depth}'.")
            if rgb.stem in photos:
                raise DataError(
                    f"'{rgb.stem}' is in two dev folders ({photos[rgb.stem].rgb.parent} and "
                    f"{rgb.parent}); rename one so every photo has its own name."
                )
            photos[rgb.stem] = Photo(rgb.stem, scene_of(rgb.stem), rgb, depth)
    return [photos[name] for name in sorted(photos)]


def score_photos(
    predict: Callable[[np.ndarray], np.ndarray], photos: Sequence[Photo], max_depth: float
) -> list[dict]:
    """One row per photo: name, scene, ``model`` and ``constant`` metrics.

    Args:
        predict: HxWx3 uint8 RGB -> HxW depth in metres at the image's size.
        photos: The photos to score.
        max_depth: Largest valid depth in metres.
    """
    rows = []
    for photo in photos:
        rgb, gt = photo.load()
        rows.append(
            {
                "name": photo.name,
                "scene": photo.scene,
                "model": score(predict(rgb), gt, max_depth),
                "constant": score(oracle_constant(gt), gt, max_depth),
            }
        )
    return rows


def per_scene(rows: Sequence[dict], metric: str = "mai_si_rmse") -> dict[str, dict[str, float]]:
    """Scene -> mean ``model`` and ``constant`` value of ``metric`` over the scene's frames."""
    scenes: dict[str, dict[str, list[float]]] = {}
    for row in rows:
        entry = scenes.setdefault(row["scene"], {"model": [], "constant": []})
        entry["model"].append(row["model"][metric])
        entry["constant"].append(row["constant"][metric])
    return {
        scene: {"model": float(np.mean(v["model"])), "constant": float(np.mean(v["constant"]))}
        for scene, v in sorted(scenes.items())
    }
