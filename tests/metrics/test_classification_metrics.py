"""Classification metrics (top-k accuracy) and the majority-label baseline."""

from __future__ import annotations

import numpy as np
import torch

from densepred.metrics.classification import classification_metrics, majority_baseline


def test_perfect_logits_score_one_and_top_k_needs_more_classes() -> None:
    labels = torch.tensor([0, 3, 5, 6, 2])
    metrics = classification_metrics(7, top_k=5)
    metrics.update(torch.nn.functional.one_hot(labels, 7).float(), labels)
    assert {k: float(v) for k, v in metrics.compute().items()} == {"acc1": 1.0, "acc5": 1.0}
    assert set(classification_metrics(3, top_k=5)) == {"acc1"}


def test_top_k_counts_a_hit_in_the_k_best() -> None:
    logits = torch.tensor([[0.1, 0.5, 0.4, 0.0, 0.0, 0.0], [0.9, 0.0, 0.0, 0.0, 0.0, 0.1]])
    metrics = classification_metrics(6, top_k=2)
    metrics.update(logits, torch.tensor([2, 5]))
    values = metrics.compute()
    assert values["acc1"] == 0.0 and values["acc2"] == 1.0


def test_majority_baseline() -> None:
    assert majority_baseline(np.array([2, 5, 3])) == {"acc1": 0.5}
