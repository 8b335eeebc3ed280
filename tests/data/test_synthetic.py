"""The procedural synthetic set: layout, determinism, value ranges, caching and learnable cues."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from densepred.cli.main import main
from densepred.core.errors import ConfigError, DataError
from densepred.data.io import read_depth, read_image, read_mask
from densepred.data.synthetic import (
    DEFAULT_OBJECT_DISTANCE,
    GENERATOR_VERSION,
    LABEL_CLASSES,
    MASK_CLASSES,
    MAX_DEPTH,
    dataset_key,
    ensure_synthetic,
    render_sample,
)

SIZE = (48, 64)


@pytest.fixture(scope="module")
def depths() -> np.ndarray:
    """Depth maps of the first 24 training images at 48x64 (rendered in memory)."""
    return np.stack([render_sample(0, "train", i, SIZE)[0].depth for i in range(24)])


def test_layout_and_meta(tiny_synthetic: Path) -> None:
    assert tiny_synthetic.name == dataset_key(6, 3, SIZE, 0)
    meta = json.loads((tiny_synthetic / "meta.json").read_text())
    assert meta["counts"] == {"train": 6, "val": 3}
    assert meta["size"] == list(SIZE) and meta["seed"] == 0
    assert meta["generator_version"] == GENERATOR_VERSION
    assert meta["mask_classes"] == list(MASK_CLASSES) and meta["label_classes"] == list(
        LABEL_CLASSES
    )
    for split, count in meta["counts"].items():
        names = [f"{i:05d}.png" for i in range(count)]
        for kind in ("rgb", "depth", "mask"):
            assert sorted(p.name for p in (tiny_synthetic / split / kind).iterdir()) == names
        with open(tiny_synthetic / split / "labels.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert [r["file"] for r in rows] == names
        assert [int(r["label"]) for r in rows] == [i % 3 for i in range(count)]  # balanced
    assert not [
        p for p in tiny_synthetic.parent.iterdir() if p.name.startswith(".")
    ]  # no temp folder left


def test_files_have_documented_types_and_ranges(tiny_synthetic: Path) -> None:
    for split in ("train", "val"):
        for path in sorted((tiny_synthetic / split / "rgb").iterdir()):
            rgb = read_image(path)
            depth = read_depth(tiny_synthetic / split / "depth" / path.name, 1000.0)
            mask = read_mask(tiny_synthetic / split / "mask" / path.name)
            assert rgb.shape == (*SIZE, 3) and depth.shape == SIZE and mask.shape == SIZE
            assert mask.dtype == np.uint8 and mask.max() < len(MASK_CLASSES)
            assert depth.min() >= 0 and depth.max() <= MAX_DEPTH
            assert (depth > 0).mean() > 0.7  # invalid pixels are a minority
            assert (mask >= MASK_CLASSES.index("box")).any()  # every image shows its objects
            assert rgb.std() > 5  # not a flat image


def test_objects_match_the_label(tiny_synthetic: Path) -> None:
    with open(tiny_synthetic / "train" / "labels.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            mask = read_mask(tiny_synthetic / "train" / "mask" / row["file"])
            kind = LABEL_CLASSES[int(row["label"])]
            room = {MASK_CLASSES.index(c) for c in ("floor", "wall", "ceiling", "furniture")}
            object_ids = set(np.unique(mask).tolist()) - room
            assert object_ids == {MASK_CLASSES.index(kind)}


def test_generation_is_deterministic(tiny_synthetic: Path, tmp_path: Path) -> None:
    again = ensure_synthetic(tmp_path, num_train=6, num_val=3, size=SIZE, seed=0, workers=1)
    for split in ("train", "val"):
        for kind in ("rgb", "depth", "mask"):
            for path in (tiny_synthetic / split / kind).iterdir():
                assert path.read_bytes() == (again / split / kind / path.name).read_bytes()
    other, _ = render_sample(1, "train", 0, SIZE)
    assert not np.array_equal(other.rgb, render_sample(0, "train", 0, SIZE)[0].rgb)
    val, _ = render_sample(0, "val", 0, SIZE)
    assert not np.array_equal(val.depth, render_sample(0, "train", 0, SIZE)[0].depth)


def test_existing_set_is_reused(tiny_synthetic: Path) -> None:
    marker = tiny_synthetic / "train" / "rgb" / "00000.png"
    stamp = marker.stat().st_mtime_ns
    assert (
        ensure_synthetic(tiny_synthetic.parent, num_train=6, num_val=3, size=SIZE, seed=0)
        == tiny_synthetic
    )
    assert marker.stat().st_mtime_ns == stamp


@pytest.mark.parametrize(
    "params",
    [
        dict(num_train=5, num_val=3, seed=0),
        dict(num_train=6, num_val=3, seed=1),
        dict(num_train=6, num_val=2, seed=0),
        dict(num_train=6, num_val=3, seed=0, object_distance=(1.0, 2.0)),
    ],
)
def test_other_parameters_never_reuse_a_set(tmp_path: Path, params: dict) -> None:
    first = ensure_synthetic(tmp_path, num_train=6, num_val=3, size=(32, 40), seed=0)
    second = ensure_synthetic(tmp_path, size=(32, 40), **params)
    assert second != first
    meta = json.loads((second / "meta.json").read_text())
    assert meta["counts"] == {"train": params["num_train"], "val": params["num_val"]}
    assert meta["seed"] == params["seed"]
    assert meta["object_distance"] == list(params.get("object_distance", DEFAULT_OBJECT_DISTANCE))


def test_default_sets_keep_their_folder_name() -> None:
    """Adding object_distance left the default renders unchanged, so existing sets stay valid."""
    assert dataset_key(600, 100, (192, 256), 0) == f"v{GENERATOR_VERSION}_n600-100_192x256_s0"
    assert dataset_key(600, 100, (96, 128), 0, (1.0, 2.0)).endswith("_96x128_s0_d1-2")


def test_incomplete_folder_is_never_taken_as_complete(tmp_path: Path) -> None:
    partial = tmp_path / dataset_key(2, 1, (32, 40), 0)
    (partial / "train" / "rgb").mkdir(parents=True)
    with pytest.raises(DataError, match="no meta.json"):
        ensure_synthetic(tmp_path, num_train=2, num_val=1, size=(32, 40))


def test_interrupted_generation_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("densepred.data.synthetic.dataset.atomic_write_json", crash)
    with pytest.raises(KeyboardInterrupt):
        ensure_synthetic(tmp_path, num_train=2, num_val=1, size=(32, 40))
    assert os.listdir(tmp_path) == []


def test_concurrent_finisher_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If another process renamed a complete set into place first, ours is discarded and theirs used."""
    from densepred.data.synthetic import dataset

    real = dataset.write_dataset

    def write_then_race(folder: Path, *args: object, **kwargs: object) -> None:
        real(folder, *args, **kwargs)
        other = tmp_path / dataset_key(2, 1, (32, 40), 0)
        real(other, *args, **kwargs)  # the "other process" finishes first

    monkeypatch.setattr(dataset, "write_dataset", write_then_race)
    folder = ensure_synthetic(tmp_path, num_train=2, num_val=1, size=(32, 40))
    assert (folder / "meta.json").is_file()
    assert os.listdir(tmp_path) == [folder.name]


