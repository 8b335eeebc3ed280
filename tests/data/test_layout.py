"""The layout contract, tested for every registered (format, target) on tiny fixture layouts.

A newly registered reader fails :func:`test_every_reader_has_a_fixture` until a builder for its
layout is added to ``BUILDERS`` below; from then on the contract tests cover it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from densepred.app.tasks import TASKS
from densepred.config.data import DataConfig
from densepred.data.base import BaseDataModule
from densepred.data.io import write_depth, write_image, write_mask
from densepred.data.layout import FORMATS, IMAGE_EXTS, Sample, format_reader, register_format
from densepred.tasks.references import resolve_section

HEIGHT, WIDTH = 16, 20
SYNTH_ARGS = {"num_train": 6, "num_val": 3, "size": [48, 64], "seed": 0}
RNG = np.random.default_rng(0)

MODULES: dict[str, tuple[type[DataConfig], type[BaseDataModule]]] = {
    task.spec.data.target_kind: (task.spec.data, task.datamodule_cls)
    for task in map(TASKS.get, TASKS.names())
}
"""Target -> the data section and data module of the task that reads it."""

ITEM_KEYS = {"depth": "depth", "mask": "mask", "label": "label", "pair": "target"}


def _rgb(path: Path) -> None:
    write_image(path, RNG.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8))


def _depth(path: Path) -> None:
    write_depth(path, RNG.uniform(0.5, 9.0, (HEIGHT, WIDTH)).astype(np.float32))


def _mask(path: Path, top: int = 2) -> None:
    write_mask(path, RNG.integers(0, top + 1, (HEIGHT, WIDTH), dtype=np.uint8))


def _files(
    *patterns: tuple[Callable[[Path], None], str], keys: dict[str, Any] | None = None
) -> Callable[[Path], dict[str, Any]]:
    """A builder writing two records: each (writer, path pattern with ``{}`` for 0 and 1)."""

    def build(root: Path) -> dict[str, Any]:
        for i in range(2):
            for write, pattern in patterns:
                write(root / pattern.format(i))
        return dict(keys or {})

    return build


def _list(root: Path) -> dict[str, Any]:
    lines = []
    for i in range(2):
        _rgb(root / f"img/{i}.jpg")
        _depth(root / f"gt/{i}.png")
        lines.append(f"/img/{i}.jpg /gt/{i}.png 518.8")
    (root / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {}


def _camvid_mask(path: Path) -> None:
    _mask(path, top=11)


def _voc(root: Path) -> dict[str, Any]:
    (root / "ImageSets/Segmentation").mkdir(parents=True)
    (root / "ImageSets/Segmentation/train.txt").write_text("a\nb\n", encoding="utf-8")
    for name in "ab":
        _rgb(root / f"JPEGImages/{name}.jpg")
        _mask(root / f"SegmentationClass/{name}.png", top=20)
    return {}


def _synthetic(root: Path) -> dict[str, Any]:
    return {"args": SYNTH_ARGS}


BUILDERS: dict[tuple[str, str], Callable[[Path], dict[str, Any]]] = {
    ("folder", "depth"): _files((_rgb, "train/image/{}.jpg"), (_depth, "train/depth/{}.png")),
    ("list", "depth"): _list,
    ("mai", "depth"): _files((_rgb, "train/rgb/{}.png"), (_depth, "train/depth/{}.png")),
    ("nyu", "depth"): _files(
        (_rgb, "train/scene/rgb_{:05d}.jpg"), (_depth, "train/scene/sync_depth_{:05d}.png")
    ),
    ("synthetic", "depth"): _synthetic,
    ("camvid", "mask"): _files((_rgb, "train/{}.png"), (_camvid_mask, "trainannot/{}.png")),
    ("folder", "mask"): _files(
        (_rgb, "train/images/{}.png"),
        (_mask, "train/masks/{}.png"),
        keys={"classes": ["a", "b", "c"]},
    ),
    ("voc", "mask"): _voc,
    ("synthetic", "mask"): _synthetic,
    ("imagefolder", "label"): _files((_rgb, "train/cat/{}.png"), (_rgb, "train/dog/{}.png")),
    ("synthetic", "label"): _synthetic,
    ("folder", "pair"): _files(
        (_depth, "A/train/{}.png"),
        (_rgb, "B/train/{}.png"),
        keys={"condition": "depth", "target": "rgb"},
    ),
    ("synthetic", "pair"): _synthetic,
}
"""(format, target) -> writes a tiny layout with a ``train`` split, returns extra data keys."""

READERS = [(name, target) for name in FORMATS for target in FORMATS.get(name).provides]


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated set shared by the synthetic readers of every target."""
    return tmp_path_factory.mktemp("synthetic")


