"""Adversarial losses of GAN mode: ``vanilla`` (pix2pix/DCGAN), ``lsgan`` and ``hinge``.

Each loss in :data:`GAN_LOSSES` is a function ``loss(logits, real, for_discriminator) -> scalar``
on raw discriminator outputs of any shape (``B x 1`` for a classifier, ``B x 1 x h x w`` for a
PatchGAN, averaged over all entries). :class:`GANLoss` combines them into the two objectives:
the discriminator's ``0.5 * (real + fake)`` and the generator's loss on fakes labelled real.
:func:`reconstruction_loss` adds the generator's L1 / SSIM terms of conditional runs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics.functional.image import structural_similarity_index_measure

from densepred.core.registry import Registry
from densepred.losses.weighted import WeightedLoss
from densepred.metrics.image import to_unit

GAN_LOSSES: Registry = Registry("GAN loss")


@GAN_LOSSES.register("vanilla")
def vanilla_loss(logits: Tensor, real: bool, for_discriminator: bool = True) -> Tensor:
    """Binary cross-entropy on logits (the non-saturating generator loss of Goodfellow et al.).

    Args:
        logits: Discriminator outputs of any shape.
        real: Whether the logits should say "real".
        for_discriminator: Unused; the same target is used for both players.
    """
    target = torch.full_like(logits, 1.0 if real else 0.0)
    return F.binary_cross_entropy_with_logits(logits, target)


@GAN_LOSSES.register("lsgan")
def lsgan_loss(logits: Tensor, real: bool, for_discriminator: bool = True) -> Tensor:
    """Least-squares GAN: mean squared distance of the outputs to 1 (real) or 0 (fake).

    Args:
        logits: Discriminator outputs of any shape.
        real: Whether the outputs should say "real".
        for_discriminator: Unused; the same target is used for both players.
    """
    target = torch.full_like(logits, 1.0 if real else 0.0)
    return F.mse_loss(logits, target)


@GAN_LOSSES.register("hinge")
def hinge_loss(logits: Tensor, real: bool, for_discriminator: bool = True) -> Tensor:
    """Hinge loss (SAGAN/BigGAN): margins for the discriminator, ``-mean(D(fake))`` for the generator.

    Args:
        logits: Discriminator outputs of any shape.
        real: Whether the outputs should say "real".
        for_discriminator: Discriminator form (``relu(1 -+ logits)``) or generator form.
    """
    if not for_discriminator:
        return -logits.mean()
    return F.relu(1.0 - logits).mean() if real else F.relu(1.0 + logits).mean()


class GANLoss(nn.Module):
    """The two adversarial objectives built from one loss of :data:`GAN_LOSSES`.

    Args:
        name: ``vanilla``, ``lsgan`` or ``hinge``.
    """

    def __init__(self, name: str = "vanilla") -> None:
        super().__init__()
        self.name = name
        self.loss = GAN_LOSSES.get(name)

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        """``0.5 * (loss(D(real), real) + loss(D(fake), fake))``; pass fakes detached."""
        return 0.5 * (self.loss(real_logits, True) + self.loss(fake_logits, False))

    def generator(self, fake_logits: Tensor) -> Tensor:
        """The generator's adversarial loss: its fakes should be judged real."""
        return self.loss(fake_logits, True, for_discriminator=False)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


class L1ImageLoss(nn.Module):
    """Mean absolute error between generated and target images (both in [-1, 1])."""

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        return F.l1_loss(fake, real)


class SSIMImageLoss(nn.Module):
    """``1 - SSIM`` of generated and target images, computed on [0, 1] (torchmetrics' SSIM)."""

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        ssim = structural_similarity_index_measure(to_unit(fake), to_unit(real), data_range=1.0)
        return 1.0 - ssim


def reconstruction_loss(l1_weight: float, ssim_weight: float) -> WeightedLoss | None:
    """The generator's reconstruction term of conditional runs: ``l1_weight * L1 +
    ssim_weight * (1 - SSIM)`` with zero-weight terms left out; ``None`` if both are 0."""
    terms = {"l1": (L1ImageLoss, l1_weight), "ssim": (SSIMImageLoss, ssim_weight)}
    used = {name: (cls, w) for name, (cls, w) in terms.items() if w > 0}
    if not used:
        return None
    return WeightedLoss({n: cls() for n, (cls, _) in used.items()}, {n: w for n, (_, w) in used.items()})