def test_bad_parameters_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="num_train"):
        ensure_synthetic(tmp_path, num_train=0, num_val=1)
    with pytest.raises(ConfigError, match="size"):
        ensure_synthetic(tmp_path, num_train=1, num_val=1, size=(8, 8))
    for distance in [(0.3, 2.0), (2.0, 1.0), (1.0, 9.0), (1.0, 2.0, 3.0)]:
        with pytest.raises(ConfigError, match=r"object_distance must be \[near, far\]"):
            ensure_synthetic(tmp_path, num_train=1, num_val=1, object_distance=distance)
    assert os.listdir(tmp_path) == []


def test_depth_is_not_a_function_of_pixel_position(depths: np.ndarray) -> None:
    """The best position-only predictor barely beats a constant, so depth must come from image cues.

    The learnability target is a scale-invariant log RMSE (si-RMSE) under half the per-image std of
    log depth. Predicting each pixel's mean log depth over the set (fitted on the very images it is
    scored on, which flatters it) must stay far from that bar: measured about 0.85 of the per-image
    std; we require more than 0.7. Also, the log depth seen by a fixed pixel varies by more than
    0.25 (a factor of about 1.3) across images (measured about 0.37).
    """
    log = np.where(depths > 0, np.log(np.where(depths > 0, depths, 1.0)), np.nan)
    assert np.nanmean(np.nanstd(log, axis=0)) > 0.25
    per_image_std = np.nanstd(log, axis=(1, 2))
    residual = log - np.nanmean(log, axis=0)
    si_rmse = np.sqrt(np.nanmean(residual**2, axis=(1, 2)) - np.nanmean(residual, axis=(1, 2)) ** 2)
    assert si_rmse.mean() > 0.7 * per_image_std.mean()


