"""Monocular depth estimation: DenseModel with a depth head, depth losses and metrics."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torchmetrics import MetricCollection

from densepred.config.data import DepthDataConfig
from densepred.config.model import DenseModelConfig
from densepred.config.run import Config
from densepred.config.specs import DEPTH
from densepred.config.task import DepthTaskConfig
from densepred.core.errors import ConfigError, DataError
from densepred.data.depth import DepthDataModule
from densepred.losses.depth import DepthLoss
from densepred.losses.distill import fill_invalid_depth
from densepred.metrics.depth import DepthMetrics, depth_valid_mask
from densepred.models.config import dense_recipe
from densepred.models.recipe import Recipe
from densepred.portable.spec import OutputSpec
from densepred.tasks.base import BaseTask
from densepred.tasks.distill import DistillationMixin
from densepred.tasks.native import at_target_size, targets_at, weighted_mean
from densepred.viz.depth import depth_sample_grid

# Evaluation crops as fractions of the image (REFERENCE section 3): Eigen on 480x640 NYU
# (rows 45:471, cols 41:601) and Garg on KITTI.
EVAL_CROPS: dict[str, tuple[float, float, float, float]] = {
    "eigen": (45 / 480, 471 / 480, 41 / 640, 601 / 640),
    "garg": (0.40810811, 0.99189189, 0.03594771, 0.96405229),
}


def eval_crop_mask(height: int, width: int, crop: str, device: torch.device) -> torch.Tensor | None:
    """Boolean HxW mask of the evaluation crop, or None for ``none``."""
    if crop == "none":
        return None
    top, bottom, left, right = EVAL_CROPS[crop]
    mask = torch.zeros(height, width, dtype=torch.bool, device=device)
    mask[int(top * height) : int(bottom * height), int(left * width) : int(right * width)] = True
    return mask


DepthConfig = Config[DenseModelConfig, DepthDataConfig, DepthTaskConfig]


class DepthTask(
    DistillationMixin, BaseTask[DenseModelConfig, DepthDataConfig, DepthTaskConfig]
):
    """Depth estimation in metres from one RGB image."""

    spec = DEPTH
    datamodule_cls = DepthDataModule
    target_key = "depth"
    mai_export = True

    @classmethod
    @torch.no_grad()
    def baseline(cls, config: DepthConfig) -> dict[str, float]:
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
        datamodule = cls.prepared_datamodule(config, "test" if role == "test" else "validate")
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
            split = config.data.splits()[role]
            raise DataError(
                f"split '{split}' has no valid depth pixel (task.min_depth={task.min_depth} < depth < "
                f"task.max_depth={task.max_depth}); check data.depth_scale and the depth files."
            )
        return {
            "mean_image_depth_m": sum(constants) / len(constants),
            **{f"{role}/{k}": float(v) for k, v in metrics.compute().items()},
        }

    @classmethod
    def check_config(cls, config: DepthConfig) -> None:
        """``data.unlabeled_root`` needs a teacher; a teacher must be a depth checkpoint."""
        super().check_config(config)
        if config.data.unlabeled_root is not None and config.task.distill is None:
            raise ConfigError(
                "data.unlabeled_root needs task.distill: its images get their targets from a "
                "teacher (task.distill.teacher, with fill_invalid: true for the depth losses)."
            )

    def check_data(self, datamodule: DepthDataModule, roles: tuple[str, ...]) -> None:
        """Fail before work starts when a split has no depth pixel inside
        ``task.min_depth``..``task.max_depth`` (:meth:`DepthDataModule.check_valid_depth`)."""
        task = self.config.task
        datamodule.check_valid_depth(task.min_depth, task.max_depth, roles)

    def network_recipe(self) -> Recipe:
        task = self.config.task
        return dense_recipe(
            self.config.model, head=self.spec.head, min_depth=task.min_depth, max_depth=task.max_depth
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
