"""Depth metrics: per-image pure functions and a torchmetrics ``Metric`` that averages them.

Two families are computed, each exactly as its reference code defines it (see ``docs/metrics.md``):

- standard metrics (BTS / AdaBins evaluation code): ``abs_rel, sq_rel, rmse, rmse_log, log10,
  silog, delta1, delta2, delta3``; valid pixels are ``min_depth < gt < max_depth`` and the
  prediction is clipped into ``[min_depth, max_depth]``;
- MAI challenge metrics (official ``losses_python.py``, in millimetres): ``mai_rmse,
  mai_si_rmse, mai_log10, mai_rel``; prediction and ground truth below 1 mm are set to 1 mm and
  valid pixels are ``gt > 1 mm``. No ``max_depth`` applies to them.

Every value is computed per image and then averaged over images (the BTS/AdaBins convention).
An image without a valid pixel gives NaN for the metrics of that family.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor
from torchmetrics import Metric

Direction = Literal["min", "max"]

STANDARD_METRICS: tuple[str, ...] = (
    "abs_rel",
    "sq_rel",
    "rmse",
    "rmse_log",
    "log10",
    "silog",
    "delta1",
    "delta2",
    "delta3",
)
MAI_METRICS: tuple[str, ...] = ("mai_rmse", "mai_si_rmse", "mai_log10", "mai_rel")
METRIC_NAMES: tuple[str, ...] = STANDARD_METRICS + MAI_METRICS

# Whether a lower ("min") or higher ("max") value is better, in the words of Lightning's ``mode``.
METRIC_DIRECTIONS: dict[str, Direction] = {
    name: "max" if name.startswith("delta") else "min" for name in METRIC_NAMES
}

# The MAI reference works on depth in millimetres and clamps both maps to at least 1 mm.
MAI_MIN_MM = 1.0


def _flatten(x: Tensor, name: str) -> Tensor:
    """Bx1xHxW or BxHxW -> Bx(H*W) float32."""
    if x.dim() == 4 and x.shape[1] == 1:
        x = x[:, 0]  # B,H,W
    if x.dim() != 3:
        raise ValueError(f"{name} must have shape Bx1xHxW or BxHxW, got {tuple(x.shape)}")
    return x.reshape(x.shape[0], -1).float()  # B,N


def _flatten_pair(pred: Tensor, gt: Tensor) -> tuple[Tensor, Tensor]:
    """Flatten prediction and ground truth to Bx(H*W), checking they describe the same pixels."""
    pred_flat, gt_flat = _flatten(pred, "pred"), _flatten(gt, "gt")
    if pred_flat.shape != gt_flat.shape:
        raise ValueError(
            f"pred {tuple(pred.shape)} and gt {tuple(gt.shape)} must cover the same pixels; "
            "resize the prediction to the ground truth first"
        )
    return pred_flat, gt_flat


def _masked_mean(values: Tensor, valid: Tensor) -> Tensor:
    """Per-row mean of ``values`` over ``valid`` entries: BxN, BxN bool -> B (NaN if none valid)."""
    total = torch.where(valid, values, torch.zeros_like(values)).sum(dim=1)  # B
    return total / valid.sum(dim=1)  # B


def depth_valid_mask(gt: Tensor, min_depth: float, max_depth: float) -> Tensor:
    """Valid ground-truth pixels of the standard metrics and of the training losses.

    Args:
        gt: Ground-truth depth in metres (0 = invalid), any shape.
        min_depth: Pixels must be deeper than this (strictly).
        max_depth: Pixels must be closer than this (strictly), as in the BTS/AdaBins evaluation.

    Returns:
        Bool tensor of ``gt``'s shape: ``(gt > min_depth) & (gt < max_depth)``.
    """
    return (gt > min_depth) & (gt < max_depth)


def mai_valid_mask(gt: Tensor) -> Tensor:
    """Valid ground-truth pixels of the MAI metrics: ``gt > 1 mm`` (``gt`` in metres, any shape)."""
    return gt * 1000.0 > MAI_MIN_MM


def standard_depth_metrics(
    pred: Tensor, gt: Tensor, min_depth: float = 1e-3, max_depth: float = 10.0
) -> dict[str, Tensor]:
    """Per-image BTS/AdaBins metrics.

    With ``p = clip(pred, min_depth, max_depth)``, ``g = gt`` and means over the valid pixels
    ``min_depth < g < max_depth`` of each image, ``e = ln p - ln g``:

    - ``abs_rel = mean(|g - p| / g)``; ``sq_rel = mean((g - p)^2 / g)``
    - ``rmse = sqrt(mean((g - p)^2))``; ``rmse_log = sqrt(mean(e^2))``
    - ``log10 = mean(|log10 p - log10 g|)``
    - ``silog = 100 * sqrt(mean(e^2) - mean(e)^2)``, evaluated as ``100 * sqrt(mean((e -
      mean(e))^2))``, which is the same quantity without float cancellation
    - ``delta_k = mean(max(g / p, p / g) < 1.25^k)`` for k = 1, 2, 3

    Args:
        pred: Predicted depth in metres, Bx1xHxW or BxHxW.
        gt: Ground-truth depth in metres (0 = invalid), same shape.
        min_depth: Lower validity bound and lower clip of the prediction.
        max_depth: Upper validity bound and upper clip of the prediction.

    Returns:
        Metric name -> per-image values (shape B); NaN for an image without valid pixels.
    """
    p, g = _flatten_pair(pred, gt)  # B,N
    p = p.clamp(min_depth, max_depth)  # B,N
    valid = depth_valid_mask(g, min_depth, max_depth)  # B,N
    g = torch.where(valid, g, torch.ones_like(g))  # B,N; keeps logs and ratios finite off-mask

    def mean(values: Tensor) -> Tensor:
        return _masked_mean(values, valid)  # B

    err = p - g  # B,N
    log_err = torch.log(p) - torch.log(g)  # B,N
    log_err_centred = log_err - mean(log_err)[:, None]  # B,N
    ratio = torch.maximum(g / p, p / g)  # B,N
    metrics = {
        "abs_rel": mean(err.abs() / g),
        "sq_rel": mean(err**2 / g),
        "rmse": mean(err**2).sqrt(),
        "rmse_log": mean(log_err**2).sqrt(),
        "log10": mean((torch.log10(p) - torch.log10(g)).abs()),
        "silog": 100.0 * mean(log_err_centred**2).sqrt(),
    }
    for k in (1, 2, 3):
        metrics[f"delta{k}"] = mean((ratio < 1.25**k).float())
    return metrics


def mai_depth_metrics(pred: Tensor, gt: Tensor) -> dict[str, Tensor]:
    """Per-image MAI challenge metrics, following the official ``losses_python.py``.

    Depth is converted to millimetres and both maps are clamped to at least 1 mm; valid pixels are
    ``g > 1`` (mm) and ``N`` is their count in the image. ``max_depth`` is not applied. With
    ``d = ln p - ln g`` on valid pixels (natural log, no scaling):

    - ``mai_rmse = sqrt(sum(((g - p) / 1000)^2) / N)`` (metres)
    - ``mai_si_rmse = sqrt(sum(d^2) / N - (sum d)^2 / N^2)``, evaluated as ``sqrt(mean((d -
      mean(d))^2))``, which is the same quantity without float cancellation
    - ``mai_log10 = sum(|log10 p - log10 g|) / N``
    - ``mai_rel = sum(|p - g| / g) / N``

    Args:
        pred: Predicted depth in metres, Bx1xHxW or BxHxW.
        gt: Ground-truth depth in metres (0 = invalid), same shape.

    Returns:
        Metric name -> per-image values (shape B); NaN for an image without valid pixels.
    """
    p, g = _flatten_pair(pred, gt)  # B,N
    valid = mai_valid_mask(g)  # B,N
    p = (p * 1000.0).clamp_min(MAI_MIN_MM)  # B,N millimetres
    g = (g * 1000.0).clamp_min(MAI_MIN_MM)  # B,N millimetres

    def mean(values: Tensor) -> Tensor:
        return _masked_mean(values, valid)  # B

    log_err = torch.log(p) - torch.log(g)  # B,N
    log_err_centred = log_err - mean(log_err)[:, None]  # B,N
    return {
        "mai_rmse": mean(((g - p) / 1000.0) ** 2).sqrt(),
        "mai_si_rmse": mean(log_err_centred**2).sqrt(),
        "mai_log10": mean((torch.log10(p) - torch.log10(g)).abs()),
        "mai_rel": mean((p - g).abs() / g),
    }


def compute_depth_metrics(
    pred: Tensor, gt: Tensor, min_depth: float = 1e-3, max_depth: float = 10.0
) -> dict[str, Tensor]:
    """All depth metrics of :data:`METRIC_NAMES`, per image.

    Args:
        pred: Predicted depth in metres, Bx1xHxW or BxHxW.
        gt: Ground-truth depth in metres (0 = invalid), same shape.
        min_depth: Lower bound of the standard metrics (see :func:`standard_depth_metrics`).
        max_depth: Upper bound of the standard metrics; the MAI metrics have none.

    Returns:
        Metric name -> per-image values (shape B), NaN where an image has no valid pixel under
        that metric's definition.
    """
    pred, gt = pred.detach(), gt.detach()
    return {
        **standard_depth_metrics(pred, gt, min_depth, max_depth),
        **mai_depth_metrics(pred, gt),
    }


class DepthMetrics(Metric):
    """Mean over images of the per-image values of :func:`compute_depth_metrics`.

    States are sums (``dist_reduce_fx="sum"``), so the result equals the mean over all images seen
    however they were split into batches or processes. An image without a valid pixel under a
    metric's definition is skipped for that metric: ``counts[i]`` holds the images that entered
    metric ``METRIC_NAMES[i]`` and ``num_images`` all images seen, so ``num_images - counts`` are
    the skipped ones. Only metrics are returned by :meth:`compute`, keyed by :data:`METRIC_NAMES`
    (NaN for a metric that saw no valid image).

    Args:
        min_depth: Lower bound of the standard metrics, in metres.
        max_depth: Upper bound of the standard metrics, in metres.
    """

    is_differentiable = False
    higher_is_better = None
    full_state_update = False

    sums: Tensor
    counts: Tensor
    num_images: Tensor

    def __init__(self, min_depth: float = 1e-3, max_depth: float = 10.0) -> None:
        super().__init__()
        if not 0 < min_depth < max_depth:
            raise ValueError(f"need 0 < min_depth < max_depth, got {min_depth} and {max_depth}")
        self.min_depth = min_depth
        self.max_depth = max_depth
        num = len(METRIC_NAMES)
        self.add_state("sums", torch.zeros(num, dtype=torch.float32), dist_reduce_fx="sum")
        self.add_state("counts", torch.zeros(num, dtype=torch.float32), dist_reduce_fx="sum")
        self.add_state("num_images", torch.zeros((), dtype=torch.float32), dist_reduce_fx="sum")

    def update(self, pred: Tensor, gt: Tensor) -> None:
        """Add the images of one batch (pred and gt in metres, Bx1xHxW or BxHxW)."""
        values = compute_depth_metrics(pred, gt, self.min_depth, self.max_depth)
        gt_flat = gt.reshape(gt.shape[0], -1)  # B,N
        has_standard = depth_valid_mask(gt_flat, self.min_depth, self.max_depth).any(dim=1)  # B
        has_mai = mai_valid_mask(gt_flat).any(dim=1)  # B
        stacked = torch.stack([values[name] for name in METRIC_NAMES])  # M,B
        used = torch.stack(
            [has_mai if name in MAI_METRICS else has_standard for name in METRIC_NAMES]
        )  # M,B
        self.sums += torch.where(used, stacked, torch.zeros_like(stacked)).sum(dim=1)  # M
        self.counts += used.sum(dim=1)  # M
        self.num_images += gt.shape[0]

    def compute(self) -> dict[str, Tensor]:
        """Metric name -> mean over the images that had valid pixels (scalar tensors)."""
        means = self.sums / self.counts  # M
        return {name: means[i] for i, name in enumerate(METRIC_NAMES)}
