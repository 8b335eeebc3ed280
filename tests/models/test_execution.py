"""model.channels_last and model.compile: how the network runs, not what it computes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn

from densepred.app.config import load_config
from densepred.app.tasks import TASKS
from densepred.app.train import run_training
from densepred.config.model import ExecutionConfig
from densepred.models.execution import compile_for_training

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
MAIN = CONFIGS / "depth_mbv3_unet.yaml"


@pytest.mark.parametrize("task_name", TASKS.names())
def test_every_task_model_section_has_the_execution_keys(task_name: str) -> None:
    assert issubclass(TASKS.get(task_name).spec.model, ExecutionConfig)


def test_channels_last_trains_and_keeps_the_weights_nhwc(
    tmp_path: Path, make_tiny: Callable[..., list[str]]
) -> None:
    config = load_config(MAIN, [*make_tiny(tmp_path), "model.channels_last=true"])
    task = TASKS.get("depth")(config)
    convs = [m for m in task.model.modules() if isinstance(m, nn.Conv2d)]
    assert all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convs)
    result = run_training(config)
    assert json.loads((result.run_dir / "metrics.json").read_text())["global_step"] == 2


@pytest.mark.slow
def test_compile_keeps_outputs_and_checkpoint_keys() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU()).eval()
    x = torch.randn(1, 3, 16, 16)
    eager, keys = model(x), list(model.state_dict())
    compile_for_training(model, ExecutionConfig(compile=True))
    torch.testing.assert_close(model(x), eager)
    assert list(model.state_dict()) == keys  # checkpoints load into an eager model
    compile_for_training(model, ExecutionConfig(compile=False))  # no-op
