"""LightningModules of every mode; importing this package registers them in ``TASKS``."""

from densepred.tasks import classification, depth, gan, segmentation  # noqa: F401  (registration)
from densepred.tasks.base import BaseTask, NonFiniteLossError
from densepred.tasks.spec import TASKS, TaskSpec

__all__ = ["TASKS", "BaseTask", "NonFiniteLossError", "TaskSpec"]
