"""Write the synthetic dataset to disk (MAI layout plus masks and labels), generated once.

Layout of a generated set (``ensure_synthetic`` returns ``folder``)::

    folder/{train,val}/rgb/00000.png     8-bit RGB
    folder/{train,val}/depth/00000.png   uint16 millimetres, 0 = invalid
    folder/{train,val}/mask/00000.png    uint8 class ids (MASK_CLASSES)
    folder/{train,val}/labels.csv        file,label (label = index into LABEL_CLASSES)
    folder/meta.json                     written last: classes, seed, counts, size, version
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from tqdm import tqdm

from densepred.core.errors import ConfigError, DataError
from densepred.core.fileio import atomic_write_json
from densepred.data.io import write_depth, write_image, write_mask
from densepred.data.synthetic.layout import arrange
from densepred.data.synthetic.realism import ALL_CUES, Realism
from densepred.data.synthetic.renderer import MAX_DEPTH, MIN_DEPTH, View, render
from densepred.data.synthetic.scene import (
    DEFAULT_OBJECT_DISTANCE,
    LABEL_CLASSES,
    MASK_CLASSES,
    sample_scene,
)

GENERATOR_VERSION = 4
"""Bumped whenever the renderer's output changes; part of the folder name, so old sets are not reused."""

SPLITS = ("train", "val")
DEFAULT_NUM_TRAIN, DEFAULT_NUM_VAL, DEFAULT_SIZE, DEFAULT_SEED = 600, 100, (192, 256), 0
"""Default set: about 25 s to generate on 2 idle CPU cores (see datasets/README.md)."""
DEPTH_SCALE = 1000.0
LABEL_RULE = "every object in an image is of one kind; the label is that kind (index % 3, balanced)"


Distance = tuple[float, float]
OBJECT_DISTANCE_BOUNDS = (0.6, 5.0)
"""Allowed object distances in metres: nearer puts the camera inside the object, farther
rarely fits in a room."""


def dataset_key(
    num_train: int,
    num_val: int,
    size: tuple[int, int],
    seed: int,
    object_distance: Distance = DEFAULT_OBJECT_DISTANCE,
    realism: Realism = ALL_CUES,
) -> str:
    """Folder name that identifies a synthetic set by all of its parameters."""
    key = f"v{GENERATOR_VERSION}_n{num_train}-{num_val}_{size[0]}x{size[1]}_s{seed}"
    if tuple(object_distance) != DEFAULT_OBJECT_DISTANCE:
        key += f"_d{object_distance[0]:g}-{object_distance[1]:g}"
    return key + realism.key()


def render_sample(
    seed: int,
    split: str,
    index: int,
    size: tuple[int, int],
    object_distance: Distance = DEFAULT_OBJECT_DISTANCE,
    realism: Realism = ALL_CUES,
) -> tuple[View, int]:
    """Render image ``index`` of ``split``; a pure function of its arguments.

    Args:
        seed: Dataset seed.
        split: ``"train"`` or ``"val"`` (they use disjoint random streams).
        index: Image index within the split.
        size: Image size (H, W).
        object_distance: Distance range of the in-view object, see
            :func:`~densepred.data.synthetic.scene.sample_scene`.
        realism: Which v4 cues to render (all by default; fewer for ablations).

    Returns:
        The rendered view and its image-level label.
    """
    label = index % len(LABEL_CLASSES)
    rng = np.random.default_rng([seed, SPLITS.index(split), index])
    scene = sample_scene(rng, label, size, object_distance=object_distance, realism=realism)
    return render(arrange(rng, scene, size, realism), size, rng), label


def _write_sample(
    folder: Path,
    seed: int,
    size: tuple[int, int],
    distance: Distance,
    realism: Realism,
    split: str,
    index: int,
) -> int:
    """Render one sample, write its three files and return its label."""
    view, label = render_sample(seed, split, index, size, distance, realism)
    name = f"{index:05d}.png"
    write_image(folder / split / "rgb" / name, view.rgb)
    write_depth(folder / split / "depth" / name, view.depth, DEPTH_SCALE)
    write_mask(folder / split / "mask" / name, view.mask)
    return label


def _run(fn: Callable[[str, int], int], jobs: list[tuple[str, int]], workers: int) -> Iterator[int]:
    """Yield ``fn(*job)`` in order, computed by ``workers`` processes (1 = in this process)."""
    if workers <= 1:
        yield from (fn(*job) for job in jobs)
        return
    pool = ProcessPoolExecutor(workers)
    try:
        yield from pool.map(fn, *zip(*jobs, strict=True), chunksize=8)
    finally:
        pool.shutdown(cancel_futures=True)


def _write_labels(path: Path, labels: list[int]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "label"])
        writer.writerows([f"{i:05d}.png", label] for i, label in enumerate(labels))


