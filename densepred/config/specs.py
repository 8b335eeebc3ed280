"""Task specs: ``task.name`` -> the section classes of that task (the first pass needs no task class).

A task is three things: its sections here (a :class:`TaskSpec` registered in :data:`TASK_SPECS`),
its LightningModule in :mod:`densepred.tasks` (whose ``spec`` attribute is the spec) and its line
in :data:`densepred.app.tasks.TASKS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic

from densepred.config.data import (
    ClassificationDataConfig,
    DepthDataConfig,
    PairedDataConfig,
    SegmentationDataConfig,
)
from densepred.config.model import ClassifierConfig, DenseModelConfig, GANModelConfig
from densepred.config.run import D, M, T
from densepred.config.task import (
    ClassificationTaskConfig,
    DepthTaskConfig,
    GANTaskConfig,
    SegmentationTaskConfig,
)
from densepred.core.registry import Registry


@dataclass(frozen=True)
class TaskSpec(Generic[M, D, T]):
    """The config sections of one task.

    Attributes:
        name: The ``task.name`` value.
        model: Class of the ``model`` section.
        data: Class of the ``data`` section.
        task: Class of the ``task`` section (without ``name``).
        head: Name of the head in ``densepred.decoders.heads.HEADS`` the task's dense network ends
            in (``model.head_args`` are checked against it), ``None`` for networks without one.
    """

    name: str
    model: type[M]
    data: type[D]
    task: type[T]
    head: str | None = None


TASK_SPECS: Registry[TaskSpec] = Registry("task")

DEPTH = TASK_SPECS.add(
    "depth", TaskSpec("depth", DenseModelConfig, DepthDataConfig, DepthTaskConfig, head="depth")
)
SEGMENTATION = TASK_SPECS.add(
    "segmentation",
    TaskSpec(
        "segmentation",
        DenseModelConfig,
        SegmentationDataConfig,
        SegmentationTaskConfig,
        head="segmentation",
    ),
)
CLASSIFICATION = TASK_SPECS.add(
    "classification",
    TaskSpec(
        "classification", ClassifierConfig, ClassificationDataConfig, ClassificationTaskConfig
    ),
)
GAN = TASK_SPECS.add(
    "gan", TaskSpec("gan", GANModelConfig, PairedDataConfig, GANTaskConfig, head="image")
)
