"""Optimizer and learning-rate schedule settings shared by all tasks.

The optimizer comes from timm's factory (:func:`timm.optim.create_optimizer_v2`) over the parameter
groups of :func:`build_param_groups`: norm layers, biases and other 1-D parameters get no weight
decay, and the encoder's parameters may get a learning-rate multiplier.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from timm.optim import create_optimizer_v2
from torch import nn

from densepred.config.task import OptimizerConfig, SchedulerConfig
from densepred.core.errors import ConfigError

TIMM_OPTIMIZERS: dict[str, str] = {"adamw": "adamw", "adam": "adam", "sgd": "momentum"}
"""``task.optimizer.name`` -> timm optimizer name (timm's ``sgd`` is Nesterov; ``momentum`` is plain SGD)."""


def optimizer_step(loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
    """One plain optimizer step on ``loss`` (zero the gradients, backward, step)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def build_param_groups(
    module: nn.Module, cfg: OptimizerConfig, encoder: Iterable[nn.Parameter] = ()
) -> list[dict[str, Any]]:
    """The optimizer's parameter groups: weights with ``cfg.weight_decay``; norm weights, biases
    and other 1-D parameters (timm's rule) with none; the ``encoder`` parameters in groups of their
    own with learning rate ``cfg.lr * cfg.encoder_lr_mult``.

    The one place parameter groups are made. Parameters without ``requires_grad`` are left out,
    except the encoder's: a frozen encoder stays in the optimizer, where it gets no gradient, so
    no update and no weight decay, until it is unfrozen at an epoch. Each group
    has a ``name`` (``encoder``, ``encoder_no_decay``, ``rest``, ``rest_no_decay``); empty groups
    are left out.

    Args:
        module: The module whose parameters are optimized.
        cfg: Optimizer settings.
        encoder: The parameters of ``module`` that form its encoder.
    """
    encoder_ids = {id(p) for p in encoder}
    groups: dict[str, dict[str, Any]] = {}
    for name, param in module.named_parameters():
        part = "encoder" if id(param) in encoder_ids else "rest"
        if part == "rest" and not param.requires_grad:
            continue
        no_decay = param.ndim <= 1 or name.endswith(".bias")
        key = f"{part}_no_decay" if no_decay else part
        group = groups.setdefault(
            key,
            {
                "name": key,
                "params": [],
                "weight_decay": 0.0 if no_decay else cfg.weight_decay,
                "lr": cfg.lr * (cfg.encoder_lr_mult if part == "encoder" else 1.0),
            },
        )
        group["params"].append(param)
    return list(groups.values())


def build_optimizer(
    module: nn.Module, cfg: OptimizerConfig, encoder: Iterable[nn.Parameter] = ()
) -> torch.optim.Optimizer:
    """Create the optimizer named in ``cfg`` for the parameters of ``module``.

    Args:
        module: The module whose parameters are optimized.
        cfg: Optimizer settings.
        encoder: The encoder's parameters (:func:`build_param_groups`).

    Raises:
        ConfigError: ``encoder_lr_mult`` is set but ``module`` has no encoder parameters.
    """
    encoder = list(encoder)
    if cfg.encoder_lr_mult != 1.0 and not encoder:
        raise ConfigError(
            f"task.optimizer.encoder_lr_mult={cfg.encoder_lr_mult} but {type(module).__name__} "
            "has no encoder to apply it to; remove the key."
        )
    kwargs: dict[str, Any] = (
        {"momentum": cfg.momentum} if cfg.name == "sgd" else {"betas": cfg.betas}
    )
    return create_optimizer_v2(
        build_param_groups(module, cfg, encoder),
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
        cos = 0.5 * (1.0 + math.cos(t * math.pi))
        return cfg.min_lr_ratio + (1.0 - cfg.min_lr_ratio) * cos
    return max(cfg.min_lr_ratio, (1.0 - t) ** cfg.power)


def build_scheduler(
    optimizer: torch.optim.Optimizer, total_steps: int, cfg: SchedulerConfig
) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step LambdaLR following :func:`lr_factor`."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, total_steps, cfg)
    )
