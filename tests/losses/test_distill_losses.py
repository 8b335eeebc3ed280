"""Distillation losses: zero at agreement, positive otherwise; fill-in only where gt is invalid."""

from __future__ import annotations

import pytest
import torch

from densepred.losses.distill import (
    DISTILL_LOSSES,
    FeatureDistillation,
    SoftLogitLoss,
    fill_invalid_depth,
)

DEPTH_LOSSES = ("silog", "l1_log")


def _inputs(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    if name == "kl":
        return torch.randn(2, 4, 6, 8), torch.randn(2, 4, 6, 8)
    return torch.rand(2, 1, 6, 8) * 5 + 0.1, torch.rand(2, 1, 6, 8) * 5 + 0.1


@pytest.mark.parametrize("name", DISTILL_LOSSES.names())
def test_zero_at_agreement_positive_and_differentiable_otherwise(name: str) -> None:
    student, teacher = _inputs(name)
    loss = DISTILL_LOSSES.build(name)
    assert float(loss(teacher.clone(), teacher)) == pytest.approx(0.0, abs=1e-4)
    student.requires_grad_(True)
    value = loss(student, teacher)
    assert float(value.detach()) > 1e-2
    value.backward()
    assert student.grad is not None and torch.isfinite(student.grad).all()


def test_kl_scales_with_temperature_squared_and_reads_one_channel_as_binary() -> None:
    student, teacher = _inputs("kl")
    soft = SoftLogitLoss(temperature=4.0)
    manual = torch.nn.functional.kl_div(
        torch.log_softmax(student / 4, 1), torch.log_softmax(teacher / 4, 1), log_target=True,
        reduction="none",
    ).sum(1).mean() * 16
    assert float(soft(student, teacher)) == pytest.approx(float(manual), rel=1e-5)
    s1, t1 = student[:, :1], teacher[:, :1]
    two = torch.cat([torch.zeros_like(s1), s1], 1), torch.cat([torch.zeros_like(t1), t1], 1)
    assert float(soft(s1, t1)) == pytest.approx(float(soft(*two)), rel=1e-6)


def test_fill_invalid_depth_replaces_only_invalid_pixels() -> None:
    gt = torch.full((1, 1, 4, 5), 3.0)
    gt[..., 0, :] = 0.0  # holes
    gt[..., 1, :2] = 50.0  # beyond max_depth
    teacher = torch.full_like(gt, 7.0)
    filled = fill_invalid_depth(gt, teacher, min_depth=1e-3, max_depth=10.0)
    invalid = (gt <= 1e-3) | (gt >= 10.0)
    assert torch.equal(filled[invalid], teacher[invalid])
    assert torch.equal(filled[~invalid], gt[~invalid])


def test_feature_term_is_zero_for_identical_features_and_resizes_the_student_map() -> None:
    torch.manual_seed(0)
    feats = [torch.randn(2, 8, 8, 10), torch.randn(2, 16, 4, 5)]
    same = FeatureDistillation([0, 1], [8, 16], [8, 16])
    assert float(same(feats, feats)) == pytest.approx(0.0, abs=1e-10)
    small = [torch.randn(2, 4, 4, 5), torch.randn(2, 6, 2, 3)]
    mixed = FeatureDistillation([1], [4, 6], [8, 16])  # other channels and sizes
    value = mixed(small, feats)
    value.backward()
    assert float(value) > 0 and mixed.adapters[0].weight.grad is not None
