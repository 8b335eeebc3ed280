"""GAN generators: the DCGAN generator (noise -> image by transposed convolutions).

The conditional (pix2pix) generator is a :class:`~densepred.models.dense.DenseModel` with a
transposed-convolution U-Net decoder and the ``image`` head (tanh); see
:func:`densepred.models.gan.build.build_gan_model`.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from densepred.models.gan.layers import conv_block, dcgan_init, dcgan_map_size
from densepred.models.recipe import NETWORKS


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
        start = dcgan_map_size(image_size, num_layers, "dcgan generator", "model.generator_args")
        self.latent_dim = latent_dim
        channels = base_channels * 2 ** (num_layers - 1)
        projection = nn.ConvTranspose2d(latent_dim, channels, start, bias=False)
        layers = conv_block(projection, norm, nn.ReLU(inplace=True))
        for _ in range(num_layers - 1):
            up = nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False)
            layers += conv_block(up, norm, nn.ReLU(inplace=True))
            channels //= 2
        layers += [nn.ConvTranspose2d(channels, out_channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z[:, :, None, None])  # B x latent -> B x out_channels x H x W


NETWORKS.add("dcgan_generator", DCGANGenerator)  # the recipe of the DCGAN generator
