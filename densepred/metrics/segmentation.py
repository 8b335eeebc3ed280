"""Segmentation metrics (torchmetrics) and the majority-class reference scores."""

from __future__ import annotations

import numpy as np
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassJaccardIndex
from torchmetrics.wrappers import ClasswiseWrapper


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
