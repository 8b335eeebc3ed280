"""Segmentation metrics and the majority-class baseline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from densepred.metrics.segmentation import majority_baseline, segmentation_metrics

CLASSES = ["a", "b", "c"]
VOID = 255  # the ignore index of the void_mask fixture



def test_perfect_prediction_scores_one_and_void_is_ignored(void_mask: torch.Tensor) -> None:
    mask = void_mask
    mask[mask == 2] = 1  # class c absent from the ground truth
    metrics = segmentation_metrics(CLASSES, VOID)
    pred = torch.where(
        mask == VOID, torch.full_like(mask, 2), mask
    )  # wrong class on every void pixel
    metrics.update(pred, mask)
    values = metrics.compute()
    assert values["miou"] == 1.0 and values["pixel_acc"] == 1.0
    assert values["iou_a"] == 1.0 and values["iou_b"] == 1.0
    assert torch.isnan(values["iou_c"])  # absent from ground truth and prediction: no score


def test_metrics_count_errors() -> None:
    mask = torch.tensor([[[0, 0, 1, 1]]])
    metrics = segmentation_metrics(CLASSES, VOID)
    metrics.update(torch.tensor([[[0, 1, 1, 1]]]), mask)
    values = metrics.compute()
    assert values["pixel_acc"] == pytest.approx(0.75)
    assert values["iou_a"] == pytest.approx(0.5) and values["iou_b"] == pytest.approx(2 / 3)
    assert values["miou"] == pytest.approx((0.5 + 2 / 3) / 2)


def test_majority_baseline_matches_the_metrics_of_a_constant_prediction(void_mask: torch.Tensor) -> None:
    mask = void_mask
    counts = np.bincount(mask[mask != VOID].numpy(), minlength=3)
    metrics = segmentation_metrics(CLASSES, VOID)
    metrics.update(torch.full_like(mask, int(counts.argmax())), mask)
    values = metrics.compute()
    baseline = majority_baseline(counts)
    assert baseline["miou"] == pytest.approx(float(values["miou"]))
    assert baseline["pixel_acc"] == pytest.approx(float(values["pixel_acc"]))
