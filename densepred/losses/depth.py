"""Depth losses selected by name, and their weighted combination (a :class:`WeightedLoss`).

Every loss is an ``nn.Module`` called as ``loss(pred, gt, valid) -> scalar`` with ``pred`` and
``gt`` in metres (Bx1xHxW) and ``valid`` a bool mask of ``gt``'s shape. Only valid pixels
influence the value; with no valid pixel the loss is an exact 0 that is still part of the graph.
Logarithms clamp their input to at least :data:`LOG_EPS` so a non-positive prediction cannot
produce ``-inf``. Definitions and sources are listed in ``docs/metrics.md``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics.functional.image import structural_similarity_index_measure

from densepred.config.task import check_loss_args
from densepred.core.errors import ConfigError
from densepred.core.registry import Registry
from densepred.losses.weighted import WeightedLoss, check_loss_names
from densepred.metrics.depth import depth_valid_mask

DEPTH_LOSSES: Registry[type[nn.Module]] = Registry("depth loss")

LOG_EPS = 1e-6


def masked_mean(values: Tensor, valid: Tensor) -> Tensor:
    """Mean of ``values`` over ``valid`` entries; an exact 0 (still in the graph) if none is valid.

    Invalid entries may hold inf or NaN: they are replaced before summing, so neither the value
    nor the gradient sees them.
    """
    total = torch.where(valid, values, torch.zeros_like(values)).sum()  # scalar
    return total / valid.sum().clamp_min(1)


def safe_log(depth: Tensor) -> Tensor:
    """``ln(max(depth, LOG_EPS))``."""
    return torch.log(depth.clamp_min(LOG_EPS))


@DEPTH_LOSSES.register("silog")
class SILogLoss(nn.Module):
    """Scale-invariant log loss of BTS (Lee et al., 2019).

    ``alpha * sqrt(mean(d^2) - lambd * mean(d)^2)`` with ``d = ln pred - ln gt`` over all valid
    pixels of the batch. The argument of the square root is clamped to at least ``eps`` so the
    gradient stays finite at a perfect prediction.

    Args:
        alpha: Output scale (BTS: 10).
        lambd: Variance focus; 1 makes the loss fully scale invariant, 0 gives RMSE of the log.
        eps: Lower clamp inside the square root.
    """

    def __init__(self, alpha: float = 10.0, lambd: float = 0.85, eps: float = 1e-12) -> None:
        super().__init__()
        self.alpha = alpha
        self.lambd = lambd
        self.eps = eps

    def forward(self, pred: Tensor, gt: Tensor, valid: Tensor) -> Tensor:
        d = safe_log(pred) - safe_log(gt)  # B,1,H,W
        spread = masked_mean(d**2, valid) - self.lambd * masked_mean(d, valid) ** 2  # scalar
        return self.alpha * spread.clamp_min(self.eps).sqrt() * valid.any()


@DEPTH_LOSSES.register("l1")
class L1Loss(nn.Module):
    """Mean absolute error over valid pixels: ``mean(|pred - gt|)``."""

    def forward(self, pred: Tensor, gt: Tensor, valid: Tensor) -> Tensor:
        return masked_mean((pred - gt).abs(), valid)


@DEPTH_LOSSES.register("berhu")
class BerHuLoss(nn.Module):
    """Reverse Huber loss (Laina et al., 2016) over valid pixels.

    With ``r = |pred - gt|`` and ``c = threshold * max(r)`` over the valid pixels of the batch
    (not differentiated): ``r`` where ``r <= c``, else ``(r^2 + c^2) / (2c)``; then the mean.

    Args:
        threshold: Fraction of the largest residual where the loss turns quadratic (0.2).
        eps: Smallest ``c``, so a perfect prediction does not divide by zero.
    """

    def __init__(self, threshold: float = 0.2, eps: float = 1e-6) -> None:
        super().__init__()
        self.threshold = threshold
        self.eps = eps

    def forward(self, pred: Tensor, gt: Tensor, valid: Tensor) -> Tensor:
        r = (pred - gt).abs()  # B,1,H,W
        r_valid = torch.where(valid, r, torch.zeros_like(r))  # B,1,H,W
        c = (self.threshold * r_valid.detach().amax()).clamp_min(self.eps)  # scalar
        berhu = torch.where(r <= c, r, (r**2 + c**2) / (2 * c))  # B,1,H,W
        return masked_mean(berhu, valid)


@DEPTH_LOSSES.register("gradient")
class GradientLoss(nn.Module):
    """Multi-scale gradient matching loss on log depth (MegaDepth, Li & Snavely 2018).

    With ``R = ln pred - ln gt``, at scale ``s`` the maps are subsampled with stride ``2^s`` and the
    loss is the mean of ``|R[i, j+1] - R[i, j]|`` and ``|R[i+1, j] - R[i, j]|`` over the pixel pairs
    whose two pixels are both valid. The result is the sum over ``scales`` scales. A difference of
    log-depth residuals penalises wrong relative depth between neighbours, which sharpens edges,
    and ignores a global scale error.

    Args:
        scales: Number of scales (1 = full resolution only).
    """

    name = "gradient"

    def __init__(self, scales: int = 4) -> None:
        super().__init__()
        if scales < 1:
            raise ConfigError(f"{self.name} loss: scales must be >= 1, got {scales}")
        self.scales = scales

    def forward(self, pred: Tensor, gt: Tensor, valid: Tensor) -> Tensor:
        return gradient_matching(safe_log(pred) - safe_log(gt), valid, self.scales)


def gradient_matching(residual: Tensor, valid: Tensor, scales: int) -> Tensor:
    """Sum over ``scales`` scales (stride ``2^s``) of the mean ``|R[i, j+1] - R[i, j]|`` and
    ``|R[i+1, j] - R[i, j]|`` over the pixel pairs whose two pixels are both valid.

    Args:
        residual: Bx1xHxW residual map ``R``.
        valid: Bool mask of ``residual``'s shape.
        scales: Number of scales (1 = full resolution only).
    """
    total = residual.sum() * 0
    for s in range(scales):
        step = 2**s
        r = residual[..., ::step, ::step]  # B,1,h,w
        v = valid[..., ::step, ::step]  # B,1,h,w
        diff_x = (r[..., :, 1:] - r[..., :, :-1]).abs()  # B,1,h,w-1
        diff_y = (r[..., 1:, :] - r[..., :-1, :]).abs()  # B,1,h-1,w
        pairs_x = v[..., :, 1:] & v[..., :, :-1]  # B,1,h,w-1
        pairs_y = v[..., 1:, :] & v[..., :-1, :]  # B,1,h-1,w
        diffs = torch.cat([diff_x.flatten(), diff_y.flatten()])  # P
        pairs = torch.cat([pairs_x.flatten(), pairs_y.flatten()])  # P
        total = total + masked_mean(diffs, pairs)
    return total


ALIGN_EPS = 1e-9
"""Least determinant of the 2x2 scale-and-shift system; an image below it is left out."""


def align_disparity(pred: Tensor, gt: Tensor, valid: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """MiDaS's alignment (Ranftl et al., 2020): ``1 / pred`` scaled and shifted per image by least
    squares onto the ground-truth disparity ``1 / gt``, which is first divided by its mean over the
    image's valid pixels (so the loss has no unit and every image weighs the same).

    Args:
        pred: Bx1xHxW predicted depth (metres).
        gt: Bx1xHxW ground-truth depth (metres).
        valid: Bool mask of ``gt``'s shape.

    Returns:
        The aligned predicted disparity, the normalised ground-truth disparity (both Bx1xHxW, 0
        at invalid pixels) and the mask of the valid pixels of images whose alignment is defined
        (at least two valid pixels with different predictions).
    """
    mask = valid.float()  # B,1,H,W
    d = torch.where(valid, 1.0 / pred.clamp_min(LOG_EPS), torch.zeros_like(pred))  # B,1,H,W
    g = torch.where(valid, 1.0 / gt.clamp_min(LOG_EPS), torch.zeros_like(gt))  # B,1,H,W
    n = mask.sum(dim=(1, 2, 3))  # B
    g = g / (g.sum(dim=(1, 2, 3)) / n.clamp_min(1)).clamp_min(LOG_EPS)[:, None, None, None]
    a00, a01 = (d * d).sum(dim=(1, 2, 3)), d.sum(dim=(1, 2, 3))  # B
    b0, b1 = (d * g).sum(dim=(1, 2, 3)), g.sum(dim=(1, 2, 3))  # B
    det = a00 * n - a01 * a01  # B
    ok = det > ALIGN_EPS * n.clamp_min(1) ** 2  # B
    safe = torch.where(ok, det, torch.ones_like(det))
    scale = torch.where(ok, (n * b0 - a01 * b1) / safe, torch.zeros_like(det))  # B
    shift = torch.where(ok, (a00 * b1 - a01 * b0) / safe, torch.zeros_like(det))  # B
    aligned = scale[:, None, None, None] * d + shift[:, None, None, None]  # B,1,H,W
    return aligned, g, valid & ok[:, None, None, None]


@DEPTH_LOSSES.register("ssi")
class ScaleShiftInvariantLoss(nn.Module):
    """MiDaS's scale-and-shift-invariant loss in disparity space (Ranftl et al., 2020).

    Per image, the predicted disparity is aligned to the normalised ground-truth disparity by
    least squares (:func:`align_disparity`); the loss is the mean absolute residual over the
    valid pixels of the batch (MiDaS's batch-based reduction). With ``trim > 0`` the largest
    ``trim`` fraction of each image's residuals is left out (MiDaS's trimmed loss uses 0.2); the
    default 0 is the untrimmed absolute error, since generated ground truth has no outliers.

    Args:
        trim: Fraction of each image's largest residuals to leave out, in [0, 1).
    """

    def __init__(self, trim: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= trim < 1.0:
            raise ConfigError(f"ssi loss: trim must be in [0, 1), got {trim}")
        self.trim = trim

    def forward(self, pred: Tensor, gt: Tensor, valid: Tensor) -> Tensor:
        aligned, target, keep = align_disparity(pred, gt, valid)
        residual = (aligned - target).abs()  # B,1,H,W
        if self.trim > 0:
            keep = keep & ~_largest(residual, keep, self.trim)
        return masked_mean(residual, keep)


def _largest(values: Tensor, valid: Tensor, fraction: float) -> Tensor:
    """Mask of each image's ``floor(fraction * n_valid)`` largest valid ``values``."""
    flat = torch.where(valid, values, torch.full_like(values, -torch.inf)).flatten(1)  # B,N
    counts = (valid.flatten(1).sum(dim=1) * fraction).long()  # B
    order = flat.detach().argsort(dim=1, descending=True)  # B,N
    ranks = torch.empty_like(order).scatter_(
        1, order, torch.arange(flat.shape[1], device=flat.device).expand_as(order)
    )
    return (ranks < counts[:, None]).view_as(values)


