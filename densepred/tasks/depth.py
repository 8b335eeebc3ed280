"""Monocular depth estimation: DenseModel with a depth head, depth losses and metrics."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field, model_validator
from torchmetrics import MetricCollection

from densepred.data.depth import DepthDataConfig, DepthDataModule
from densepred.losses.depth import DEPTH_LOSSES, DepthLoss
from densepred.losses.distill import fill_invalid_depth
from densepred.metrics.depth import DepthMetrics
from densepred.models.config import DenseModelConfig, dense_recipe
from densepred.models.recipe import Recipe
from densepred.portable.spec import OutputSpec
from densepred.tasks.base import BaseTask
from densepred.tasks.distill import DepthDistillConfig, DistillationMixin
from densepred.tasks.native import at_target_size, targets_at, weighted_mean
from densepred.tasks.task_config import LossTaskConfig
from densepred.viz.depth import depth_sample_grid

# Evaluation crops as fractions of the image (REFERENCE section 3): Eigen on 480x640 NYU
# (rows 45:471, cols 41:601) and Garg on KITTI.
EVAL_CROPS: dict[str, tuple[float, float, float, float]] = {
    "eigen": (45 / 480, 471 / 480, 41 / 640, 601 / 640),
    "garg": (0.40810811, 0.99189189, 0.03594771, 0.96405229),
}


class DepthTaskConfig(LossTaskConfig):
    """``task`` section of depth estimation (plus the fields of :class:`LossTaskConfig`).

    Attributes:
        min_depth: Smallest valid depth in metres (head range, loss and metric validity).
        max_depth: Largest valid depth in metres; must exceed ``min_depth``.
        losses: Loss name -> weight, names from ``DEPTH_LOSSES`` (silog, l1, gradient, ssim, berhu).
        eval_crop: ``none``, ``eigen`` (NYU) or ``garg`` (KITTI) crop for validation/test metrics.
        distill: Train from a teacher checkpoint as well (see :mod:`densepred.tasks.distill`).
    """

    loss_registry = DEPTH_LOSSES
    min_depth: float = Field(1e-3, gt=0)
    max_depth: float = Field(10.0, gt=0)
    losses: dict[str, float] = Field(default_factory=lambda: {"silog": 1.0, "gradient": 0.5})
    eval_crop: Literal["none", "eigen", "garg"] = "none"
    monitor: str = "val/mai_si_rmse"
    distill: DepthDistillConfig | None = None

    @model_validator(mode="after")
    def _depth_range(self) -> DepthTaskConfig:
        if self.min_depth >= self.max_depth:
            raise ValueError(
                f"task.min_depth ({self.min_depth}) must be smaller than task.max_depth "
                f"({self.max_depth})"
            )
        return self


def eval_crop_mask(height: int, width: int, crop: str, device: torch.device) -> torch.Tensor | None:
    """Boolean HxW mask of the evaluation crop, or None for ``none``."""
    if crop == "none":
        return None
    top, bottom, left, right = EVAL_CROPS[crop]
    mask = torch.zeros(height, width, dtype=torch.bool, device=device)
    mask[int(top * height) : int(bottom * height), int(left * width) : int(right * width)] = True
    return mask


class DepthTask(DistillationMixin, BaseTask):
    """Depth estimation in metres from one RGB image."""

    model_config_cls = DenseModelConfig
    data_config_cls = DepthDataConfig
    task_config_cls = DepthTaskConfig
    datamodule_cls = DepthDataModule

    def check_data(self, datamodule: DepthDataModule, roles: tuple[str, ...]) -> None:
        """Fail before work starts when a split has no depth pixel inside
        ``task.min_depth``..``task.max_depth`` (:meth:`DepthDataModule.check_valid_depth`)."""
        task = self.config.task
        datamodule.check_valid_depth(task.min_depth, task.max_depth, roles)

    def network_recipe(self) -> Recipe:
        task = self.config.task
        return dense_recipe(
            self.config.model, head="depth", min_depth=task.min_depth, max_depth=task.max_depth
        )

    def output_spec(self) -> OutputSpec:
        """Depth in metres within ``task.min_depth``..``task.max_depth``; PNGs written in the
        units of the training data (``data.depth_scale`` per metre)."""
        task = self.config.task
        return OutputSpec(
            kind="depth",
            channels=1,
            units="m",
            min_depth=task.min_depth,
            max_depth=task.max_depth,
            depth_scale=self.config.data.depth_scale,
        )

    def build_losses(self) -> None:
        task = self.config.task
        self.loss = DepthLoss(
            weights=task.losses,
            args=task.loss_args,
            min_depth=task.min_depth,
            max_depth=task.max_depth,
        )
        self.build_distiller()

    def build_metrics(self) -> MetricCollection:
        task = self.config.task
        return MetricCollection(
            {"depth": DepthMetrics(min_depth=task.min_depth, max_depth=task.max_depth)}
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Bx3xHxW normalised image -> Bx1xHxW depth in metres."""
        return self.model(image)

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        pred = self(batch["image"])  # B,1,H,W
        gt, distill_total, distill_parts = self.distill(batch["image"], pred, batch["depth"])
        total, parts = self.loss(pred, gt)
        total, parts = total + distill_total, parts | distill_parts
        self.check_finite(total)
        parts = {f"train/loss_{k}": v for k, v in parts.items()}
        self.log_train_losses({"train/loss": total}, parts, pred.shape[0])
        return total

    def distill_target(self, target: torch.Tensor, teacher_out: torch.Tensor) -> torch.Tensor:
        """With ``task.distill.fill_invalid``, invalid ground-truth pixels take the teacher's depth."""
        task = self.config.task
        if not task.distill.fill_invalid:
            return target
        return fill_invalid_depth(target, teacher_out, task.min_depth, task.max_depth)

    def _eval_step(self, batch: dict[str, Any], stage: str) -> torch.Tensor:
        pred = self(batch["image"])  # B,1,h,w at data.image_size
        losses = []
        for scored, gt in at_target_size(pred, batch["depth"]):  # b,1,H,W at the target's size
            losses.append((self.loss(scored, gt)[0], gt.shape[0]))
            crop = eval_crop_mask(gt.shape[-2], gt.shape[-1], self.config.task.eval_crop, gt.device)
            self.stage_metrics(stage).update(scored, gt if crop is None else gt * crop)
        total = weighted_mean(losses)
        self.log(f"{stage}/loss", total, batch_size=pred.shape[0], sync_dist=True)
        return pred

    def evaluation_step(self, batch: dict[str, Any], stage: str) -> None:
        """Score a batch and offer its rows to the sample grid."""
        pred = self._eval_step(batch, stage)
        image = batch["image"]
        self.eval_samples.add(image, targets_at(batch["depth"], image.shape[-2:]), pred.float())

    def sample_grid(self) -> np.ndarray | None:
        samples = self.eval_samples.result()
        if samples is None:
            return None
        norm = self.config.data.normalize
        return depth_sample_grid(
            *samples, max_depth=self.config.task.max_depth, mean=norm.mean, std=norm.std
        )

    def on_train_epoch_end(self) -> None:
        self.stage_metrics("train").reset()
