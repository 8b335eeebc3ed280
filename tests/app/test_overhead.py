"""The framework-overhead benchmark: a plain loop per task that really trains, both sides timed."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import yaml

from densepred.app.config import load_config
from densepred.app.overhead import measure_overhead
from densepred.app.tasks import TASKS
from densepred.core.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _shipped_config(task: str) -> Path:
    """The first shipped config of ``task`` (every task ships one)."""
    for path in sorted(CONFIGS.glob("*.yaml")):
        if yaml.safe_load(path.read_text()).get("task", {}).get("name") == task:
            return path
    raise AssertionError(f"no shipped config of task '{task}'")


@pytest.mark.parametrize("task_name", TASKS.names())
def test_plain_step_updates_every_trained_network(
    task_name: str, tmp_path: Path, make_tiny: Callable[..., list[str]]
) -> None:
    config = load_config(_shipped_config(task_name), make_tiny(tmp_path))
    task_cls = TASKS.get(task_name)
    datamodule = task_cls.build_datamodule(config)
    datamodule.prepare_data()
    datamodule.setup("fit")
    task = task_cls(config)
    optimizers, _ = task.build_optimizers(10)
    before = [
        p.detach().clone() for opt in optimizers for g in opt.param_groups for p in g["params"]
    ]
    per_optimizer = [sum(len(g["params"]) for g in opt.param_groups) for opt in optimizers]
    task.plain_training_step(next(iter(datamodule.train_dataloader())), optimizers)
    after = [p.detach() for opt in optimizers for g in opt.param_groups for p in g["params"]]
    changed = [not torch.equal(a, b) for a, b in zip(before, after, strict=True)]
    start = 0
    for count in per_optimizer:  # each optimizer (the GAN's generator and discriminator) stepped
        assert any(changed[start : start + count])
        start += count


@pytest.mark.parametrize("task_name", TASKS.names())
def test_overhead_times_both_sides(
    task_name: str, tmp_path: Path, make_tiny: Callable[..., list[str]]
) -> None:
    config = load_config(_shipped_config(task_name), make_tiny(tmp_path))
    result = measure_overhead(config, steps=1, warmup=1, repeats=1)
    row = result.row()
    assert row["task"] == task_name
    assert result.plain_ms > 0 and result.densepred_ms > 0 and math.isfinite(row["overhead_pct"])
    assert not (tmp_path / "runs").exists()  # the densepred side wrote into a temporary folder


def test_a_run_longer_than_an_epoch_is_refused(
    tmp_path: Path, make_tiny: Callable[..., list[str]]
) -> None:
    config = load_config(CONFIGS / "depth_mbv3_unet.yaml", make_tiny(tmp_path))
    with pytest.raises(ConfigError, match="do not fit in one epoch of 3 batches"):
        measure_overhead(config, steps=3, warmup=1)
