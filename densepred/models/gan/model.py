"""The generator/discriminator pair trained by :class:`~densepred.tasks.gan.GANTask`."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class GANModel(nn.Module):
    """A generator and a discriminator; conditional pairs show the discriminator the condition.

    Args:
        generator: Condition -> image (conditional) or latent ``B x latent_dim`` -> image.
        discriminator: Image (concatenated after the condition when conditional) -> logits.
        conditional: Whether the generator maps a condition image (pix2pix) or noise (DCGAN).
        latent_dim: Length of the noise vector of unconditional generators (0 otherwise).
    """

    def __init__(
        self, generator: nn.Module, discriminator: nn.Module, conditional: bool, latent_dim: int = 0
    ) -> None:
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.conditional = conditional
        self.latent_dim = latent_dim

    def encoder_modules(self) -> list[nn.Module]:
        """The generator's encoder modules (none for the DCGAN generator)."""
        encoder = getattr(self.generator, "encoder_modules", None)
        return encoder() if encoder is not None else []

    def forward(self, source: Tensor) -> Tensor:
        """Condition ``B x C x H x W`` or latent ``B x latent_dim`` -> image ``B x C' x H x W`` in [-1, 1]."""
        return self.generator(source)

    def sample_latent(self, num: int, generator: torch.Generator | None = None) -> Tensor:
        """``num`` standard-normal latent vectors on the model's device (``num x latent_dim``)."""
        device = next(self.parameters()).device
        noise = torch.randn(num, self.latent_dim, generator=generator)  # num, latent_dim
        return noise.to(device)

    def discriminate(self, image: Tensor, condition: Tensor | None = None) -> Tensor:
        """Discriminator logits for ``image``, seen together with its condition when conditional."""
        if self.conditional:
            image = torch.cat([condition, image], dim=1)  # B x (C_cond + C_img) x H x W
        return self.discriminator(image)
