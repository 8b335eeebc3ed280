"""Image classification: the registry's ``include_top=True`` model, cross-entropy, top-k accuracy."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from torch import Tensor, nn
from torchmetrics import MetricCollection

from densepred.data.classification import ClassificationDataConfig, ClassificationDataModule
from densepred.metrics.classification import classification_metrics
from densepred.models.classifier import ClassifierConfig, classifier_recipe
from densepred.models.recipe import Recipe
from densepred.portable.spec import OutputSpec
from densepred.tasks.base import BaseTask
from densepred.tasks.distill import DistillationMixin, LogitDistillConfig
from densepred.tasks.task_config import OptimizedTaskConfig


class ClassificationTaskConfig(OptimizedTaskConfig):
    """``task`` section of image classification (plus the fields of :class:`OptimizedTaskConfig`).

    Attributes:
        label_smoothing: Cross-entropy label smoothing (0 = none).
        top_k: The wider accuracy reported besides top-1 (``acc<k>``); left out when there are
            no more than ``top_k`` classes, where it is always 1.
        predict_top_k: Classes (with probabilities) written per image by ``tools/predict.py``.
        distill: Train from a teacher checkpoint as well (see :mod:`densepred.tasks.distill`).
    """

    label_smoothing: float = Field(0.0, ge=0, lt=1)
    top_k: int = Field(5, ge=2)
    predict_top_k: int = Field(5, ge=1)
    monitor: str = "val/acc1"
    monitor_mode: Literal["min", "max"] = "max"
    distill: LogitDistillConfig | None = None


class ClassificationTask(DistillationMixin, BaseTask):
    """One label per image from ``data.classes``."""

    model_config_cls = ClassifierConfig
    data_config_cls = ClassificationDataConfig
    task_config_cls = ClassificationTaskConfig
    datamodule_cls = ClassificationDataModule

    @property
    def classes(self) -> list[str]:
        """Class names, index = label."""
        return list(self.config.data.classes)

    def network_recipe(self) -> Recipe:
        return classifier_recipe(self.config.model, num_classes=len(self.classes))

    def output_spec(self) -> OutputSpec:
        """One logit per class of ``data.classes``; predict lists ``task.predict_top_k``."""
        return OutputSpec(
            kind="classification",
            channels=len(self.classes),
            classes=self.classes,
            top_k=self.config.task.predict_top_k,
        )

    def build_losses(self) -> None:
        self.loss = nn.CrossEntropyLoss(label_smoothing=self.config.task.label_smoothing)
        self.build_distiller()

    def build_metrics(self) -> MetricCollection:
        return classification_metrics(len(self.classes), self.config.task.top_k)

    def forward(self, image: Tensor) -> Tensor:
        """Bx3xHxW normalised image -> BxK logits."""
        return self.model(image)

    def _step(self, batch: dict[str, Any], stage: str) -> Tensor:
        logits = self(batch["image"])  # B,K
        loss = self.loss(logits, batch["label"])
        if stage == "train":
            loss = loss + self.distill(batch["image"], logits, batch["label"])[1]
        self.stage_metrics(stage).update(logits, batch["label"])
        train = stage == "train"
        self.log(
            f"{stage}/loss", loss, prog_bar=train, batch_size=logits.shape[0], sync_dist=not train
        )
        return loss

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        loss = self._step(batch, "train")
        self.check_finite(loss)
        return loss

    def evaluation_step(self, batch: dict[str, Any], stage: str) -> None:
        self._step(batch, stage)

    def on_train_epoch_end(self) -> None:
        self.log_epoch_metrics("train")
