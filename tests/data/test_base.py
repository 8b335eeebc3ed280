"""What the data sections and modules share: ``data.args`` checks, splits, load-time rules."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

import lightning as L
import pytest
import yaml

from densepred.app.config import config_from_dict
from densepred.config.data import DepthDataConfig
from densepred.config.loader import apply_overrides
from densepred.core.errors import ConfigError, DataError
from densepred.data.depth import DepthDataModule, folder_reader, synthetic_reader
from densepred.data.layout import read_samples, validate_reader_args
from densepred.data.synthetic import (
    DEFAULT_NUM_TRAIN,
    DEFAULT_NUM_VAL,
    DEFAULT_OBJECT_DISTANCE,
    DEFAULT_SEED,
    DEFAULT_SIZE,
)


@pytest.mark.parametrize("task", ["depth", "segmentation", "classification", "gan"])
def test_wrong_reader_arg_type_fails_when_the_config_is_loaded(task: str) -> None:
    raw = {"task": {"name": task}, "data": {"format": "synthetic", "args": {"num_train": "abc"}}}
    with pytest.raises(ConfigError, match=r"data\.args\.num_train: expected int, got 'abc'"):
        config_from_dict(raw, source="bad.yaml")


def test_reader_args_are_converted_to_the_signature_types() -> None:
    args = {"image_exts": [".png"], "depth_dir": "d"}
    assert validate_reader_args(folder_reader, args) == {"image_exts": (".png",), "depth_dir": "d"}
    assert validate_reader_args(synthetic_reader, {"num_train": "6", "size": [8, 8]}) == {
        "num_train": 6,
        "size": (8, 8),
    }
    assert validate_reader_args(folder_reader, None) == {}


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ({"size": [48]}, r"data\.args\.size: expected tuple\[int, int\], got \[48\]"),
        (
            {"image_exts": ".png"},
            r"data\.args\.image_exts: expected tuple\[str, \.\.\.\], got '\.png'",
        ),
        ({"image_dirr": "x"}, r"data\.args: Unknown key 'image_dirr'"),
    ],
)
def test_bad_reader_args_name_the_key(args: dict[str, object], match: str) -> None:
    reader = synthetic_reader if "size" in args else folder_reader
    with pytest.raises(ConfigError, match=match):
        validate_reader_args(reader, args)


def test_loader_checks_arg_types_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"data\.args\.num_val: expected int, got 2\.5"):
        read_samples("synthetic", "depth", tmp_path, "train", args={"num_val": 2.5})
    assert not any(tmp_path.iterdir())  # failed before generating anything


def test_synthetic_readers_share_the_generator_defaults() -> None:
    from densepred.data import classification, paired, segmentation

    defaults = {
        "num_train": DEFAULT_NUM_TRAIN,
        "num_val": DEFAULT_NUM_VAL,
        "size": DEFAULT_SIZE,
        "seed": DEFAULT_SEED,
        "object_distance": DEFAULT_OBJECT_DISTANCE,
    }
    for reader in (
        synthetic_reader,
        segmentation.synthetic_reader,
        classification.synthetic_reader,
        paired.synthetic_pairs,
    ):
        params = inspect.signature(reader).parameters
        assert {name: params[name].default for name in defaults} == defaults


class _CountBatches(L.LightningModule):
    """A stand-in model: counts the batches Lightning's validate / test loops give it."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self.seen += len(batch["path"])

    test_step = validation_step


@pytest.mark.parametrize(
    ("split_key", "stage"), [("val_split", "validate"), ("test_split", "test")]
)
def test_a_dataset_with_only_the_evaluated_split_works(
    tmp_path: Path, pair_writer: Callable[..., None], split_key: str, stage: str
) -> None:
    """Like ../shared/real_rgbd_dev: MAI layout with a val/ folder and no train/ (issue 17)."""
    for i in range(3):
        pair_writer(tmp_path / f"val/rgb/{i}.png", tmp_path / f"val/depth/{i}.png", seed=i)
    keys = {"format": "mai", "root": str(tmp_path), "num_workers": 0, "image_size": [16, 20]}
    module = DepthDataModule(DepthDataConfig.model_validate({**keys, split_key: "val"}))
    model = _CountBatches()
    trainer = L.Trainer(logger=False, enable_progress_bar=False, default_root_dir=tmp_path)
    getattr(trainer, stage)(model, datamodule=module, verbose=False)
    assert model.seen == 3
    assert module.preflight(roles=("val", "test")) == 3
    with pytest.raises(DataError, match=r"train' does not exist"):
        module.setup("fit")  # training does need the training split


def test_random_crop_without_image_size_fails_at_load() -> None:
    raw = {
        "task": {"name": "depth"},
        "data": {"image_size": None, "augment": {"crop_scale": [0.5, 1.0]}},
    }
    with pytest.raises(ConfigError, match=r"crop_scale \[0\.5, 1\.0\].*data\.image_size"):
        config_from_dict(raw, source="crop.yaml")


def test_unknown_check_mode_fails_at_load() -> None:
    raw = {"task": {"name": "depth"}, "data": {"check": "thorough"}}
    with pytest.raises(ConfigError, match="data.check"):
        config_from_dict(raw, source="check.yaml")


def test_yaml_off_is_check_off() -> None:
    """``data.check: off`` in a YAML file (read as false) and the override ``data.check=off``
    select the mode ``off``."""
    raw = yaml.safe_load("task: {name: depth}\ndata: {check: off}")
    assert config_from_dict(raw, source="off.yaml").data.check == "off"
    raw = apply_overrides({"task": {"name": "depth"}}, ["data.check=off"])
    assert config_from_dict(raw, source="override").data.check == "off"
