"""Reference scores a depth model must beat: the constant mean-depth prediction."""

from __future__ import annotations

import torch

from densepred.config import Config
from densepred.errors import ConfigError
from densepred.metrics.depth import DepthMetrics, depth_valid_mask


@torch.no_grad()
def mean_depth_baseline(config: Config) -> dict[str, float]:
    """Validation metrics of predicting the training set's mean valid depth everywhere.

    A constant prediction has a scale-invariant error equal to the per-image standard deviation
    of log depth, so ``val/mai_si_rmse`` of this baseline is what "no depth cues learned" scores.

    Args:
        config: A depth config; its ``data`` and ``task`` sections select the data and depth range.
    """
    from densepred.tasks import TASKS

    if config.task_name != "depth":
        raise ConfigError(f"the mean-depth baseline needs a depth config, got task.name={config.task_name}.")
    task = config.task
    datamodule = TASKS.get("depth").datamodule_cls(config.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    total, count = 0.0, 0
    for batch in datamodule.train_dataloader():
        gt = batch["depth"]  # B,1,H,W
        valid = depth_valid_mask(gt, task.min_depth, task.max_depth)
        total += float(gt[valid].sum())
        count += int(valid.sum())
    if count == 0:
        raise ConfigError("the training split has no valid depth pixel; check data.depth_scale and the data.")
    mean = total / count
    metrics = DepthMetrics(min_depth=task.min_depth, max_depth=task.max_depth)
    for batch in datamodule.val_dataloader():
        metrics.update(torch.full_like(batch["depth"], mean), batch["depth"])
    return {"mean_depth_m": mean, **{f"val/{k}": float(v) for k, v in metrics.compute().items()}}
