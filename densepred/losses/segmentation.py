"""Segmentation losses selected by name (``SEG_LOSSES``) and their weighted combination.

Losses come from segmentation-models-pytorch (Dice, Focal, Lovasz, soft BCE) and torch
(cross-entropy with class weights). ``multiclass`` takes one logit per class (softmax);
``binary`` one logit (sigmoid). Void pixels (``ignore_index``) count in no loss.
"""

from __future__ import annotations

from typing import Any

import torch
from segmentation_models_pytorch.losses import (
    BINARY_MODE,
    MULTICLASS_MODE,
    DiceLoss,
    FocalLoss,
    LovaszLoss,
    SoftBCEWithLogitsLoss,
)
from torch import Tensor, nn

from densepred.config.task import check_loss_args
from densepred.core.errors import ConfigError
from densepred.core.registry import Registry
from densepred.losses.weighted import WeightedLoss, check_loss_names

SEG_LOSSES: Registry = Registry("segmentation loss")
"""Loss builders ``(mode, ignore_index, class_weights, **options) -> nn.Module``."""


def _no_class_weights(name: str, class_weights: list[float] | None) -> None:
    if class_weights is not None:
        raise ConfigError(
            f"task.class_weights: the {name} loss takes no class weights; remove {name} from "
            "task.losses or drop task.class_weights."
        )


@SEG_LOSSES.register("cross_entropy")
def cross_entropy_loss(
    mode: str,
    ignore_index: int,
    class_weights: list[float] | None = None,
    label_smoothing: float = 0.0,
) -> nn.Module:
    """Cross-entropy (torch) for multiclass, smp's soft BCE with logits for binary."""
    if mode == BINARY_MODE:
        _no_class_weights("binary cross_entropy", class_weights)
        return SoftBCEWithLogitsLoss(
            ignore_index=ignore_index, smooth_factor=label_smoothing or None
        )
    weight = None if class_weights is None else torch.tensor(class_weights, dtype=torch.float32)
    return nn.CrossEntropyLoss(
        weight=weight, ignore_index=ignore_index, label_smoothing=label_smoothing
    )


@SEG_LOSSES.register("dice")
def dice_loss(
    mode: str,
    ignore_index: int,
    class_weights: list[float] | None = None,
    smooth: float = 0.0,
    log_loss: bool = False,
) -> nn.Module:
    """smp's Dice loss."""
    return DiceLoss(
        mode,
        ignore_index=ignore_index,
        class_weights=class_weights,
        smooth=smooth,
        log_loss=log_loss,
    )


@SEG_LOSSES.register("focal")
def focal_loss(
    mode: str,
    ignore_index: int,
    class_weights: list[float] | None = None,
    alpha: float | None = None,
    gamma: float = 2.0,
) -> nn.Module:
    """smp's Focal loss."""
    return FocalLoss(
        mode, ignore_index=ignore_index, class_weights=class_weights, alpha=alpha, gamma=gamma
    )


@SEG_LOSSES.register("lovasz")
def lovasz_loss(
    mode: str, ignore_index: int, class_weights: list[float] | None = None, per_image: bool = False
) -> nn.Module:
    """smp's Lovasz loss (softmax for multiclass, hinge for binary)."""
    _no_class_weights("lovasz", class_weights)
    return LovaszLoss(mode, ignore_index=ignore_index, per_image=per_image)


class SegmentationLoss(WeightedLoss):
    """Weighted sum of segmentation losses (a :class:`WeightedLoss`).

    Args:
        weights: Loss name (``SEG_LOSSES``) -> weight.
        mode: ``multiclass`` (Bx C x H x W logits) or ``binary`` (Bx1xHxW logit).
        ignore_index: Mask value of void pixels.
        class_weights: Per-class weights for the losses that take them (cross_entropy, dice, focal).
        args: Loss name -> options of its builder.
    """

    def __init__(
        self,
        weights: dict[str, float],
        mode: str = MULTICLASS_MODE,
        ignore_index: int = 255,
        class_weights: list[float] | None = None,
        args: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        args = check_loss_args(args or {}, check_loss_names(weights, SEG_LOSSES))
        losses = {
            name: SEG_LOSSES.build(
                name,
                where=f"task.loss_args.{name}",
                internal={
                    "mode": mode,
                    "ignore_index": ignore_index,
                    "class_weights": class_weights,
                },
                **args.get(name, {}),
            )
            for name in weights
        }
        super().__init__(losses, weights)
        self.mode = mode

    def forward(self, logits: Tensor, mask: Tensor) -> tuple[Tensor, dict[str, Tensor]]:  # type: ignore[override]
        """Return the weighted total and each unweighted part.

        Args:
            logits: BxCxHxW (multiclass) or Bx1xHxW (binary) logits.
            mask: BxHxW int64 class ids, void = ``ignore_index``.
        """
        binary = self.mode == BINARY_MODE
        target = mask.unsqueeze(1).to(logits.dtype) if binary else mask  # B,1,H,W | B,H,W
        return super().forward(logits, target)