def write_dataset(
    folder: Path,
    counts: dict[str, int],
    size: tuple[int, int],
    seed: int,
    workers: int = 1,
    object_distance: Distance = DEFAULT_OBJECT_DISTANCE,
    realism: Realism = ALL_CUES,
) -> None:
    """Render and write a whole synthetic set into ``folder``; ``meta.json`` comes last.

    Args:
        folder: Destination folder (created).
        counts: Number of images per split, e.g. ``{"train": 600, "val": 100}``.
        size: Image size (H, W).
        seed: Dataset seed.
        workers: Processes rendering in parallel (1 = in this process).
        object_distance: Distance range of the in-view object.
        realism: Which v4 cues to render.
    """
    jobs = [(split, i) for split in SPLITS for i in range(counts[split])]
    write = partial(_write_sample, folder, seed, size, object_distance, realism)
    labels: dict[str, list[int]] = {split: [] for split in SPLITS}
    results = _run(write, jobs, max(1, min(workers, len(jobs) // 32)))
    for (split, _), label in tqdm(
        zip(jobs, results, strict=True), total=len(jobs), desc="synthetic data", unit="img"
    ):
        labels[split].append(label)
    for split in SPLITS:
        _write_labels(folder / split / "labels.csv", labels[split])
    meta = {
        "generator": "densepred.data.synthetic",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "size": list(size),
        "counts": counts,
        "object_distance": list(object_distance),
        "realism": asdict(realism),
        "depth_scale": DEPTH_SCALE,
        "min_depth": MIN_DEPTH,
        "max_depth": MAX_DEPTH,
        "mask_classes": list(MASK_CLASSES),
        "label_classes": list(LABEL_CLASSES),
        "label_rule": LABEL_RULE,
    }
    atomic_write_json(folder / "meta.json", meta)


def _check_params(
    num_train: int, num_val: int, size: tuple[int, int], object_distance: Distance
) -> None:
    if num_train < 1 or num_val < 1:
        raise ConfigError(
            f"synthetic data needs num_train >= 1 and num_val >= 1, got {num_train} and {num_val}."
        )
    if len(size) != 2 or min(size) < 16:
        raise ConfigError(
            f"synthetic data size must be (H, W) with both at least 16 pixels, got {size}."
        )
    low, high = OBJECT_DISTANCE_BOUNDS
    if len(object_distance) != 2 or not low <= object_distance[0] <= object_distance[1] <= high:
        raise ConfigError(
            f"synthetic data object_distance must be [near, far] metres with "
            f"{low} <= near <= far <= {high}, got {list(object_distance)}."
        )


def ensure_synthetic(
    root: str | Path,
    num_train: int = DEFAULT_NUM_TRAIN,
    num_val: int = DEFAULT_NUM_VAL,
    size: tuple[int, int] = DEFAULT_SIZE,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    object_distance: Distance = DEFAULT_OBJECT_DISTANCE,
    realism: Realism = ALL_CUES,
) -> Path:
    """Return the folder of the synthetic set with these parameters, generating it if missing.

    Each parameter set lives in its own subfolder (see :func:`dataset_key`), so sets never clash.
    A set is rendered into a hidden temporary folder and renamed into place when complete: an
    interrupted run or a concurrent process never leaves a half-written set that is taken as done.

    Args:
        root: Parent folder of the generated sets (e.g. ``datasets/synthetic``).
        num_train: Training images.
        num_val: Validation images.
        size: Image size (H, W).
        seed: Dataset seed; the same parameters always give byte-identical files.
        workers: Rendering processes (default: the number of CPUs, at most 8).
        object_distance: Range in metres of the distance between the camera and the object
            it is aimed at (default 1.5-5 m; nearer objects fill more of the image).
        realism: Which v4 cues to render (all by default; a set with fewer gets its own folder).
    """
    size = (int(size[0]), int(size[1]))
    _check_params(num_train, num_val, size, tuple(object_distance))
    object_distance = (float(object_distance[0]), float(object_distance[1]))
    root = Path(root)
    folder = root / dataset_key(num_train, num_val, size, seed, object_distance, realism)
    if (folder / "meta.json").is_file():
        return folder
    if folder.exists():
        raise DataError(
            f"'{folder}' exists but has no meta.json, so it is not a complete synthetic set. "
            "Delete the folder and it will be generated again."
        )
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=root))
    try:
        counts = {"train": num_train, "val": num_val}
        workers = workers or min(os.cpu_count() or 1, 8)
        write_dataset(tmp, counts, size, seed, workers, object_distance, realism)
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / "meta.json").is_file():  # not a concurrent process that finished first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def parse_realism(switches: dict[str, bool] | None) -> Realism:
    """The :class:`Realism` of ``data.args.realism`` (``None``: all v4 cues)."""
    switches = dict(switches or {})
    unknown = sorted(set(switches) - set(Realism.names()))
    if unknown:
        raise ConfigError(
            f"data.args.realism has unknown switches {unknown}; valid: {list(Realism.names())}."
        )
    bad = {k: v for k, v in switches.items() if not isinstance(v, bool)}
    if bad:
        raise ConfigError(f"data.args.realism switches must be true or false, got {bad}.")
    return Realism(**switches)


T = TypeVar("T")


def synthetic_layout(read: Callable[..., T]) -> Callable[..., T]:
    """A layout reader of the generated set, for any task: one parameter list for all of them.

    Args:
        read: ``read(folder, split, *task_args)``: what the task reads from a generated set.

    Returns:
        ``reader(root, split, *task_args, num_train=..., num_val=..., size=..., seed=...,
        object_distance=..., realism=...)``: generates the set under ``root`` on first use (see
        :func:`ensure_synthetic` for the keywords, which come from ``data.args``; ``realism`` is
        a mapping of :class:`Realism` switches, e.g. ``{camera: false}``) and returns
        ``read(folder, split, *task_args)``.
    """

    def reader(
        root: Path,
        split: str,
        *task_args: Any,
        num_train: int = DEFAULT_NUM_TRAIN,
        num_val: int = DEFAULT_NUM_VAL,
        size: tuple[int, int] = DEFAULT_SIZE,
        seed: int = DEFAULT_SEED,
        object_distance: tuple[float, float] = DEFAULT_OBJECT_DISTANCE,
        realism: dict[str, bool] | None = None,
    ) -> T:
        folder = ensure_synthetic(
            root,
            num_train,
            num_val,
            size,
            seed,
            object_distance=object_distance,
            realism=parse_realism(realism),
        )
        return read(folder, split, *task_args)

    reader.__doc__ = read.__doc__
    return reader
