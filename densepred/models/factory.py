"""Build the network of any config, whatever its task."""

from __future__ import annotations

from torch import nn

from densepred.config import Config


def build_model(config: Config) -> nn.Module:
    """The network that the config's task trains (for benchmarks and export)."""
    from densepred.tasks import TASKS

    return TASKS.get(config.task_name).task_cls(config.to_dict()).model