@DEPTH_LOSSES.register("ssi_gradient")
class ScaleShiftInvariantGradientLoss(GradientLoss):
    """MiDaS's multi-scale gradient-matching term on the aligned disparity residual.

    ``R = aligned - target`` from :func:`align_disparity`, then :func:`gradient_matching` over
    ``scales`` scales (MiDaS: 4), which penalises wrong disparity steps between neighbours
    (sharp, correctly placed depth edges) and ignores the image's scale and shift.

    Args:
        scales: Number of scales (1 = full resolution only).
    """

    name = "ssi_gradient"

    def forward(self, pred: Tensor, gt: Tensor, valid: Tensor) -> Tensor:
        aligned, target, keep = align_disparity(pred, gt, valid)
        return gradient_matching(aligned - target, keep, self.scales)


@DEPTH_LOSSES.register("ssim")
class SSIMLoss(nn.Module):
    """``1 - SSIM`` of depth divided by ``max_depth`` (torchmetrics' SSIM, data range 1).

    Invalid pixels are set to 0 in both maps before SSIM, so they cannot influence the value, and
    the SSIM map is averaged over valid pixels only. Windows that overlap invalid pixels compare
    the same zeros on both sides.

    Args:
        max_depth: Depth that maps to 1 (``DepthLoss`` passes its own ``max_depth``).
        kernel_size: Side of the Gaussian window.
        sigma: Standard deviation of the Gaussian window.
    """

    def __init__(self, max_depth: float = 10.0, kernel_size: int = 11, sigma: float = 1.5) -> None:
        super().__init__()
        self.max_depth = max_depth
        self.kernel_size = kernel_size
        self.sigma = sigma

    def forward(self, pred: Tensor, gt: Tensor, valid: Tensor) -> Tensor:
        zeros = torch.zeros_like(pred)
        p = torch.where(valid, pred, zeros) / self.max_depth  # B,1,H,W
        g = torch.where(valid, gt, zeros) / self.max_depth  # B,1,H,W
        _, ssim_map = structural_similarity_index_measure(
            p,
            g,
            kernel_size=self.kernel_size,
            sigma=self.sigma,
            data_range=1.0,
            reduction="none",
            return_full_image=True,
        )  # B,1,H,W
        return masked_mean(1.0 - ssim_map, valid)


