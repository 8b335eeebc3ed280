"""Real dev folders: scenes from frame names, clear errors, per-scene means and the constant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from densepred.app.realdev import list_photos, oracle_constant, per_scene, scene_of, score_photos
from densepred.core.errors import DataError
from densepred.data.io import write_depth, write_image


def make_dev(root: Path, names: list[str], seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for name in names:
        write_image(
            root / "val" / "rgb" / f"{name}.png", rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
        )
        write_depth(
            root / "val" / "depth" / f"{name}.png", rng.uniform(1, 4, (12, 16)).astype(np.float32)
        )
    return root


def test_scene_names_drop_a_trailing_frame_number() -> None:
    assert scene_of("redwood_livingroom_3") == "redwood_livingroom"
    assert scene_of("tum_office") == "tum_office"
    assert scene_of("room_2b") == "room_2b"


def test_list_photos_pools_folders_and_names_problems(tmp_path: Path) -> None:
    a = make_dev(tmp_path / "a", ["room_0", "room_1", "desk"])
    b = make_dev(tmp_path / "b", ["garage"])
    photos = list_photos([a, b])
    assert [(p.name, p.scene) for p in photos] == [
        ("desk", "desk"),
        ("garage", "garage"),
        ("room_0", "room"),
        ("room_1", "room"),
    ]
    with pytest.raises(DataError, match="two dev folders"):
        list_photos([a, make_dev(tmp_path / "c", ["desk"])])
    (b / "val" / "depth" / "garage.png").unlink()
    with pytest.raises(DataError, match="no depth file"):
        list_photos([b])
    with pytest.raises(DataError, match="no images under"):
        list_photos([tmp_path / "empty"])


def test_scores_per_scene_average_frames_and_the_constant_is_the_log_spread(tmp_path: Path) -> None:
    photos = list_photos([make_dev(tmp_path, ["room_0", "room_1", "desk"])])
    rows = score_photos(lambda rgb: np.full(rgb.shape[:2], 2.0, np.float32), photos, 10.0)
    for row, photo in zip(rows, photos, strict=True):
        gt = photo.load()[1]
        assert row["constant"]["mai_si_rmse"] == pytest.approx(np.log(gt[gt > 0]).std(), abs=1e-4)
        assert row["model"]["mai_si_rmse"] == pytest.approx(
            row["constant"]["mai_si_rmse"], abs=1e-4
        )
        assert np.allclose(oracle_constant(gt), np.exp(np.log(gt[gt > 0]).mean()))
    scenes = per_scene(rows)
    assert list(scenes) == ["desk", "room"]
    room = [r["model"]["mai_si_rmse"] for r in rows if r["scene"] == "room"]
    assert scenes["room"]["model"] == pytest.approx(np.mean(room))
