"""Learning-rate schedules and optimizer selection."""

from __future__ import annotations

import math

import pytest
import torch

from densepred.config.task import OptimizerConfig, SchedulerConfig
from densepred.tasks.optim import build_optimizer, lr_factor


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
    layer = torch.nn.Linear(3, 1, bias=False)
    torch.nn.init.ones_(layer.weight)
    opt = build_optimizer(layer, OptimizerConfig(name=name, lr=0.5, weight_decay=0.0))
    assert all(group["lr"] == 0.5 for group in opt.param_groups)
    layer(torch.ones(2, 3)).sum().backward()
    opt.step()
    assert not math.isclose(layer.weight[0, 0].item(), 1.0)


def test_sgd_is_plain_momentum_sgd() -> None:
    opt = build_optimizer(torch.nn.Linear(2, 2), OptimizerConfig(name="sgd", momentum=0.8))
    assert isinstance(opt, torch.optim.SGD)
    assert all(g["momentum"] == 0.8 and not g["nesterov"] for g in opt.param_groups)


def test_norm_layers_and_biases_get_no_weight_decay() -> None:
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.Conv2d(8, 4, 1, bias=True)
    )
    model[2].weight.requires_grad_(False)  # frozen parameters are not optimized
    opt = build_optimizer(model, OptimizerConfig(weight_decay=0.05))
    decay = {id(p): g["weight_decay"] for g in opt.param_groups for p in g["params"]}
    assert decay == {
        id(model[0].weight): 0.05,
        id(model[0].bias): 0.0,
        id(model[1].weight): 0.0,
        id(model[1].bias): 0.0,
        id(model[2].bias): 0.0,
    }
