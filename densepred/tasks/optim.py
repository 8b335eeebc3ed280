"""Optimizer and learning-rate schedule settings shared by all tasks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import torch
from pydantic import Field

from densepred.schema import StrictModel

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adamw": torch.optim.AdamW,
    "adam": torch.optim.Adam,
    "sgd": torch.optim.SGD,
}


class OptimizerConfig(StrictModel):
    """``task.optimizer``: which optimizer and its settings."""

    name: Literal["adamw", "adam", "sgd"] = "adamw"
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = Field(0.9, ge=0)


class SchedulerConfig(StrictModel):
    """``task.scheduler``: learning-rate schedule, stepped every optimizer step.

    ``cosine`` decays to ``min_lr_ratio * lr`` after ``warmup_steps`` of linear warm-up;
    ``poly`` decays with ``(1 - t) ** power``; ``none`` keeps the rate constant.
    """

    name: Literal["none", "cosine", "poly"] = "cosine"
    warmup_steps: int = Field(0, ge=0)
    min_lr_ratio: float = Field(0.01, ge=0, le=1)
    power: float = Field(0.9, gt=0)


def build_optimizer(params: Iterable[torch.nn.Parameter], cfg: OptimizerConfig) -> torch.optim.Optimizer:
    """Create the optimizer named in ``cfg``."""
    kwargs: dict[str, Any] = {"lr": cfg.lr, "weight_decay": cfg.weight_decay}
    if cfg.name == "sgd":
        kwargs["momentum"] = cfg.momentum
    else:
        kwargs["betas"] = cfg.betas
    return OPTIMIZERS[cfg.name](params, **kwargs)


def lr_factor(step: int, total_steps: int, cfg: SchedulerConfig) -> float:
    """Multiplier of the base learning rate at optimizer step ``step`` of ``total_steps``."""
    if cfg.name == "none":
        return 1.0
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    span = max(1, total_steps - cfg.warmup_steps)
    t = min(1.0, (step - cfg.warmup_steps) / span)
    if cfg.name == "cosine":
        cos = 0.5 * (1.0 + torch.cos(torch.tensor(t * torch.pi)).item())
        return cfg.min_lr_ratio + (1.0 - cfg.min_lr_ratio) * cos
    return max(cfg.min_lr_ratio, (1.0 - t) ** cfg.power)


def build_scheduler(
    optimizer: torch.optim.Optimizer, total_steps: int, cfg: SchedulerConfig
) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step LambdaLR following :func:`lr_factor`."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, total_steps, cfg))
