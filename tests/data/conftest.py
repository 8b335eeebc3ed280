"""Tiny on-disk fixtures of every supported depth layout (16x20 images)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from densepred.data.io import write_depth, write_image
from densepred.data.synthetic import ensure_synthetic

HEIGHT, WIDTH = 16, 20


def make_pair(
    image: Path, depth: Path | None, seed: int = 0, depth_shape: tuple[int, int] = (HEIGHT, WIDTH)
) -> None:
    """Write a random RGB image and (optionally) a random depth map with a few invalid pixels."""
    rng = np.random.default_rng(seed)
    write_image(image, rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8))
    if depth is not None:
        values = rng.uniform(0.5, 9.0, depth_shape).astype(np.float32)
        values[0, :3] = 0.0
        write_depth(depth, values)


@pytest.fixture
def mai_root(tmp_path: Path) -> Path:
    """MAI layout: root/train/{rgb,depth}/NNNNN.png (3 pairs) and root/validation/rgb (2, no depth)."""
    for i in range(3):
        make_pair(
            tmp_path / "train/rgb" / f"{i:05d}.png",
            tmp_path / "train/depth" / f"{i:05d}.png",
            seed=i,
        )
    for i in range(2):
        make_pair(tmp_path / "validation/rgb" / f"{i:05d}.png", None, seed=10 + i)
    return tmp_path


@pytest.fixture
def nyu_root(tmp_path: Path) -> Path:
    """BTS NYU layout: root/sync/<scene>/rgb_XXXXX.jpg + sync_depth_XXXXX.png (2 scenes, 3 pairs)."""
    for i, scene in enumerate(["kitchen_0028a", "kitchen_0028a", "office_0003"]):
        folder = tmp_path / "sync" / scene
        make_pair(folder / f"rgb_{i:05d}.jpg", folder / f"sync_depth_{i:05d}.png", seed=i)
    return tmp_path


@pytest.fixture
def folder_root(tmp_path: Path) -> Path:
    """Folder layout: root/train/image/*.jpg|png + root/train/depth/*.png (3 pairs)."""
    for i, ext in enumerate([".jpg", ".png", ".png"]):
        make_pair(
            tmp_path / "train/image" / f"img{i}{ext}",
            tmp_path / "train/depth" / f"img{i}.png",
            seed=i,
        )
    return tmp_path


@pytest.fixture
def list_root(tmp_path: Path) -> Path:
    """BTS filenames file: root/train.txt with '/scene/rgb.jpg /scene/depth.png focal' lines."""
    lines = []
    for i in range(3):
        make_pair(tmp_path / f"scene/rgb_{i}.jpg", tmp_path / f"scene/sync_depth_{i}.png", seed=i)
        lines.append(f"/scene/rgb_{i}.jpg /scene/sync_depth_{i}.png 518.8579")
    (tmp_path / "train.txt").write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return tmp_path


@pytest.fixture(scope="session")
def tiny_synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated synthetic set of 6 train + 3 val images at 48x64."""
    return ensure_synthetic(
        tmp_path_factory.mktemp("synthetic"), num_train=6, num_val=3, size=(48, 64), seed=0
    )


@pytest.fixture
def pair_writer() -> Callable[..., None]:
    """The :func:`make_pair` helper, for tests that build their own broken layouts."""
    return make_pair
