"""Learning-rate schedules and optimizer selection."""

from __future__ import annotations

import math

import pytest
import torch

from densepred.tasks.optim import OptimizerConfig, SchedulerConfig, build_optimizer, lr_factor


def test_cosine_with_warmup_shape() -> None:
    cfg = SchedulerConfig(name="cosine", warmup_steps=10, min_lr_ratio=0.1)
    assert lr_factor(0, 110, cfg) == pytest.approx(0.1)
    assert lr_factor(9, 110, cfg) == pytest.approx(1.0)
    assert lr_factor(10, 110, cfg) == pytest.approx(1.0)
    assert lr_factor(60, 110, cfg) == pytest.approx(0.1 + 0.9 * 0.5)
    assert lr_factor(110, 110, cfg) == pytest.approx(0.1)


def test_poly_and_none() -> None:
    poly = SchedulerConfig(name="poly", power=2.0, min_lr_ratio=0.0)
    assert lr_factor(50, 100, poly) == pytest.approx(0.25)
    assert lr_factor(77, 100, SchedulerConfig(name="none")) == 1.0


@pytest.mark.parametrize("name", ["adamw", "adam", "sgd"])
def test_build_optimizer(name: str) -> None:
    p = torch.nn.Parameter(torch.ones(3))
    opt = build_optimizer([p], OptimizerConfig(name=name, lr=0.5, weight_decay=0.0))
    assert opt.param_groups[0]["lr"] == 0.5
    p.grad = torch.ones(3)
    opt.step()
    assert not math.isclose(float(p[0]), 1.0)
