"""Task-name dispatch: ``task.name`` -> the task class that owns its config sections.

This module sits above :mod:`densepred.tasks` (it imports every task to register it) and below
:mod:`densepred.app.config`, so tasks never import the config loader. A task class carries its
section schemas and data module as class attributes (see :class:`densepred.tasks.base.BaseTask`).
"""

from __future__ import annotations

from torch import nn

from densepred.core.registry import Registry
from densepred.core.schema import Config
from densepred.tasks.base import BaseTask
from densepred.tasks.classification import ClassificationTask
from densepred.tasks.depth import DepthTask
from densepred.tasks.gan import GANTask
from densepred.tasks.segmentation import SegmentationTask

TASKS: Registry[type[BaseTask]] = Registry("task")

TASKS.add("depth", DepthTask)
TASKS.add("segmentation", SegmentationTask)
TASKS.add("classification", ClassificationTask)
TASKS.add("gan", GANTask)


def build_model(config: Config) -> nn.Module:
    """The network that the config's task trains (for benchmarks and export)."""
    return TASKS.get(config.task_name)(config).model
