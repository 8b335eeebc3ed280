"""Semantic segmentation: DenseModel (or an smp architecture) with a segmentation head.

Losses come from segmentation-models-pytorch (Dice, Focal, Lovasz, soft BCE) and torch
(cross-entropy with class weights); metrics (mIoU, per-class IoU, pixel accuracy) from
torchmetrics. ``multiclass`` predicts one logit per class (softmax); ``binary`` predicts one
logit (sigmoid) for class 1 of a two-class list. Void pixels (``data.ignore_index``) count in
no loss and no metric.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, field_validator
from segmentation_models_pytorch.losses import (
    BINARY_MODE,
    MULTICLASS_MODE,
    DiceLoss,
    FocalLoss,
    LovaszLoss,
    SoftBCEWithLogitsLoss,
)
from torch import Tensor, nn
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassJaccardIndex
from torchmetrics.wrappers import ClasswiseWrapper

from densepred.data.io import write_mask
from densepred.data.segmentation import SegmentationDataConfig, SegmentationDataModule
from densepred.data.transforms import prepare_image
from densepred.errors import ConfigError
from densepred.models.config import DenseModelConfig, build_dense_model
from densepred.registry import Registry
from densepred.schema import StrictModel
from densepred.tasks.base import BaseTask, check_losses
from densepred.tasks.optim import OptimizerConfig, SchedulerConfig
from densepred.tasks.spec import TASKS, TaskSpec
from densepred.viz.depth import save_png
from densepred.viz.segmentation import colorize_mask, overlay_mask, segmentation_sample_grid

SEG_LOSSES: Registry = Registry("segmentation loss")
"""Loss builders ``(mode, ignore_index, class_weights, **options) -> nn.Module``."""


def _no_class_weights(name: str, class_weights: list[float] | None) -> None:
    if class_weights is not None:
        raise ConfigError(
            f"task.class_weights: the {name} loss takes no class weights; remove {name} from "
            "task.losses or drop task.class_weights."
        )


@SEG_LOSSES.register("cross_entropy")
def cross_entropy_loss(
    mode: str,
    ignore_index: int,
    class_weights: list[float] | None = None,
    label_smoothing: float = 0.0,
) -> nn.Module:
    """Cross-entropy (torch) for multiclass, smp's soft BCE with logits for binary."""
    if mode == BINARY_MODE:
        _no_class_weights("binary cross_entropy", class_weights)
        return SoftBCEWithLogitsLoss(
            ignore_index=ignore_index, smooth_factor=label_smoothing or None
        )
    weight = None if class_weights is None else torch.tensor(class_weights, dtype=torch.float32)
    return nn.CrossEntropyLoss(
        weight=weight, ignore_index=ignore_index, label_smoothing=label_smoothing
    )


@SEG_LOSSES.register("dice")
def dice_loss(
    mode: str,
    ignore_index: int,
    class_weights: list[float] | None = None,
    smooth: float = 0.0,
    log_loss: bool = False,
) -> nn.Module:
    """smp's Dice loss."""
    return DiceLoss(
        mode,
        ignore_index=ignore_index,
        class_weights=class_weights,
        smooth=smooth,
        log_loss=log_loss,
    )


@SEG_LOSSES.register("focal")
def focal_loss(
    mode: str,
    ignore_index: int,
    class_weights: list[float] | None = None,
    alpha: float | None = None,
    gamma: float = 2.0,
) -> nn.Module:
    """smp's Focal loss."""
    return FocalLoss(
        mode, ignore_index=ignore_index, class_weights=class_weights, alpha=alpha, gamma=gamma
    )


@SEG_LOSSES.register("lovasz")
def lovasz_loss(
    mode: str, ignore_index: int, class_weights: list[float] | None = None, per_image: bool = False
) -> nn.Module:
    """smp's Lovasz loss (softmax for multiclass, hinge for binary)."""
    _no_class_weights("lovasz", class_weights)
    return LovaszLoss(mode, ignore_index=ignore_index, per_image=per_image)


