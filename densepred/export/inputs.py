"""Real inputs for checks: validation and calibration images of a config's data, as the exported
graph takes them, and a task's validation metrics computed from any runtime's outputs."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from densepred.app.config import config_from_dict
from densepred.app.tasks import TASKS
from densepred.config.run import Config
from densepred.core.errors import ConfigError
from densepred.data.io import read_image
from densepred.tasks import BaseTask


@dataclass(frozen=True)
class Layout:
    """How the exported graph takes and gives tensors.

    Attributes:
        nhwc: Channels-last input (and dense outputs).
        raw_rgb_size: ``(H, W)`` for the MAI contract's un-normalised 0..255 RGB input, else
            ``None`` (normalised image at the network's size).
        depth_scale: Units per metre of a depth output (1 for metres), ``None`` for other tasks.
    """

    nhwc: bool = False
    raw_rgb_size: tuple[int, int] | None = None
    depth_scale: float | None = None

    def model_input(self, batch: dict[str, Any]) -> np.ndarray:
        """The graph's ``float32`` input for a one-image batch of the data module."""
        if self.raw_rgb_size is not None:
            height, width = self.raw_rgb_size
            rgb = read_image(batch["path"][0])
            rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_LINEAR)
            return rgb.astype(np.float32)[None]  # 1 x H x W x 3, 0..255
        image = batch["image"].numpy().astype(np.float32)  # 1 x 3 x h x w, normalised
        return np.ascontiguousarray(image.transpose(0, 2, 3, 1)) if self.nhwc else image

    def noise_input(self, like: np.ndarray, seed: int = 0) -> np.ndarray:
        """A random input of the graph's shape (0..255 for raw RGB, standard normal otherwise)."""
        rng = np.random.default_rng(seed)
        if self.raw_rgb_size is not None:
            return rng.uniform(0, 255, like.shape).astype(np.float32)
        return rng.standard_normal(like.shape).astype(np.float32)

    def prediction(self, output: np.ndarray, target: torch.Tensor) -> torch.Tensor:
        """The task's prediction tensor (NCHW, metres for depth, target size) from a graph output."""
        pred = torch.from_numpy(np.asarray(output, dtype=np.float32))
        if pred.dim() == 4 and (self.nhwc or self.raw_rgb_size is not None):
            pred = pred.permute(0, 3, 1, 2)  # B x C x H x W
        if self.depth_scale is not None:
            pred = pred / self.depth_scale  # metres
        if pred.dim() == 4 and pred.shape[-2:] != target.shape[-2:]:
            pred = F.interpolate(pred, size=target.shape[-2:], mode="bilinear", align_corners=False)
        return pred


def check_exportable(task_cls: type[BaseTask]) -> str:
    """The batch key of the task's ground truth (``target_key``), or ``ConfigError`` for tasks
    whose output predicts none (a parity check needs a metric against the ground truth)."""
    if task_cls.target_key is None:
        exportable = [name for name in TASKS.names() if TASKS.get(name).target_key is not None]
        raise ConfigError(
            f"export supports the tasks {', '.join(exportable)}; this checkpoint is a "
            f"{task_cls.spec.name} model."
        )
    return task_cls.target_key


def eval_batches(
    config: Config,
    limit: int | None,
    split: str | None = None,
    image_size: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """One-image batches of a split with the evaluation transforms (no augmentation).

    Args:
        config: The run's config (its ``data`` section).
        limit: At most this many images (``None``: the whole split).
        split: Split to read (default ``data.val_split``); calibration uses ``data.train_split``.
        image_size: Network input size (default ``data.image_size``).
    """
    raw = config.to_dict()
    data = raw["data"]
    data.update(batch_size=1, num_workers=0, limit_val=limit, val_split=split or data["val_split"])
    if "eval_size" in data:  # parity and metrics compare outputs at the network's size
        data["eval_size"] = "input"
    if image_size is not None:
        data["image_size"] = list(image_size)
    datamodule = TASKS.get(config.task_name).build_datamodule(config_from_dict(raw))
    datamodule.setup("validate")
    return list(itertools.islice(datamodule.val_dataloader(), limit))


def runtime_metrics(
    task: BaseTask,
    run: Callable[[np.ndarray], np.ndarray],
    batches: Sequence[dict[str, Any]],
    layout: Layout,
) -> dict[str, float]:
    """The task's validation metrics (no evaluation crop) of ``run`` over ``batches``.

    Args:
        task: The checkpoint's task (its metric definitions).
        run: A runtime's runner (graph input -> graph output).
        batches: One-image batches from :func:`eval_batches`.
        layout: The graph's I/O layout.
    """
    target_key = check_exportable(type(task))
    metrics = task.build_metrics()
    for batch in batches:
        target = batch[target_key]
        metrics.update(layout.prediction(run(layout.model_input(batch)), target), target)
    return {k: float(v) for k, v in metrics.compute().items() if v.numel() == 1}