def test_some_images_have_invalid_depth(depths: np.ndarray) -> None:
    fractions = (depths == 0).mean(axis=(1, 2))
    assert 0 < (fractions > 0).mean() < 0.6  # a minority of images
    assert fractions.mean() < 0.05  # a few percent of pixels overall


def test_prepare_script_generates_a_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--root", str(tmp_path), "--num-train", "2", "--num-val", "1", "--size", "24", "32"]
    assert main(["prepare-synthetic", *argv]) == 0
    folder = tmp_path / dataset_key(2, 1, (24, 32), 0)
    assert (folder / "meta.json").is_file() and str(folder) in capsys.readouterr().out


def _on_floor(shape: object) -> bool:
    return bool(np.isclose(shape.center[1], shape.half[1]))


def test_objects_keep_clear_of_the_camera() -> None:
    """No object on the floor stands within a metre of the camera (small rooms included), and no
    furniture within FURNITURE_CLEARANCE, so no image is a close-up wall of near-zero depth.
    Generator v2 broke this when placement fell back to a random spot. Objects resting on
    furniture keep the furniture's clearance."""
    from densepred.data.synthetic.furniture import FURNITURE_CLEARANCE, box_gap
    from densepred.data.synthetic.scene import footprint_radius, sample_scene

    for seed in range(400):
        rng = np.random.default_rng(seed)
        scene = sample_scene(rng, label=seed % len(LABEL_CLASSES), size=SIZE)
        camera = scene.camera.position[[0, 2]]
        for shape in scene.shapes:
            gap = np.linalg.norm(shape.center[[0, 2]] - camera) - footprint_radius(
                shape.kind, shape.half
            )
            bound = 1.0 if _on_floor(shape) else FURNITURE_CLEARANCE - 0.01
            assert gap > bound, f"seed {seed}: a {shape.kind} is {gap:.2f} m from the camera"
        for piece in scene.furniture:
            if _on_floor(piece):
                assert box_gap(piece.center, piece.half, piece.yaw, camera) >= FURNITURE_CLEARANCE


def test_valid_depth_is_never_implausibly_near(depths: np.ndarray) -> None:
    assert depths[depths > 0].min() > 0.25


@pytest.mark.parametrize("distance", [(0.8, 1.2), (1.0, 2.0), (3.0, 4.0)])
def test_object_distance_places_the_aimed_object(distance: tuple[float, float]) -> None:
    """The first object stands ``distance`` from the camera; every object keeps the clearance."""
    from densepred.data.synthetic.scene import camera_clearance, footprint_radius, sample_scene

    for seed in range(60):
        scene = sample_scene(np.random.default_rng(seed), 0, SIZE, object_distance=distance)
        camera = scene.camera.position[[0, 2]]
        floor = [s for s in scene.shapes if _on_floor(s)]
        gaps = [np.linalg.norm(s.center[[0, 2]] - camera) for s in floor]
        assert distance[0] <= gaps[0] <= distance[1]
        for shape, gap in zip(floor, gaps, strict=True):
            assert gap - footprint_radius(shape.kind, shape.half) > camera_clearance(distance)


def test_nearer_objects_fill_more_of_the_image() -> None:
    def object_share(distance: tuple[float, float]) -> float:
        masks = [render_sample(0, "train", i, SIZE, distance)[0].mask for i in range(24)]
        return float(np.mean(np.stack(masks) >= MASK_CLASSES.index("box")))

    assert object_share((0.8, 1.5)) > 1.5 * object_share(DEFAULT_OBJECT_DISTANCE)  # 0.36, 0.18


def test_an_unplaceable_object_distance_is_a_config_error() -> None:
    """A range the scene's room cannot hold fails with a message, instead of redrawing forever."""
    from densepred.data.synthetic.scene import sample_scene

    def room(seed: int) -> tuple[float, float]:  # the first draws of sample_scene
        rng = np.random.default_rng(seed)
        return rng.uniform(3, 7.5), rng.uniform(2.4, 3.5), rng.uniform(3, 7.5)

    seed = next(s for s in range(1000) if room(s)[0] < 4 and room(s)[2] < 4)  # diagonal < 5 m
    with pytest.raises(ConfigError, match="use a nearer data.args.object_distance"):
        sample_scene(np.random.default_rng(seed), 0, SIZE, object_distance=(5.0, 5.0))
