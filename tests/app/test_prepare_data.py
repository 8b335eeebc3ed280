"""prepare-data and data.cache: the cache gives the items the files give (exact with augmentation
off), the same validation metrics, refuses other settings, and an interrupted preparation never
trains and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

pytest.importorskip("litdata")

from densepred.app.config import load_config  # noqa: E402
from densepred.app.prepare_data import prepare_data  # noqa: E402
from densepred.app.tasks import TASKS  # noqa: E402
from densepred.app.train import run_training  # noqa: E402
from densepred.core.errors import DataError  # noqa: E402
from densepred.data import stream  # noqa: E402
from densepred.data.cache import MANIFEST, PROGRESS  # noqa: E402
from densepred.data.collate import collate_native  # noqa: E402
from densepred.data.io import write_image  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
DEPTH = CONFIGS / "depth_mbv3_unet.yaml"
SEG = CONFIGS / "seg_mbv3_unet.yaml"


def _overrides(root: Path, *extra: str) -> list[str]:
    return [
        f"data.root={root}",
        "data.args={num_train: 6, num_val: 4, size: [48, 64], seed: 0}",
        "data.image_size=[32, 48]",
        "data.batch_size=2",
        "data.num_workers=0",
        "data.augment.enabled=false",
        *extra,
    ]


@pytest.fixture(scope="module")
def depth_cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    """Overrides of a tiny synthetic depth config and the cache prepared from it."""
    tmp = tmp_path_factory.mktemp("depth_cache")
    overrides = _overrides(tmp / "data")
    prepare_data(load_config(DEPTH, overrides), out=str(tmp / "cache"), workers=2)
    return overrides, tmp / "cache"


def _module(config_file: Path, overrides: list[str], stage: str = "fit"):
    L.seed_everything(0, verbose=False)
    config = load_config(config_file, overrides)
    datamodule = TASKS.get(config.task_name).build_datamodule(config)
    datamodule.preflight()
    datamodule.setup(stage)
    return config, datamodule


def _same_batch(a: dict, b: dict, target: str) -> None:
    assert a["path"] == b["path"]
    assert torch.equal(a["image"], b["image"])
    assert torch.equal(a[target], b[target])


def test_the_cache_gives_the_batches_the_files_give(depth_cache) -> None:
    """Augmentation off, unshuffled: batch by batch, exact images and depth maps (the training
    items are stored in a shuffled order, so the files are read in that order)."""
    overrides, cache = depth_cache
    _, files = _module(DEPTH, overrides)
    _, cached = _module(DEPTH, [*overrides, f"data.cache={cache}"])
    streamed = cached.datasets["train"]
    streamed.set_shuffle(False)
    from_cache = list(cached.train_dataloader())
    by_path = {str(s.image): i for i, s in enumerate(files.datasets["train"].samples)}
    order = [by_path[path] for batch in from_cache for path in batch["path"]]
    assert sorted(order) == list(range(6)) and order != list(range(6))
    subset = torch.utils.data.Subset(files.datasets["train"], order)
    from_files = list(DataLoader(subset, batch_size=2, collate_fn=collate_native))
    assert len(from_files) == len(from_cache) == 3
    for a, b in zip(from_files, from_cache, strict=True):
        _same_batch(a, b, "depth")


def test_a_shuffled_epoch_covers_the_split_once_and_follows_the_seed(depth_cache) -> None:
    overrides, cache = depth_cache
    epochs = []
    for _ in range(2):
        _, cached = _module(DEPTH, [*overrides, f"data.cache={cache}"])
        loader = cached.train_dataloader()
        epochs.append([[p for b in loader for p in b["path"]] for _ in range(2)])
    first, second = epochs
    assert first == second  # the same seed, the same batches
    assert len(set(first[0])) == 6 and sorted(first[0]) == sorted(first[1])
    assert first[0] != first[1]  # a new order every epoch


def test_evaluation_items_and_metrics_equal_the_files(depth_cache, tmp_path: Path) -> None:
    """Validation reads the cache by index: the same items (depth at its native size) in the
    same order, and trainer.validate gives identical metrics."""
    overrides, cache = depth_cache
    config, files = _module(DEPTH, overrides, "validate")
    _, cached = _module(DEPTH, [*overrides, f"data.cache={cache}"], "validate")
    for a, b in zip(files.val_dataloader(), cached.val_dataloader(), strict=True):
        _same_batch(a, b, "depth")
        assert a["depth"].shape[-2:] == (48, 64)  # native size, not the input's 32x48
    metrics = []
    for datamodule in (files, cached):
        L.seed_everything(0, verbose=False)
        task = TASKS.get("depth")(config)
        trainer = L.Trainer(
            accelerator="cpu", logger=False, enable_progress_bar=False, default_root_dir=tmp_path
        )
        metrics.append(trainer.validate(task, datamodule=datamodule, verbose=False)[0])
    assert metrics[0] == metrics[1] and "val/mai_si_rmse" in metrics[0]


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("data.image_size=[16, 24]", "data.image_size"),
        ("data.depth_scale=256.0", "data.depth_scale"),
        ("data.args={num_train: 5, num_val: 4, size: [48, 64], seed: 0}", "data.args"),
        ("data.augment.enabled=true", "data.augment.crop_scale"),
    ],
)
def test_a_cache_for_other_settings_is_refused_before_training(
    depth_cache, override: str, named: str
) -> None:
    overrides, cache = depth_cache
    config = load_config(DEPTH, [*overrides, f"data.cache={cache}", override])
    datamodule = TASKS.get("depth").build_datamodule(config)
    with pytest.raises(DataError, match="prepared for other data settings") as info:
        datamodule.preflight()
    assert named in str(info.value)


def test_preparing_again_finds_the_cache_done_or_refuses_other_settings(depth_cache) -> None:
    overrides, cache = depth_cache
    before = (cache / MANIFEST).stat().st_mtime_ns
    manifest = prepare_data(load_config(DEPTH, overrides), out=str(cache))
    assert manifest["splits"]["train"]["items"] == 6
    assert (cache / MANIFEST).stat().st_mtime_ns == before
    with pytest.raises(DataError, match="--overwrite"):
        prepare_data(load_config(DEPTH, [*overrides, "data.image_size=[16, 24]"]), out=str(cache))


def test_an_interrupted_preparation_never_trains_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overrides = _overrides(tmp_path / "data")
    cache = tmp_path / "cache"
    real, written = stream.write_split, []

    def interrupted(writer, order, location, workers, chunk_bytes):
        if location.endswith("/val"):
            raise KeyboardInterrupt  # as Ctrl-C while the validation split is written
        written.append(location)
        real(writer, order, location, workers, chunk_bytes)

    monkeypatch.setattr(stream, "write_split", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare_data(load_config(DEPTH, overrides), out=str(cache), workers=1)
    assert not (cache / MANIFEST).exists()
    assert json.loads((cache / PROGRESS).read_text())["splits"].keys() == {"train"}
    config = load_config(DEPTH, [*overrides, f"data.cache={cache}"])
    with pytest.raises(DataError, match="holds no complete cache"):
        TASKS.get("depth").build_datamodule(config).preflight()

    monkeypatch.setattr(stream, "write_split", real)
    calls = []
    monkeypatch.setattr(stream, "write_split", lambda *a: calls.append(a[2]) or real(*a))
    manifest = prepare_data(load_config(DEPTH, overrides), out=str(cache), workers=1)
    assert calls == [f"{cache}/val"]  # the training split was kept
    assert (cache / MANIFEST).exists() and not (cache / PROGRESS).exists()
    assert manifest["splits"] == {
        "train": {"split": "train", "items": 6},
        "val": {"split": "val", "items": 4},
    }
    assert TASKS.get("depth").build_datamodule(config).preflight() == 10


def test_a_file_that_fails_to_decode_stops_preparation_naming_it(tmp_path: Path) -> None:
    overrides = _overrides(tmp_path / "data", "data.check=off")
    folder = prepare_data(load_config(DEPTH, overrides), out=str(tmp_path / "first"), workers=1)
    assert folder["splits"]["train"]["items"] == 6
    broken = next((tmp_path / "data").glob("*/train/rgb/00003.png"))
    broken.write_bytes(b"not a png")
    with pytest.raises(DataError, match="00003.png"):
        prepare_data(load_config(DEPTH, overrides), out=str(tmp_path / "cache"), workers=2)
    assert not (tmp_path / "cache" / MANIFEST).exists()


def test_segmentation_masks_and_class_weights_come_from_the_cache(tmp_path: Path) -> None:
    overrides = _overrides(tmp_path / "data")
    prepare_data(load_config(SEG, overrides), out=str(tmp_path / "cache"), workers=1)
    _, files = _module(SEG, overrides)
    _, cached = _module(SEG, [*overrides, f"data.cache={tmp_path / 'cache'}"])
    for a, b in zip(files.val_dataloader(), cached.val_dataloader(), strict=True):
        _same_batch(a, b, "mask")
    by_path = {str(s.image): s for s in files.datasets["train"].samples}
    for item in cached.datasets["train"]:
        index = files.datasets["train"].samples.index(by_path[item["path"]])
        _same_batch(files.datasets["train"][index], item, "mask")
    assert cached.median_frequency_weights() == pytest.approx(files.median_frequency_weights())


def test_training_from_the_cache_needs_no_dataset_file(depth_cache, tmp_path: Path) -> None:
    """A run from the cache (main config's augmentation: crops from the stored, larger items)
    trains and validates with the dataset's folder gone."""
    overrides, _ = depth_cache
    data = tmp_path / "data"
    train_overrides = [*_overrides(data), "data.augment.enabled=true"]
    prepare_data(load_config(DEPTH, train_overrides), out=str(tmp_path / "cache"), workers=1)
    for image in data.rglob("*.png"):
        write_image(image, np.zeros((2, 2, 3), np.uint8))  # any read of a file would now fail
    config = load_config(
        DEPTH,
        [
            *train_overrides,
            f"data.cache={tmp_path / 'cache'}",
            f"output_dir={tmp_path / 'runs'}",
            "trainer.max_epochs=2",
            "trainer.accelerator=cpu",
            "trainer.enable_progress_bar=false",
            "trainer.enable_model_summary=false",
        ],
    )
    result = run_training(config)
    record = json.loads((result.run_dir / "metrics.json").read_text())
    assert record["global_step"] == 6 and np.isfinite(result.metrics["val/mai_si_rmse"])
