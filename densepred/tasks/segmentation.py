"""Semantic segmentation: DenseModel (or an smp architecture) with a segmentation head.

Losses are :mod:`densepred.losses.segmentation` (``SEG_LOSSES``); metrics (mIoU, per-class IoU,
pixel accuracy) :mod:`densepred.metrics.segmentation`. ``multiclass`` predicts one logit per class (softmax); ``binary`` predicts one
logit (sigmoid) for class 1 of a two-class list. Void pixels (``data.ignore_index``) count in
no loss and no metric.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from segmentation_models_pytorch.losses import BINARY_MODE
from torch import Tensor
from torchmetrics import MetricCollection

from densepred.config.data import SegmentationDataConfig
from densepred.config.model import DenseModelConfig
from densepred.config.run import Config
from densepred.config.specs import SEGMENTATION
from densepred.config.task import SegmentationTaskConfig
from densepred.core.errors import ConfigError
from densepred.data.segmentation import SegmentationDataModule, pixel_counts
from densepred.losses.segmentation import SegmentationLoss
from densepred.metrics.segmentation import majority_baseline as majority_class
from densepred.metrics.segmentation import segmentation_metrics
from densepred.models.config import dense_recipe
from densepred.models.recipe import Recipe
from densepred.portable.processing import class_ids
from densepred.portable.spec import OutputSpec
from densepred.tasks.base import BaseTask
from densepred.tasks.distill import DistillationMixin
from densepred.tasks.native import at_target_size, targets_at, weighted_mean
from densepred.viz.segmentation import segmentation_sample_grid

logger = logging.getLogger(__name__)

SegmentationConfig = Config[DenseModelConfig, SegmentationDataConfig, SegmentationTaskConfig]


class SegmentationTask(
    DistillationMixin,
    BaseTask[DenseModelConfig, SegmentationDataConfig, SegmentationTaskConfig],
):
    """Per-pixel classification into ``data.classes``."""

    spec = SEGMENTATION
    datamodule_cls = SegmentationDataModule
    target_key = "mask"

    @classmethod
    def baseline(cls, config: SegmentationConfig) -> dict[str, float]:
        """``val/miou`` and ``val/pixel_acc`` of the validation set's majority class everywhere."""
        counts = pixel_counts(cls.prepared_datamodule(config, "validate").datasets["val"])
        majority = int(counts.argmax())
        scores = majority_class(counts)
        return {
            "majority_class": majority,
            "majority_share": float(counts[majority] / counts.sum()),
            **{f"val/{k}": v for k, v in scores.items()},
        }

    @classmethod
    def check_config(cls, config: Config) -> None:
        """The binary head needs two classes; class weights need one value per class."""
        super().check_config(config)
        task, classes = config.task, config.data.classes
        if task.mode == BINARY_MODE and len(classes) != 2:
            raise ConfigError(
                f"task.mode binary needs exactly two data.classes (background, foreground), got {classes}."
            )
        weights = task.class_weights
        if isinstance(weights, list) and len(weights) != len(classes):
            raise ConfigError(
                f"task.class_weights has {len(task.class_weights)} values for {len(classes)} data.classes."
            )

    @classmethod
    def output_keys(cls, config: SegmentationConfig) -> dict[str, Any]:
        """A teacher must have the same classes and mode."""
        return {"data.classes": list(config.data.classes), "task.mode": config.task.mode}

    @property
    def classes(self) -> list[str]:
        """Class names, index = class id."""
        return list(self.config.data.classes)

    @property
    def ignore_index(self) -> int:
        """Mask value of void pixels."""
        return self.config.data.ignore_index

    @property
    def num_outputs(self) -> int:
        """Logit channels: one per class, or one in binary mode."""
        return 1 if self.config.task.mode == BINARY_MODE else len(self.config.data.classes)

    def network_recipe(self) -> Recipe:
        return dense_recipe(self.config.model, head=self.spec.head, num_classes=self.num_outputs)

    def output_spec(self) -> OutputSpec:
        """Class logits (softmax, or one sigmoid logit in binary mode) for ``data.classes``."""
        task = self.config.task
        return OutputSpec(
            kind="segmentation",
            channels=self.num_outputs,
            classes=self.classes,
            mode=task.mode,
            overlay_alpha=task.overlay_alpha,
        )

    def build_losses(self) -> None:
        """The weighted losses; ``median_frequency`` weights are set in :meth:`setup`."""
        task = self.config.task
        weights = task.class_weights
        self.loss = SegmentationLoss(
            weights=task.losses,
            mode=task.mode,
            ignore_index=self.ignore_index,
            class_weights=weights if isinstance(weights, list) else None,
            args=task.loss_args,
        )
        self.build_distiller()

    def setup(self, stage: str) -> None:
        """Resolve ``task.class_weights: median_frequency`` from the data module's training masks
        into the list of weights (the losses, the config and the saved hyper-parameters)."""
        if self.config.task.class_weights != "median_frequency":
            return
        datamodule = self.trainer.datamodule
        if not isinstance(datamodule, SegmentationDataModule):
            raise ConfigError(
                "task.class_weights: median_frequency is computed from the training masks of the "
                "data module; pass the SegmentationDataModule to the Trainer, or give the weights."
            )
        weights = datamodule.median_frequency_weights()
        self.config.task = self.config.task.model_copy(update={"class_weights": weights})
        self.hparams["config"]["task"]["class_weights"] = weights
        self.build_losses()
        logger.info("median-frequency class weights: " + ", ".join(f"{w:.3f}" for w in weights))

    def build_metrics(self) -> MetricCollection:
        return segmentation_metrics(self.classes, self.ignore_index)

    def forward(self, image: Tensor) -> Tensor:
        """Bx3xHxW normalised image -> BxCxHxW logits (Bx1xHxW in binary mode)."""
        return self.model(image)

    def to_classes(self, logits: Tensor) -> Tensor:
        """Logits -> BxHxW int64 class ids (:func:`~densepred.portable.processing.class_ids`)."""
        return class_ids(logits, self.config.task.mode)

    def _step(self, batch: dict[str, Any], stage: str) -> tuple[Tensor, Tensor]:
        """Loss and metric update of one batch; returns the loss and the B,C,h,w logits."""
        logits = self(batch["image"])  # B,C,h,w at data.image_size
        losses = []
        # logits upsampled to each mask's size before the argmax (native-size evaluation)
        for scored, mask in at_target_size(logits, batch["mask"]):  # b,C,H,W / b,H,W
            total, parts = self.loss(scored, mask)
            losses.append((total, mask.shape[0]))
            self.stage_metrics(stage).update(self.to_classes(scored), mask)
        total = weighted_mean(losses)
        bs = logits.shape[0]
        if stage == "train":  # training masks are at data.image_size, as the logits
            _, distill_total, distill_parts = self.distill(batch["image"], logits, batch["mask"])
            total, parts = total + distill_total, parts | distill_parts
            parts = {f"train/loss_{k}": v for k, v in parts.items()}
            self.log_train_losses({"train/loss": total}, parts, bs)
        else:
            self.log(f"{stage}/loss", total, batch_size=bs, sync_dist=True)
        return total, logits

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        total, _ = self._step(batch, "train")
        self.check_finite(total)
        return total

    def evaluation_step(self, batch: dict[str, Any], stage: str) -> None:
        """Score a batch and offer its rows to the sample grid."""
        _, logits = self._step(batch, stage)
        image = batch["image"]
        pred = self.to_classes(logits)  # B,h,w at data.image_size
        self.eval_samples.add(image, targets_at(batch["mask"], image.shape[-2:]), pred)

    def on_train_epoch_end(self) -> None:
        self.log_epoch_metrics("train")

    def sample_grid(self) -> np.ndarray | None:
        samples = self.eval_samples.result()
        if samples is None:
            return None
        norm = self.config.data.normalize
        return segmentation_sample_grid(
            *samples, ignore_index=self.ignore_index, mean=norm.mean, std=norm.std
        )
