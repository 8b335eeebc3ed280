"""Tiny tasks of every registered task name, saved as model folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from densepred.app.config import config_from_dict
from densepred.app.tasks import TASKS
from densepred.tasks import BaseTask

ENCODER = "mobilenet_v3_small"

CASES: dict[str, dict[str, Any]] = {
    "depth": {
        "task": {"name": "depth", "min_depth": 0.1, "max_depth": 8.0},
        "model": {"encoder": ENCODER, "decoder": "unet"},
        "data": {"image_size": [32, 48], "depth_scale": 256.0},
    },
    "depth-native-size": {
        "task": {"name": "depth"},
        "model": {"encoder": ENCODER, "decoder": "fastdepth"},
        "data": {"image_size": None},
    },
    "segmentation-smp": {
        "task": {"name": "segmentation"},
        "model": {"encoder": ENCODER, "decoder": "smp.Unet"},
        "data": {"image_size": [64, 64], "classes": ["a", "b", "c"]},
    },
    "classification": {
        "task": {"name": "classification"},
        "model": {"encoder": ENCODER},
        "data": {"image_size": [32, 32], "classes": ["x", "y"]},
    },
    "gan-pix2pix": {
        "task": {"name": "gan"},
        "model": {"encoder": ENCODER, "discriminator": "dcgan"},
        "data": {"condition": "mask", "target": "rgb", "image_size": [32, 32]},
    },
    "gan-dcgan": {
        "task": {"name": "gan", "monitor": None},
        "model": {"generator": "dcgan", "generator_args": {"base_channels": 8}},
        "data": {"condition": "none", "image_size": [32, 32]},
    },
}
"""A tiny config per case; every registered task name has at least one."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test taking ``case`` runs once per entry of :data:`CASES`."""
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", list(CASES))


@pytest.fixture(scope="session")
def cases() -> dict[str, dict[str, Any]]:
    return CASES


def build(raw: dict[str, Any]) -> BaseTask:
    """The task of a raw config with fresh weights, in eval mode."""
    config = config_from_dict(raw)
    return TASKS.get(config.task_name)(config).eval()


@pytest.fixture(scope="session")
def build_task() -> Callable[[dict[str, Any]], BaseTask]:
    return build


@pytest.fixture(scope="session")
def saved_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[BaseTask, Path]]:
    """Every case's task, saved with ``densepred.save_pretrained``."""
    from densepred import save_pretrained

    root = tmp_path_factory.mktemp("folders")
    out = {}
    for name, raw in CASES.items():
        task = build(raw)
        out[name] = (task, save_pretrained(task, root / name))
    return out
