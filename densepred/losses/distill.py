"""Knowledge-distillation losses: a student's outputs and features against a teacher's.

Prediction terms live in :data:`DISTILL_LOSSES` (``student, teacher -> scalar``): ``silog`` and
``l1_log`` compare depth maps in metres, ``kl`` compares logits softened by a temperature
(segmentation maps BxCxHxW, class scores BxC, a binary map's single logit). :class:`FeatureDistillation`
matches chosen encoder stages through 1x1 adapters; :func:`fill_invalid_depth` lets a teacher's
depth stand in where the ground truth is invalid.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from densepred.core.registry import Registry
from densepred.losses.depth import SILogLoss, safe_log

DISTILL_LOSSES: Registry[type[nn.Module]] = Registry("distillation loss")


def depth_range_mask(depth: Tensor, min_depth: float, max_depth: float) -> Tensor:
    """Pixels whose depth lies strictly inside ``(min_depth, max_depth)`` (the validity rule of
    the depth losses and metrics)."""
    return (depth > min_depth) & (depth < max_depth)


@DISTILL_LOSSES.register("silog")
class SILogDistillLoss(nn.Module):
    """Scale-invariant log loss of the student's depth against the teacher's (every pixel).

    Args:
        alpha: Output scale (BTS: 10).
        lambd: Variance focus (1: fully scale invariant).
    """

    def __init__(self, alpha: float = 10.0, lambd: float = 0.85) -> None:
        super().__init__()
        self.silog = SILogLoss(alpha=alpha, lambd=lambd)

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        return self.silog(student, teacher, torch.ones_like(student, dtype=torch.bool))


@DISTILL_LOSSES.register("l1_log")
class L1LogDistillLoss(nn.Module):
    """Mean absolute difference of the log depths: ``mean(|ln student - ln teacher|)``."""

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        return (safe_log(student) - safe_log(teacher)).abs().mean()


@DISTILL_LOSSES.register("kl")
class SoftLogitLoss(nn.Module):
    """KL divergence of temperature-softened class distributions, times ``temperature**2``
    (Hinton et al., 2015), averaged over samples and pixels.

    Logits are Bx C (x H x W); one channel is a binary logit (sigmoid), read as two classes.

    Args:
        temperature: Softening temperature ``T`` (> 0).
    """

    def __init__(self, temperature: float = 1.0) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.temperature = temperature

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        t = self.temperature
        if student.shape[1] == 1:  # binary: sigmoid(l) == softmax([0, l])
            student = torch.cat([torch.zeros_like(student), student], dim=1)
            teacher = torch.cat([torch.zeros_like(teacher), teacher], dim=1)
        log_s = F.log_softmax(student / t, dim=1)
        log_t = F.log_softmax(teacher / t, dim=1)
        kl = (log_t.exp() * (log_t - log_s)).sum(dim=1)  # B (x H x W)
        return kl.mean() * t * t


def fill_invalid_depth(gt: Tensor, teacher: Tensor, min_depth: float, max_depth: float) -> Tensor:
    """Ground truth with the teacher's depth wherever the ground truth is invalid.

    Args:
        gt: Bx1xHxW depth in metres (invalid: outside ``(min_depth, max_depth)``, e.g. 0).
        teacher: Bx1xHxW teacher depth in metres (no gradient needed).
        min_depth: Smallest valid depth.
        max_depth: Largest valid depth.
    """
    valid = depth_range_mask(gt, min_depth, max_depth)
    return torch.where(valid, gt, teacher.detach().to(gt.dtype))


class FeatureDistillation(nn.Module):
    """Mean squared error between adapted student features and teacher features.

    One 1x1 convolution per chosen stage maps the student's channels to the teacher's (started
    as the identity when the counts agree, so a student equal to its teacher scores 0); the
    adapted map is resized bilinearly to the teacher map's size.

    Args:
        stages: Encoder stage indices (into the encoders' feature lists).
        student_channels: Channels of every student stage.
        teacher_channels: Channels of every teacher stage.
    """

    def __init__(
        self, stages: list[int], student_channels: list[int], teacher_channels: list[int]
    ) -> None:
        super().__init__()
        self.stages = list(stages)
        self.adapters = nn.ModuleList(
            self._adapter(student_channels[i], teacher_channels[i]) for i in self.stages
        )

    @staticmethod
    def _adapter(c_in: int, c_out: int) -> nn.Conv2d:
        conv = nn.Conv2d(c_in, c_out, kernel_size=1)
        if c_in == c_out:
            with torch.no_grad():
                conv.weight.copy_(torch.eye(c_in).view(c_in, c_in, 1, 1))
                conv.bias.zero_()
        return conv

    def forward(self, student: list[Tensor], teacher: list[Tensor]) -> Tensor:
        """Mean over the chosen stages of the MSE (each a scalar)."""
        losses = []
        for adapter, i in zip(self.adapters, self.stages, strict=True):
            mapped = adapter(student[i])  # B x C_t x h_s x w_s
            target = teacher[i].detach()
            if mapped.shape[-2:] != target.shape[-2:]:
                mapped = F.interpolate(
                    mapped, size=target.shape[-2:], mode="bilinear", align_corners=False
                )
            losses.append(F.mse_loss(mapped, target.to(mapped.dtype)))
        return torch.stack(losses).mean()
