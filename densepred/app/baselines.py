"""Reference scores a model must beat: constant predictions, one per task (``BASELINES``).

- depth: each image's own constant, the geometric mean of its valid ground truth
  (``exp(mean(log gt))``), which knows each image's true scale;
- segmentation: the validation set's most frequent class everywhere;
- classification: the validation set's most frequent label for every image.

Each reads only the split it scores (the test split when ``data.test_split`` is set for depth,
else the validation split), so it runs on evaluation-only datasets. The two majority baselines
pick the best constant on the very data they are scored on, so they are upper bounds for any
constant prediction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from densepred.app.tasks import TASKS
from densepred.core.errors import DataError
from densepred.core.registry import Registry
from densepred.core.schema import Config
from densepred.data.classification import label_counts
from densepred.data.segmentation import pixel_counts
from densepred.metrics.classification import majority_baseline as majority_label
from densepred.metrics.depth import DepthMetrics, depth_valid_mask
from densepred.metrics.segmentation import majority_baseline as majority_class

BASELINES: Registry[Callable[[Config], dict[str, float]]] = Registry("baseline")


def _datamodule(config: Config, stage: str) -> Any:
    """The task's data module for ``config``, set up for ``stage`` (``validate``, ``test``)."""
    datamodule = TASKS.get(config.task_name).build_datamodule(config)
    datamodule.prepare_data()
    datamodule.setup(stage)
    return datamodule


@BASELINES.register("depth")
@torch.no_grad()
def image_mean_depth_baseline(config: Config) -> dict[str, float]:
    """Metrics of predicting, for each image, the geometric mean of its valid ground truth.

    The constant ``exp(mean(log gt))`` over an image's valid pixels is the constant with the
    smallest log error on that image; it uses the image's true scale, which a monocular model
    must guess. Any constant has a scale-invariant error equal to the image's standard deviation
    of log depth, so ``mai_si_rmse`` is what "no depth cues learned" scores. Only the evaluated
    split is read (``data.test_split`` if set, else ``data.val_split``).

    Args:
        config: A depth config; its ``data`` and ``task`` sections select the data and depth range.

    Returns:
        ``<stage>/<metric>`` values and ``mean_image_depth_m``, the mean of the images' constants.
    """
    task, role = config.task, "test" if config.data.test_split else "val"
    datamodule = _datamodule(config, "test" if role == "test" else "validate")
    loader = datamodule.test_dataloader() if role == "test" else datamodule.val_dataloader()
    metrics = DepthMetrics(min_depth=task.min_depth, max_depth=task.max_depth)
    constants: list[float] = []
    for batch in loader:
        gt = batch["depth"]  # B,1,H,W
        valid = depth_valid_mask(gt, task.min_depth, task.max_depth)
        count = valid.sum(dim=(1, 2, 3))  # B
        log_sum = torch.where(valid, gt.clamp_min(task.min_depth).log(), 0.0).sum(dim=(1, 2, 3))
        constant = torch.exp(log_sum / count.clamp_min(1))  # B
        constants += constant[count > 0].tolist()
        metrics.update(constant.view(-1, 1, 1, 1).expand_as(gt), gt)
    if not constants:
        split = getattr(config.data, f"{role}_split")
        raise DataError(
            f"split '{split}' has no valid depth pixel (task.min_depth={task.min_depth} < depth < "
            f"task.max_depth={task.max_depth}); check data.depth_scale and the depth files."
        )
    return {
        "mean_image_depth_m": sum(constants) / len(constants),
        **{f"{role}/{k}": float(v) for k, v in metrics.compute().items()},
    }


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
