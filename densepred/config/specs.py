"""Task specs: ``task.name`` -> the section classes of that task (the first pass needs no task class).

A task is two things: its sections and its registration here (a :class:`TaskSpec` in
:data:`TASK_SPECS`, which names the task class by its import path, as an entry point does), and
its LightningModule (whose ``spec`` attribute is the spec). :data:`densepred.app.tasks.TASKS`
imports the classes the specs name.
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
        implementation: The task class, ``"package.module:Class"``.
        head: Name of the head in ``densepred.decoders.heads.HEADS`` the task's dense network ends
            in (``model.head_args`` are checked against it), ``None`` for networks without one.
    """

    name: str
    model: type[M]
    data: type[D]
    task: type[T]
    implementation: str
    head: str | None = None


TASK_SPECS: Registry[TaskSpec] = Registry("task")

DEPTH = TASK_SPECS.add(
    "depth",
    TaskSpec(
        "depth",
        DenseModelConfig,
        DepthDataConfig,
        DepthTaskConfig,
        "densepred.tasks.depth:DepthTask",
        head="depth",
    ),
)
SEGMENTATION = TASK_SPECS.add(
    "segmentation",
    TaskSpec(
        "segmentation",
        DenseModelConfig,
        SegmentationDataConfig,
        SegmentationTaskConfig,
        "densepred.tasks.segmentation:SegmentationTask",
        head="segmentation",
    ),
)
CLASSIFICATION = TASK_SPECS.add(
    "classification",
    TaskSpec(
        "classification",
        ClassifierConfig,
        ClassificationDataConfig,
        ClassificationTaskConfig,
        "densepred.tasks.classification:ClassificationTask",
    ),
)
GAN = TASK_SPECS.add(
    "gan",
    TaskSpec(
        "gan",
        GANModelConfig,
        PairedDataConfig,
        GANTaskConfig,
        "densepred.tasks.gan:GANTask",
        head="image",
    ),
)
