"""Shared fixtures: tiny data and fast settings so end-to-end runs finish in seconds on CPU."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

torch.set_num_threads(1)  # 2 threads on a busy 2-core CI box is slower, not faster

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def tiny_overrides(tmp_path: Path, max_steps: int = 2) -> list[str]:
    """Dotted overrides that shrink any shipped config to a few steps on tiny synthetic data."""
    return [
        f"output_dir={tmp_path / 'runs'}",
        f"data.root={tmp_path / 'data'}",
        "data.args={num_train: 6, num_val: 4, size: [48, 64], seed: 0}",
        "data.image_size=[32, 48]",
        "data.batch_size=2",
        "data.num_workers=0",
        f"trainer.max_steps={max_steps}",
        "trainer.max_epochs=1",
        "trainer.limit_val_batches=2",
        "trainer.enable_progress_bar=false",
        "trainer.enable_model_summary=false",
        "trainer.accelerator=cpu",
    ]


@pytest.fixture
def tiny(tmp_path: Path) -> list[str]:
    """Overrides for a two-step run on tiny synthetic data in ``tmp_path``."""
    return tiny_overrides(tmp_path)


@pytest.fixture(scope="session")
def make_tiny():
    """The :func:`tiny_overrides` function, for tests that need other step counts or folders."""
    return tiny_overrides


@pytest.fixture
def void_mask() -> torch.Tensor:
    """A 2x8x10 mask of classes 0..2 whose first three rows are void (255)."""
    torch.manual_seed(0)
    mask = torch.randint(0, 3, (2, 8, 10))
    mask[:, :3] = 255
    return mask


def _strict_json(text: str) -> Any:
    """``text`` parsed as standard JSON: the tokens NaN, Infinity and -Infinity are errors."""

    def refuse(token: str) -> None:
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="session")
def strict_json() -> Callable[[str], Any]:
    """A JSON parser that rejects NaN and Infinity, as standard JSON readers do."""
    return _strict_json


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory: pytest.TempPathFactory, make_tiny) -> Path:
    """A tiny checkpoint of the main config trained through the densepred train command (one
    full epoch of 3 steps, so that validation runs and best.ckpt exists), at 64x80; shared by the
    export and model-folder tests."""
    from densepred.cli.main import main

    tmp = tmp_path_factory.mktemp("export_ckpt")
    overrides = [*make_tiny(tmp, max_steps=3), "data.image_size=[64, 80]"]
    assert main(["train", str(CONFIGS / "depth_mbv3_unet.yaml"), *overrides]) == 0
    return tmp / "runs" / "depth_mbv3_unet" / "checkpoints" / "best.ckpt"
