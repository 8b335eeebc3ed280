"""GAN generators: the DCGAN generator (noise -> image by transposed convolutions).

The conditional (pix2pix) generator is a :class:`~densepred.models.dense.DenseModel` with a
transposed-convolution U-Net decoder and the ``image`` head (tanh); see
:func:`densepred.models.gan.config.build_gan_model`.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from densepred.errors import ConfigError
from densepred.models.gan.layers import dcgan_init, norm_layer


class DCGANGenerator(nn.Module):
    """DCGAN generator: a latent vector -> an image in [-1, 1].

    A transposed conv projects ``z`` (as a 1x1 map) to ``(H / 2**num_layers) x (W / 2**num_layers)``,
    then ``num_layers`` 4x4 stride-2 transposed convs double the size (BN + ReLU, channels
    halved each time) and the last one ends in ``out_channels`` and tanh. With ``num_layers=4``
    and 64x64 images it is the pytorch/examples DCGAN generator.

    Args:
        image_size: Output size (H, W); both sides must be multiples of ``2 ** num_layers``.
        out_channels: Image channels.
        latent_dim: Length of the noise vector.
        base_channels: Channels before the last layer (the first has ``base * 2**(num_layers-1)``).
        num_layers: Number of stride-2 transposed convs.
        norm: ``batch``, ``instance`` or ``none``.
    """

    def __init__(
        self,
        image_size: Sequence[int],
        out_channels: int = 3,
        latent_dim: int = 100,
        base_channels: int = 64,
        num_layers: int = 4,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        height, width = image_size
        step = 2**num_layers
        if num_layers < 1 or height % step or width % step:
            raise ConfigError(
                f"dcgan generator: image_size {tuple(image_size)} must have both sides divisible "
                f"by 2**num_layers = {step} (num_layers={num_layers}); e.g. 64x64 with num_layers=4. "
                "Change data.image_size or model.generator_args.num_layers."
            )
        self.latent_dim = latent_dim
        channels = base_channels * 2 ** (num_layers - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, channels, (height // step, width // step), bias=False),
            norm_layer(norm, channels),
            nn.ReLU(inplace=True),
        ]
        for _ in range(num_layers - 1):
            layers += [
                nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False),
                norm_layer(norm, channels // 2),
                nn.ReLU(inplace=True),
            ]
            channels //= 2
        layers += [nn.ConvTranspose2d(channels, out_channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z[:, :, None, None])  # B x latent -> B x out_channels x H x W