def build_depth_loss(name: str, args: Mapping[str, Any], max_depth: float) -> nn.Module:
    """Build loss ``name`` from ``args``; a loss that takes ``max_depth`` gets the task's value.

    Args:
        name: Name in :data:`DEPTH_LOSSES`.
        args: Constructor options from ``task.loss_args.<name>``.
        max_depth: The task's largest valid depth, the default for a ``max_depth`` option.
    """
    params = inspect.signature(DEPTH_LOSSES.get(name)).parameters
    defaults = {"max_depth": max_depth} if "max_depth" in params else {}
    return DEPTH_LOSSES.build(name, where=f"task.loss_args.{name}", **{**defaults, **args})


class DepthLoss(WeightedLoss):
    """Weighted sum of depth losses from :data:`DEPTH_LOSSES`.

    The valid mask is :func:`densepred.metrics.depth.depth_valid_mask`
    (``min_depth < gt < max_depth``), the same as the standard metrics. The prediction is cast to
    float32 so the losses are stable under mixed precision.

    Args:
        weights: Loss name -> weight, e.g. ``{"silog": 1.0, "gradient": 0.5}``.
        args: Loss name -> constructor options, e.g. ``{"silog": {"lambd": 0.5}}``.
        min_depth: Smallest valid ground-truth depth in metres.
        max_depth: Largest valid ground-truth depth in metres.

    Raises:
        ConfigError: On an unknown loss name, an unknown option, or options for an unused loss.
    """

    def __init__(
        self,
        weights: Mapping[str, float],
        args: Mapping[str, Mapping[str, Any]] | None = None,
        min_depth: float = 1e-3,
        max_depth: float = 10.0,
    ) -> None:
        args = check_loss_args(args or {}, check_loss_names(weights, DEPTH_LOSSES))
        losses = {name: build_depth_loss(name, args.get(name, {}), max_depth) for name in weights}
        super().__init__(losses, weights)
        self.min_depth = min_depth
        self.max_depth = max_depth

    def forward(self, pred: Tensor, gt: Tensor) -> tuple[Tensor, dict[str, Tensor]]:  # type: ignore[override]
        """Return the weighted total and each loss's unweighted, detached value.

        Args:
            pred: Predicted depth in metres, Bx1xHxW.
            gt: Ground-truth depth in metres (0 = invalid), Bx1xHxW.
        """
        if pred.shape != gt.shape:
            raise ValueError(f"pred {tuple(pred.shape)} and gt {tuple(gt.shape)} differ in shape")
        pred, gt = pred.float(), gt.float()  # B,1,H,W
        valid = depth_valid_mask(gt, self.min_depth, self.max_depth)  # B,1,H,W
        total, parts = super().forward(pred, gt, valid)
        return total, {name: value.detach() for name, value in parts.items()}
