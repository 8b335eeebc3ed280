"""Segmentation losses: void pixels, weighting, class weights, option errors."""

from __future__ import annotations

import pytest
import torch

from densepred.core.errors import ConfigError
from densepred.losses.segmentation import SEG_LOSSES, SegmentationLoss

VOID = 255  # the ignore index of the void_mask fixture



@pytest.mark.parametrize("mode", ["multiclass", "binary"])
@pytest.mark.parametrize("name", SEG_LOSSES.names())
def test_void_pixels_do_not_reach_any_loss(name: str, mode: str, void_mask: torch.Tensor) -> None:
    mask = void_mask
    if mode == "binary":
        mask = torch.where(mask == VOID, mask, mask.clamp(max=1))
    channels = 3 if mode == "multiclass" else 1
    loss = SegmentationLoss({name: 1.0}, mode=mode, ignore_index=VOID)
    logits = torch.randn(2, channels, 8, 10, requires_grad=True)
    total, parts = loss(logits, mask)
    total.backward()
    assert set(parts) == {name} and torch.isfinite(total)
    void = (mask == VOID).unsqueeze(1).expand_as(logits)
    assert logits.grad[void].abs().max() == 0  # no gradient from void pixels
    assert logits.grad[~void].abs().max() > 0
    changed = logits.detach().clone()
    changed[void] = 50.0  # wild logits where the mask is void
    assert torch.allclose(loss(changed, mask)[0], total.detach(), atol=1e-6)


def test_weighted_combination_is_the_weighted_sum_of_parts(void_mask: torch.Tensor) -> None:
    mask = void_mask
    loss = SegmentationLoss({"cross_entropy": 1.0, "dice": 0.5, "focal": 2.0}, ignore_index=VOID)
    total, parts = loss(torch.randn(2, 3, 8, 10), mask)
    assert torch.allclose(
        total, parts["cross_entropy"] + 0.5 * parts["dice"] + 2.0 * parts["focal"]
    )


def test_class_weights_change_cross_entropy_and_lovasz_rejects_them(void_mask: torch.Tensor) -> None:
    mask, logits = void_mask, torch.randn(2, 3, 8, 10)
    plain = SegmentationLoss({"cross_entropy": 1.0}, ignore_index=VOID)(logits, mask)[0]
    weighted = SegmentationLoss(
        {"cross_entropy": 1.0}, ignore_index=VOID, class_weights=[1.0, 5.0, 0.1]
    )
    assert not torch.allclose(weighted(logits, mask)[0], plain)
    with pytest.raises(ConfigError, match="lovasz loss takes no class weights"):
        SegmentationLoss({"lovasz": 1.0}, ignore_index=VOID, class_weights=[1.0, 1.0, 1.0])


def test_unknown_loss_option_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"task.loss_args.focal: Unknown key 'gama'.*'gamma'"):
        SegmentationLoss({"focal": 1.0}, args={"focal": {"gama": 2.0}})
