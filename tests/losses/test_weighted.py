"""WeightedLoss: the one combiner of named losses, and the load-time checks of loss settings."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from densepred.config.task import check_loss_args
from densepred.core.errors import ConfigError
from densepred.losses.depth import DEPTH_LOSSES
from densepred.losses.weighted import WeightedLoss, check_loss_names


class Scaled(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.factor * x.sum()


def test_total_is_the_weighted_sum_and_parts_are_unweighted() -> None:
    loss = WeightedLoss({"a": Scaled(1.0), "b": Scaled(3.0)}, {"a": 2.0, "b": 0.5})
    total, parts = loss(torch.ones(4))
    assert parts == {"a": pytest.approx(4.0), "b": pytest.approx(12.0)}
    assert total.item() == pytest.approx(2.0 * 4.0 + 0.5 * 12.0)


def test_weights_must_name_the_losses() -> None:
    with pytest.raises(ValueError, match="name different losses"):
        WeightedLoss({"a": Scaled(1.0)}, {"b": 1.0})
    with pytest.raises(ConfigError, match="task.losses is empty"):
        WeightedLoss({}, {})


def test_loss_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'silog'"):
        check_loss_names({"silg": 1.0}, DEPTH_LOSSES)
    with pytest.raises(ConfigError, match="task.losses is empty"):
        check_loss_names({}, DEPTH_LOSSES)
    with pytest.raises(ConfigError, match=r"task.loss_args.sliog: .*Did you mean 'silog'"):
        check_loss_args({"sliog": {}}, {"silog": 1.0})
    assert check_loss_args({"silog": {"lambd": 0.5}}, {"silog": 1.0}) == {"silog": {"lambd": 0.5}}
