"""What the data sections share: ``data.args`` checked against the reader (names and types)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from densepred.config import config_from_dict
from densepred.data.depth import folder_reader, synthetic_reader
from densepred.data.layout import read_samples, validate_reader_args
from densepred.data.synthetic import (
    DEFAULT_NUM_TRAIN,
    DEFAULT_NUM_VAL,
    DEFAULT_OBJECT_DISTANCE,
    DEFAULT_SEED,
    DEFAULT_SIZE,
)
from densepred.errors import ConfigError


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
