"""Classification metrics (torchmetrics top-k accuracy) and the majority-label reference score."""

from __future__ import annotations

import numpy as np
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy


def classification_metrics(num_classes: int, top_k: int = 5) -> MetricCollection:
    """Top-1 accuracy (``acc1``) and, with more than ``top_k`` classes, top-k (``acc<k>``)."""
    metrics = {"acc1": MulticlassAccuracy(num_classes, top_k=1, average="micro")}
    if num_classes > top_k:
        metrics[f"acc{top_k}"] = MulticlassAccuracy(num_classes, top_k=top_k, average="micro")
    return MetricCollection(metrics)


def majority_baseline(label_counts: np.ndarray) -> dict[str, float]:
    """Top-1 accuracy of always predicting the most frequent class, from per-class counts."""
    counts = np.asarray(label_counts, dtype=np.float64)
    return {"acc1": float(counts.max() / counts.sum())}
