"""The ``task`` section fields every task shares: schedule, checkpoint monitor, optimizer, losses.

The four task configs extend these bases instead of repeating the fields; a subclass redeclares
a field only to change its default (e.g. ``monitor``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from densepred.core.registry import Registry
from densepred.core.schema import StrictModel
from densepred.losses.weighted import check_loss_args, check_loss_names
from densepred.tasks.optim import OptimizerConfig, SchedulerConfig


class TaskConfig(StrictModel):
    """Fields of every ``task`` section.

    Attributes:
        scheduler: Learning-rate schedule.
        monitor: Metric that selects the best checkpoint (``null``: keep the latest one).
        monitor_mode: ``min`` or ``max`` for ``monitor``.
    """

    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    monitor: str | None = "val/loss"
    monitor_mode: Literal["min", "max"] = "min"


class OptimizedTaskConfig(TaskConfig):
    """A task trained by one optimizer.

    Attributes:
        optimizer: Optimizer settings.
    """

    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)


class LossTaskConfig(OptimizedTaskConfig):
    """A task trained on a weighted sum of named losses from ``loss_registry``.

    Attributes:
        losses: Loss name -> weight.
        loss_args: Loss name -> options of its builder (only for losses in ``losses``).
        num_samples: Validation samples drawn in the prediction PNG.
    """

    loss_registry: ClassVar[Registry]
    losses: dict[str, float]
    loss_args: dict[str, dict[str, Any]] = Field(default_factory=dict)
    num_samples: int = Field(4, ge=0)

    @field_validator("losses")
    @classmethod
    def _known_losses(cls, losses: dict[str, float]) -> dict[str, float]:
        return check_loss_names(losses, cls.loss_registry)

    @field_validator("loss_args")
    @classmethod
    def _used_losses(cls, loss_args: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if "losses" not in info.data:  # losses failed its own check; report that one only
            return loss_args
        return check_loss_args(loss_args, info.data["losses"])
