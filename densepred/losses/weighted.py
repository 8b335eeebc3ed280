"""The one loss combiner of every task: named losses, each with a weight, summed.

``task.losses`` (loss name -> weight) and ``task.loss_args`` (loss name -> options) select and
configure the losses of a task's registry; :func:`check_loss_names` and :func:`check_loss_args`
validate both at load time (see :class:`densepred.config.task.LossTaskConfig`).
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn

from densepred.core.errors import ConfigError
from densepred.core.registry import Registry


def check_loss_names(losses: Mapping[str, float], registry: Registry) -> dict[str, float]:
    """Validate ``task.losses`` (loss name -> weight): at least one loss, every name in ``registry``."""
    if not losses:
        raise ConfigError(
            f"task.losses is empty; name at least one loss, e.g. {{{registry.names()[0]}: 1.0}}."
        )
    for name in losses:
        registry.get(name)
    return dict(losses)


class WeightedLoss(nn.Module):
    """``sum(weight[name] * loss[name](*inputs))`` over named losses.

    Subclasses prepare a task's inputs (valid masks, target shapes) and call ``super().forward``.

    Args:
        losses: Loss name -> module called as ``loss(*inputs) -> scalar``.
        weights: Loss name -> weight (same names as ``losses``).
    """

    def __init__(self, losses: Mapping[str, nn.Module], weights: Mapping[str, float]) -> None:
        super().__init__()
        if not losses:
            raise ConfigError("task.losses is empty; name at least one loss.")
        if set(losses) != set(weights):
            raise ValueError(f"losses {sorted(losses)} and weights {sorted(weights)} name different losses")
        self.weights = dict(weights)
        self.parts = nn.ModuleDict(dict(losses))

    def forward(self, *inputs: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Return the weighted total and each loss's unweighted value."""
        parts = {name: loss(*inputs) for name, loss in self.parts.items()}
        total = sum(self.weights[name] * value for name, value in parts.items())
        return total, parts  # type: ignore[return-value]
