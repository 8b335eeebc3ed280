"""Task-name dispatch: ``task.name`` -> the task class (a LightningModule that knows its task).

The config sections of each task are in :data:`densepred.config.specs.TASK_SPECS`; this registry
adds the classes, whose ``spec`` names them. Adding a task: its sections and spec
(:mod:`densepred.config`), its module in :mod:`densepred.tasks` and one line here.
"""

from __future__ import annotations

from torch import nn

from densepred.config.run import Config
from densepred.core.registry import Registry
from densepred.tasks.base import BaseTask
from densepred.tasks.classification import ClassificationTask
from densepred.tasks.depth import DepthTask
from densepred.tasks.gan import GANTask
from densepred.tasks.segmentation import SegmentationTask

TASKS: Registry[type[BaseTask]] = Registry("task")
for _task in (DepthTask, SegmentationTask, ClassificationTask, GANTask):
    TASKS.add(_task.spec.name, _task)


def build_model(config: Config) -> nn.Module:
    """The network that the config's task trains (for benchmarks and export)."""
    return TASKS.get(config.task_name)(config).model


def run_baseline(config: Config) -> dict[str, float]:
    """Metrics of the constant prediction of ``config``'s task (:meth:`BaseTask.baseline`)."""
    return TASKS.get(config.task_name).baseline(config)
