"""Image classification: the registry's ``include_top=True`` model, cross-entropy, top-k accuracy."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field
from torch import Tensor, nn
from torchmetrics import MetricCollection

from densepred.core.fileio import append_jsonl
from densepred.data.classification import ClassificationDataConfig, ClassificationDataModule
from densepred.metrics.classification import classification_metrics
from densepred.models.classifier import ClassifierConfig, build_classifier
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

    def build_model(self) -> nn.Module:
        return build_classifier(self.config.model, num_classes=len(self.classes))

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

    @torch.no_grad()
    def predict_array(self, rgb: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 RGB of any size -> K class probabilities (float32)."""
        x = self.prepare_input(rgb)  # 1,3,h,w
        return self(x).float().softmax(dim=1)[0].cpu().numpy()

    def top_classes(self, probs: np.ndarray) -> list[dict[str, Any]]:
        """The ``task.predict_top_k`` most likely classes, most likely first."""
        order = np.argsort(-probs)[: self.config.task.predict_top_k]
        return [{"class": self.classes[i], "index": int(i), "prob": float(probs[i])} for i in order]

    def save_prediction(
        self, prediction: np.ndarray, out_dir: Path, stem: str, rgb: np.ndarray
    ) -> list[Path]:
        """Append ``{"image": stem, "top": [...]}`` to ``out_dir/predictions.jsonl`` and print it."""
        record = {"image": stem, "top": self.top_classes(prediction)}
        path = out_dir / "predictions.jsonl"
        append_jsonl(path, record)
        print(f"{stem}: " + ", ".join(f"{t['class']} {t['prob']:.3f}" for t in record["top"]))
        return [path]