def _datamodule(name: str, target: str, tmp_path: Path, synthetic_root: Path) -> BaseDataModule:
    root = synthetic_root if name == "synthetic" else tmp_path
    keys = BUILDERS[name, target](root)
    config_cls, module_cls = MODULES[target]
    split = {"val_split": "val"} if name == "synthetic" else {"val_split": "train"}
    config = resolve_section(
        config_cls,
        {"format": name, "root": str(root), "num_workers": 0, "batch_size": 2, **split, **keys},
    )
    return module_cls(config)


def test_every_reader_has_a_fixture() -> None:
    missing = sorted(set(READERS) - set(BUILDERS))
    assert not missing, f"add a tiny fixture layout to BUILDERS for {missing}"
    assert set(MODULES) == {t for _, t in READERS}


@pytest.mark.parametrize(("name", "target"), READERS)
def test_reader_signature_starts_with_root_and_split(name: str, target: str) -> None:
    params = list(inspect.signature(format_reader(name, target).read).parameters)
    assert params[:2] == ["root", "split"]


@pytest.mark.parametrize(("name", "target"), READERS)
def test_records_hold_existing_files_of_the_promised_target(
    name: str, target: str, tmp_path: Path, synthetic_root: Path
) -> None:
    module = _datamodule(name, target, tmp_path, synthetic_root)
    samples = module.samples("train")
    assert samples and all(isinstance(s, Sample) for s in samples)
    assert all(s.image.is_file() and s.image.suffix.lower() in IMAGE_EXTS for s in samples)
    if target in ("depth", "mask", "pair"):
        assert all(s.target is not None and s.target.is_file() for s in samples)
    if target == "label":
        classes = module.config.classes
        assert all(isinstance(s.label, int) and 0 <= s.label < len(classes) for s in samples)
    assert module.preflight(roles=("train",)) == len(samples)


@pytest.mark.parametrize(("name", "target"), READERS)
def test_datamodule_gives_batches_with_the_target(
    name: str, target: str, tmp_path: Path, synthetic_root: Path
) -> None:
    module = _datamodule(name, target, tmp_path, synthetic_root)
    module.prepare_data()
    module.setup("validate")
    batch = next(iter(module.val_dataloader()))
    assert batch["image" if target != "pair" else "condition"].ndim == 4
    assert ITEM_KEYS[target] in batch


@pytest.mark.parametrize("target", sorted(MODULES))
def test_format_without_the_tasks_target_names_the_valid_formats(target: str) -> None:
    wrong = next(n for n in FORMATS if target not in FORMATS.get(n).provides)
    valid = ", ".join(n for n in FORMATS if target in FORMATS.get(n).provides)
    config_cls, _ = MODULES[target]
    classes = {"classes": ["a", "b"]} if target in ("mask", "label") else {}
    with pytest.raises(ValueError, match=f"'{wrong}' provides .*{valid}"):
        resolve_section(config_cls, {"format": wrong, "root": "x", **classes})


def test_registering_a_target_twice_fails() -> None:
    reader = format_reader("mai", "depth").read
    with pytest.raises(ValueError, match="registers a depth reader twice"):
        register_format("mai", "depth")(reader)


def test_image_extensions_are_shared_with_predict() -> None:
    from densepred.app import predict

    assert predict.IMAGE_EXTS is IMAGE_EXTS
    assert all(ext == ext.lower() and ext.startswith(".") for ext in IMAGE_EXTS)
    # every extension is one Pillow can open (what the pre-flight check relies on)
    Image.init()
    assert set(IMAGE_EXTS) <= set(Image.EXTENSION)
