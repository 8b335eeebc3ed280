"""Reference scores a model must beat: constant predictions, one per task (``BASELINES``).

- depth: the training set's mean valid depth everywhere;
- segmentation: the validation set's most frequent class everywhere;
- classification: the validation set's most frequent label for every image.

The two majority baselines pick the best constant on the very data they are scored on, so
they are upper bounds for any constant prediction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from densepred.data.classification import label_counts
from densepred.data.segmentation import pixel_counts
from densepred.errors import ConfigError
from densepred.metrics.classification import majority_baseline as majority_label
from densepred.metrics.depth import DepthMetrics, depth_valid_mask
from densepred.metrics.segmentation import majority_baseline as majority_class
from densepred.registry import Registry
from densepred.schema import Config
from densepred.task_registry import TASKS

BASELINES: Registry[Callable[[Config], dict[str, float]]] = Registry("baseline")


def _datamodule(config: Config, stage: str) -> Any:
    """The task's data module for ``config``, set up for ``stage`` (``fit``: train and val)."""
    datamodule = TASKS.get(config.task_name).build_datamodule(config)
    datamodule.prepare_data()
    datamodule.setup(stage)
    return datamodule


@BASELINES.register("depth")
@torch.no_grad()
def mean_depth_baseline(config: Config) -> dict[str, float]:
    """Validation metrics of predicting the training set's mean valid depth everywhere.

    A constant prediction has a scale-invariant error equal to the per-image standard deviation
    of log depth, so ``val/mai_si_rmse`` of this baseline is what "no depth cues learned" scores.

    Args:
        config: A depth config; its ``data`` and ``task`` sections select the data and depth range.
    """
    task = config.task
    datamodule = _datamodule(config, "fit")
    total, count = 0.0, 0
    for batch in datamodule.train_dataloader():
        gt = batch["depth"]  # B,1,H,W
        valid = depth_valid_mask(gt, task.min_depth, task.max_depth)
        total += float(gt[valid].sum())
        count += int(valid.sum())
    if count == 0:
        raise ConfigError(
            "the training split has no valid depth pixel; check data.depth_scale and the data."
        )
    mean = total / count
    metrics = DepthMetrics(min_depth=task.min_depth, max_depth=task.max_depth)
    for batch in datamodule.val_dataloader():
        metrics.update(torch.full_like(batch["depth"], mean), batch["depth"])
    return {"mean_depth_m": mean, **{f"val/{k}": float(v) for k, v in metrics.compute().items()}}


@BASELINES.register("segmentation")
def majority_pixel_baseline(config: Config) -> dict[str, float]:
    """``val/miou`` and ``val/pixel_acc`` of the validation set's majority class everywhere."""
    counts = pixel_counts(_datamodule(config, "validate").datasets["val"])
    majority = int(counts.argmax())
    scores = majority_class(counts)
    return {
        "majority_class": majority,
        "majority_share": float(counts[majority] / counts.sum()),
        **{f"val/{k}": v for k, v in scores.items()},
    }


@BASELINES.register("classification")
def majority_label_baseline(config: Config) -> dict[str, float]:
    """``val/acc1`` of predicting the validation set's majority label for every image."""
    samples = _datamodule(config, "validate").datasets["val"].samples  # labels: no image is read
    counts = label_counts(samples, len(config.data.classes))
    return {
        "majority_class": int(counts.argmax()),
        **{f"val/{k}": v for k, v in majority_label(counts).items()},
    }


def run_baseline(config: Config) -> dict[str, float]:
    """The baseline of ``config``'s task (see :data:`BASELINES`; none for GAN configs)."""
    return BASELINES.get(config.task_name)(config)
