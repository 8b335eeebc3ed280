"""Tiny depth models and data for export tests: 64x80 networks on a few synthetic images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from densepred.app.config import config_from_dict
from densepred.app.tasks import TASKS
from densepred.config.loader import apply_overrides, read_yaml
from densepred.config.run import Config
from densepred.tasks import BaseTask

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
MAIN = CONFIGS / "depth_mbv3_unet.yaml"
SIZE = (64, 80)


def tiny_data(root: Path) -> list[str]:
    """Overrides for four tiny synthetic images per split, fed at 64x80."""
    return [
        f"data.root={root}",
        "data.args={num_train: 4, num_val: 4, size: [96, 128], seed: 0}",
        f"data.image_size=[{SIZE[0]}, {SIZE[1]}]",
        "data.num_workers=0",
    ]


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One synthetic data folder shared by the session's export tests."""
    return tmp_path_factory.mktemp("export_data")


@pytest.fixture(scope="session")
def tiny_config(data_root: Path) -> Callable[[list[str]], Config]:
    """``tiny_config(overrides)``: the main config on tiny data, with more overrides."""

    def load(overrides: list[str]) -> Config:
        raw = apply_overrides(read_yaml(MAIN), [*tiny_data(data_root), *overrides])
        return config_from_dict(raw, source=str(MAIN))

    return load


@pytest.fixture(scope="session")
def build_task(tiny_config) -> Callable[[list[str]], BaseTask]:
    """``build_task(overrides)``: the main config's task with fresh weights on tiny data."""

    def build(overrides: list[str]) -> BaseTask:
        config = tiny_config(overrides)
        return TASKS.get(config.task_name)(config).eval()

    return build
