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

import numpy as np
import torch

from densepred.config import Config
from densepred.errors import ConfigError
from densepred.metrics.depth import DepthMetrics, depth_valid_mask
from densepred.registry import Registry

BASELINES: Registry[Callable[[Config], dict[str, float]]] = Registry("baseline")


def _datamodule(config: Config) -> Any:
    """The task's data module for ``config``, set up for fitting (train and val loaders)."""
    from densepred.tasks import TASKS

    datamodule = TASKS.get(config.task_name).datamodule_cls(config.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
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
    datamodule = _datamodule(config)
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


def _val_counts(config: Config, key: str, ignore: int | None) -> np.ndarray:
    """Per-class counts of ``batch[key]`` values over the validation loader (``ignore`` skipped)."""
    num_classes = len(config.data.classes)
    counts = np.zeros(num_classes, dtype=np.int64)
    for batch in _datamodule(config).val_dataloader():
        values = batch[key].reshape(-1)
        if ignore is not None:
            values = values[values != ignore]
        counts += np.bincount(values.numpy(), minlength=num_classes)
    return counts


@BASELINES.register("segmentation")
def majority_pixel_baseline(config: Config) -> dict[str, float]:
    """``val/miou`` and ``val/pixel_acc`` of the validation set's majority class everywhere."""
    from densepred.tasks.segmentation import majority_baseline

    counts = _val_counts(config, "mask", config.data.ignore_index)
    majority = int(counts.argmax())
    scores = majority_baseline(counts)
    return {
        "majority_class": majority,
        "majority_share": float(counts[majority] / counts.sum()),
        **{f"val/{k}": v for k, v in scores.items()},
    }


@BASELINES.register("classification")
def majority_label_baseline(config: Config) -> dict[str, float]:
    """``val/acc1`` of predicting the validation set's majority label for every image."""
    from densepred.tasks.classification import majority_baseline

    counts = _val_counts(config, "label", None)
    return {
        "majority_class": int(counts.argmax()),
        **{f"val/{k}": v for k, v in majority_baseline(counts).items()},
    }


def run_baseline(config: Config) -> dict[str, float]:
    """The baseline of ``config``'s task (see :data:`BASELINES`; none for GAN configs)."""
    return BASELINES.get(config.task_name)(config)
