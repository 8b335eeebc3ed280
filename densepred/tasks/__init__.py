"""LightningModules of every mode; the name -> class dispatch is :mod:`densepred.app.tasks`."""

from densepred.tasks.base import BaseTask, NonFiniteLossError
from densepred.tasks.classification import ClassificationTask
from densepred.tasks.depth import DepthTask
from densepred.tasks.gan import GANTask
from densepred.tasks.segmentation import SegmentationTask

__all__ = [
    "BaseTask",
    "ClassificationTask",
    "DepthTask",
    "GANTask",
    "NonFiniteLossError",
    "SegmentationTask",
]