class SegmentationLoss(nn.Module):
    """Weighted sum of segmentation losses.

    Args:
        weights: Loss name (``SEG_LOSSES``) -> weight.
        mode: ``multiclass`` (Bx C x H x W logits) or ``binary`` (Bx1xHxW logit).
        ignore_index: Mask value of void pixels.
        class_weights: Per-class weights for the losses that take them (cross_entropy, dice, focal).
        args: Loss name -> options of its builder.
    """

    def __init__(
        self,
        weights: dict[str, float],
        mode: str = MULTICLASS_MODE,
        ignore_index: int = 255,
        class_weights: list[float] | None = None,
        args: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        args = args or {}
        self.mode = mode
        self.weights = dict(weights)
        self.parts = nn.ModuleDict(
            {
                name: SEG_LOSSES.build(
                    name,
                    where=f"task.loss_args.{name}",
                    mode=mode,
                    ignore_index=ignore_index,
                    class_weights=class_weights,
                    **args.get(name, {}),
                )
                for name in weights
            }
        )

    def forward(self, logits: Tensor, mask: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Return the weighted total and each unweighted part.

        Args:
            logits: BxCxHxW (multiclass) or Bx1xHxW (binary) logits.
            mask: BxHxW int64 class ids, void = ``ignore_index``.
        """
        binary = self.mode == BINARY_MODE
        target = mask.unsqueeze(1).to(logits.dtype) if binary else mask  # B,1,H,W | B,H,W
        parts = {name: loss(logits, target) for name, loss in self.parts.items()}
        total = sum(self.weights[name] * value for name, value in parts.items())
        return total, parts


def segmentation_metrics(classes: list[str], ignore_index: int) -> MetricCollection:
    """mIoU, per-class IoU (``iou_<class>``, NaN for a class absent from gt and prediction) and
    pixel accuracy over non-void pixels, from class-id predictions."""
    num = len(classes)
    return MetricCollection(
        {
            "miou": MulticlassJaccardIndex(num, average="macro", ignore_index=ignore_index),
            "pixel_acc": MulticlassAccuracy(num, average="micro", ignore_index=ignore_index),
            "iou": ClasswiseWrapper(
                MulticlassJaccardIndex(
                    num, average="none", ignore_index=ignore_index, zero_division=float("nan")
                ),
                labels=list(classes),
                prefix="iou_",
            ),
        }
    )


def majority_baseline(pixel_counts: np.ndarray) -> dict[str, float]:
    """Scores of predicting the most frequent class everywhere, from per-class pixel counts.

    The majority class gets IoU ``count_max / total``, every other class present 0; classes
    absent from the ground truth are left out of the mean as in :func:`segmentation_metrics`.

    Args:
        pixel_counts: Non-void pixels per class.
    """
    counts = np.asarray(pixel_counts, dtype=np.float64)
    share = counts.max() / counts.sum()
    return {"pixel_acc": float(share), "miou": float(share / np.count_nonzero(counts))}


class SegmentationTaskConfig(StrictModel):
    """``task`` section of semantic segmentation.

    Attributes:
        mode: ``multiclass`` (softmax over ``data.classes``) or ``binary`` (one sigmoid logit for
            class 1 of exactly two classes).
        losses: Loss name -> weight, names from ``SEG_LOSSES`` (cross_entropy, dice, focal, lovasz).
        loss_args: Loss name -> options (e.g. ``{focal: {gamma: 2.0}}``).
        class_weights: One weight per class for cross_entropy, dice and focal (multiclass only).
        optimizer: Optimizer settings.
        scheduler: Learning-rate schedule.
        monitor: Metric that selects the best checkpoint.
        monitor_mode: ``min`` or ``max`` for ``monitor``.
        num_samples: Validation samples drawn in the prediction PNG.
        overlay_alpha: Mask opacity of the overlays written by ``tools/predict.py``.
    """

    mode: Literal["multiclass", "binary"] = "multiclass"
    losses: dict[str, float] = Field(default_factory=lambda: {"cross_entropy": 1.0})
    loss_args: dict[str, dict[str, Any]] = Field(default_factory=dict)
    class_weights: list[float] | None = None
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    monitor: str = "val/miou"
    monitor_mode: Literal["min", "max"] = "max"
    num_samples: int = Field(4, ge=0)
    overlay_alpha: float = Field(0.5, ge=0, le=1)

    @field_validator("losses")
    @classmethod
    def _known_losses(cls, losses: dict[str, float]) -> dict[str, float]:
        return check_losses(losses, SEG_LOSSES, "cross_entropy")


class SegmentationTask(BaseTask):
    """Per-pixel classification into ``data.classes``."""

    def _check_classes(self) -> None:
        task, classes = self.config.task, self.config.data.classes
        if task.mode == BINARY_MODE and len(classes) != 2:
            raise ConfigError(
                f"task.mode binary needs exactly two data.classes (background, foreground), got {classes}."
            )
        if task.class_weights is not None and len(task.class_weights) != len(classes):
            raise ConfigError(
                f"task.class_weights has {len(task.class_weights)} values for {len(classes)} data.classes."
            )

    @property
    def classes(self) -> list[str]:
        """Class names, index = class id."""
        return list(self.config.data.classes)

    @property
    def ignore_index(self) -> int:
        """Mask value of void pixels."""
        return self.config.data.ignore_index

    def build_model(self) -> nn.Module:
        self._check_classes()
        outputs = 1 if self.config.task.mode == BINARY_MODE else len(self.config.data.classes)
        return build_dense_model(self.config.model, head="segmentation", num_classes=outputs)

    def build_losses(self) -> None:
        task = self.config.task
        self.loss = SegmentationLoss(
            weights=task.losses,
            mode=task.mode,
            ignore_index=self.ignore_index,
            class_weights=task.class_weights,
            args=task.loss_args,
        )

    def build_metrics(self) -> MetricCollection:
        return segmentation_metrics(self.classes, self.ignore_index)

    def forward(self, image: Tensor) -> Tensor:
        """Bx3xHxW normalised image -> BxCxHxW logits (Bx1xHxW in binary mode)."""
        return self.model(image)

    def to_classes(self, logits: Tensor) -> Tensor:
        """Logits -> BxHxW int64 class ids."""
        if self.config.task.mode == BINARY_MODE:
            return (logits[:, 0] > 0).long()
        return logits.argmax(dim=1)

    def _step(self, batch: dict[str, Any], stage: str) -> tuple[Tensor, Tensor]:
        logits = self(batch["image"])  # B,C,H,W
        total, parts = self.loss(logits, batch["mask"])
        pred = self.to_classes(logits)  # B,H,W
        self.stage_metrics(stage).update(pred, batch["mask"])
        bs, train = logits.shape[0], stage == "train"
        self.log(f"{stage}/loss", total, prog_bar=train, batch_size=bs, sync_dist=not train)
        if train:
            self.log_dict({f"train/loss_{k}": v for k, v in parts.items()}, batch_size=bs)
        return total, pred

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        total, _ = self._step(batch, "train")
        self.check_finite(total)
        return total

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        _, pred = self._step(batch, "val")
        if batch_idx == 0:
            n = self.config.task.num_samples
            self._samples = (batch["image"][:n].cpu(), batch["mask"][:n].cpu(), pred[:n].cpu())

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._step(batch, "test")

    def on_train_epoch_end(self) -> None:
        self.log_epoch_metrics("train")

    def sample_grid(self) -> np.ndarray | None:
        samples = getattr(self, "_samples", None)
        if samples is None or samples[0].shape[0] == 0:
            return None
        return segmentation_sample_grid(*samples, ignore_index=self.ignore_index)

    @torch.no_grad()
    def predict_array(self, rgb: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 RGB -> HxW uint8 class ids at the image's own size."""
        height, width = rgb.shape[:2]
        x = prepare_image(rgb, self.config.data.image_size).to(self.device)  # 1,3,h,w
        logits = self(x)  # 1,C,h,w
        logits = F.interpolate(
            logits.float(), size=(height, width), mode="bilinear", align_corners=False
        )
        return self.to_classes(logits)[0].cpu().numpy().astype(np.uint8)

    def save_prediction(
        self, prediction: np.ndarray, out_dir: Path, stem: str, rgb: np.ndarray
    ) -> list[Path]:
        """Write ``<stem>_mask.png`` (class ids), ``<stem>_color.png`` and ``<stem>_overlay.png``."""
        mask = out_dir / f"{stem}_mask.png"
        write_mask(mask, prediction)
        color = save_png(out_dir / f"{stem}_color.png", colorize_mask(prediction, None))
        alpha = self.config.task.overlay_alpha
        overlay = save_png(
            out_dir / f"{stem}_overlay.png", overlay_mask(rgb, prediction, alpha, None)
        )
        return [mask, color, overlay]


TASKS.add(
    "segmentation",
    TaskSpec(
        task_cls=SegmentationTask,
        datamodule_cls=SegmentationDataModule,
        model_config=DenseModelConfig,
        data_config=SegmentationDataConfig,
        task_config=SegmentationTaskConfig,
    ),
)
