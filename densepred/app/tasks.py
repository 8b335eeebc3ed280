"""Task-name dispatch: ``task.name`` -> the task class (a LightningModule that knows its task).

The classes are the ones :data:`densepred.config.specs.TASK_SPECS` names by import path; adding a
task needs no line here.
"""

from __future__ import annotations

import importlib

from torch import nn

from densepred.config.run import Config
from densepred.config.specs import TASK_SPECS, TaskSpec
from densepred.core.errors import ConfigError
from densepred.core.registry import Registry
from densepred.tasks.base import BaseTask


def task_class(spec: TaskSpec) -> type[BaseTask]:
    """Import the class ``spec.implementation`` names and check that it is that spec's task."""
    module, _, name = spec.implementation.partition(":")
    cls = getattr(importlib.import_module(module), name, None)
    if not (isinstance(cls, type) and issubclass(cls, BaseTask) and cls.spec is spec):
        raise ConfigError(
            f"task '{spec.name}': '{spec.implementation}' is not a BaseTask whose spec is this one."
        )
    return cls


TASKS: Registry[type[BaseTask]] = Registry("task")
for _name in TASK_SPECS.names():
    TASKS.add(_name, task_class(TASK_SPECS.get(_name)))


def build_model(config: Config) -> nn.Module:
    """The network that the config's task trains (for benchmarks and export)."""
    return TASKS.get(config.task_name)(config).model


def run_baseline(config: Config) -> dict[str, float]:
    """Metrics of the constant prediction of ``config``'s task (:meth:`BaseTask.baseline`)."""
    return TASKS.get(config.task_name).baseline(config)
