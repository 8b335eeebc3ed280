"""Optimizer and learning-rate schedule settings shared by all tasks.

The optimizer comes from timm's factory (:func:`timm.optim.create_optimizer_v2`) over the parameter
groups of :func:`build_param_groups`: norm layers, biases and other 1-D parameters get no weight
decay.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import Field
from timm.optim import create_optimizer_v2, param_groups_weight_decay
from torch import nn

from densepred.schema import StrictModel

TIMM_OPTIMIZERS: dict[str, str] = {"adamw": "adamw", "adam": "adam", "sgd": "momentum"}
"""``task.optimizer.name`` -> timm optimizer name (timm's ``sgd`` is Nesterov; ``momentum`` is plain SGD)."""


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


def build_param_groups(module: nn.Module, cfg: OptimizerConfig) -> list[dict[str, Any]]:
    """The optimizer's parameter groups: trainable parameters with ``cfg.weight_decay``, and
    norm weights, biases and other 1-D parameters with none.

    The one place parameter groups are made: per-group options (e.g. a learning-rate multiplier
    for the encoder) belong here.

    Args:
        module: The module whose trainable parameters are optimized.
        cfg: Optimizer settings.
    """
    return param_groups_weight_decay(module, weight_decay=cfg.weight_decay)


def build_optimizer(module: nn.Module, cfg: OptimizerConfig) -> torch.optim.Optimizer:
    """Create the optimizer named in ``cfg`` for the trainable parameters of ``module``."""
    kwargs: dict[str, Any] = {"momentum": cfg.momentum} if cfg.name == "sgd" else {"betas": cfg.betas}
    return create_optimizer_v2(
        build_param_groups(module, cfg),
        opt=TIMM_OPTIMIZERS[cfg.name],
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        **kwargs,
    )


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
