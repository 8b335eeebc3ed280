"""Image classification: the registry's ``include_top=True`` model, cross-entropy, top-k accuracy."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn
from torchmetrics import MetricCollection

from densepred.config.data import ClassificationDataConfig
from densepred.config.model import ClassifierConfig
from densepred.config.run import Config
from densepred.config.specs import CLASSIFICATION
from densepred.config.task import ClassificationTaskConfig
from densepred.data.classification import ClassificationDataModule, label_counts
from densepred.metrics.classification import classification_metrics
from densepred.metrics.classification import majority_baseline as majority_label
from densepred.models.classifier import classifier_recipe
from densepred.models.recipe import Recipe
from densepred.portable.spec import OutputSpec
from densepred.tasks.base import BaseTask
from densepred.tasks.distill import DistillationMixin

ClassificationConfig = Config[ClassifierConfig, ClassificationDataConfig, ClassificationTaskConfig]


class ClassificationTask(
    DistillationMixin,
    BaseTask[ClassifierConfig, ClassificationDataConfig, ClassificationTaskConfig],
):
    """One label per image from ``data.classes``."""

    spec = CLASSIFICATION
    datamodule_cls = ClassificationDataModule
    target_key = "label"

    @classmethod
    def baseline(cls, config: ClassificationConfig) -> dict[str, float]:
        """``val/acc1`` of predicting the validation set's majority label for every image."""
        samples = (
            cls.prepared_datamodule(config, "validate").datasets["val"].samples
        )  # labels: no image is read
        counts = label_counts(samples, len(config.data.classes))
        return {
            "majority_class": int(counts.argmax()),
            **{f"val/{k}": v for k, v in majority_label(counts).items()},
        }

    @classmethod
    def output_keys(cls, config: ClassificationConfig) -> dict[str, Any]:
        """A teacher must have the same classes."""
        return {"data.classes": list(config.data.classes)}

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
