"""GAN discriminators: the pix2pix PatchGAN, the DCGAN classifier, and any encoder as a backbone.

:func:`build_discriminator` takes a name from :data:`DISCRIMINATORS` (``patchgan``, ``dcgan``)
or any encoder name (``list_encoders()`` or timm), which becomes a backbone discriminator: the
timm classifier with ``include_top=True`` and one logit. Every discriminator is built for a
fixed ``in_channels`` (condition + image channels for conditional GANs) and checks that the
training ``image_size`` suits it. Outputs are raw logits: ``B x 1 x h x w`` for PatchGAN,
``B x 1`` for the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from densepred.core.errors import ConfigError, unknown_name_message
from densepred.core.registry import Registry, check_kwargs
from densepred.encoders import create_encoder, resolve_encoder_name
from densepred.models.gan.layers import add_spectral_norm, conv_block, dcgan_init, dcgan_map_size

DISCRIMINATORS: Registry = Registry("discriminator")


def _conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output length of a convolution along one axis."""
    return (size + 2 * padding - kernel) // stride + 1


def _lrelu() -> nn.LeakyReLU:
    return nn.LeakyReLU(0.2, inplace=True)


def _down_layers(
    in_channels: int, base_channels: int, strides: Sequence[int], norm: str, bias: bool
) -> tuple[list[nn.Module], int]:
    """The convolutions of a PatchGAN / DCGAN discriminator, without the final one.

    A 4x4 stride-2 conv to ``base_channels`` (no norm), then a 4x4 conv - norm - LeakyReLU 0.2
    block per entry of ``strides``, channels doubling per block up to 8x ``base_channels``.

    Returns:
        The layers and their output channels.
    """
    layers: list[nn.Module] = [nn.Conv2d(in_channels, base_channels, 4, 2, 1), _lrelu()]
    channels = base_channels
    for i, stride in enumerate(strides, start=1):
        out = base_channels * min(2**i, 8)
        layers += conv_block(nn.Conv2d(channels, out, 4, stride, 1, bias=bias), norm, _lrelu())
        channels = out
    return layers, channels


@DISCRIMINATORS.register("patchgan")
class PatchGANDiscriminator(nn.Module):
    """pix2pix PatchGAN: one real/fake logit per overlapping image patch.

    With ``num_layers=3`` it is the 70x70 PatchGAN C64(s2, no norm) - C128(s2) - C256(s2) -
    C512(s1) - 1-channel conv(s1), 4x4 kernels, LeakyReLU 0.2. Each extra layer adds one
    stride-2 block (channels capped at 8x ``base_channels``); the receptive field is 16, 34, 70,
    142, ... pixels for 1, 2, 3, 4, ... layers.

    Args:
        in_channels: Input channels (condition + image for pix2pix).
        image_size: Training image size (H, W); each side must leave an output of at least 1x1.
        base_channels: Channels of the first layer.
        num_layers: Number of stride-2 layers.
        norm: ``batch``, ``instance`` or ``none`` (the first layer never has a norm).
    """

    def __init__(
        self,
        in_channels: int,
        image_size: Sequence[int],
        base_channels: int = 64,
        num_layers: int = 3,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ConfigError(f"patchgan discriminator: num_layers must be >= 1, got {num_layers}.")
        self.output_size = self._output_size(image_size, num_layers)
        strides = [2] * (num_layers - 1) + [1]
        layers, channels = _down_layers(
            in_channels, base_channels, strides, norm, bias=norm != "batch"
        )
        layers.append(nn.Conv2d(channels, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    @staticmethod
    def _output_size(image_size: Sequence[int], num_layers: int) -> tuple[int, int]:
        """Size of the logit map for ``image_size``; fails if a side would vanish."""
        sides = []
        for side in image_size:
            for _ in range(num_layers):
                side = _conv_out(side, 4, 2, 1)
            sides.append(_conv_out(_conv_out(side, 4, 1, 1), 4, 1, 1))
        if min(sides) < 1:
            smallest = 2**num_layers * 3
            raise ConfigError(
                f"patchgan discriminator: image_size {tuple(image_size)} is too small for "
                f"num_layers={num_layers} (it would give a {sides[0]}x{sides[1]} logit map). "
                f"Use images of at least {smallest}x{smallest} pixels or fewer layers."
            )
        return sides[0], sides[1]

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # B x 1 x h x w (one logit per patch)


@DISCRIMINATORS.register("dcgan")
class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator: 4x4 stride-2 convs (BN, LeakyReLU 0.2) down to one logit.

    With ``num_layers=4`` on 64x64 images it is the pytorch/examples DCGAN discriminator; the
    final conv spans the remaining ``(H / 2**num_layers) x (W / 2**num_layers)`` map.

    Args:
        in_channels: Input channels.
        image_size: Image size (H, W); both sides must be multiples of ``2 ** num_layers``.
        base_channels: Channels of the first layer (doubled per layer, capped at 8x).
        num_layers: Number of stride-2 layers.
        norm: ``batch``, ``instance`` or ``none`` (the first layer never has a norm).
    """

    def __init__(
        self,
        in_channels: int,
        image_size: Sequence[int],
        base_channels: int = 64,
        num_layers: int = 4,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        end = dcgan_map_size(
            image_size, num_layers, "dcgan discriminator", "model.discriminator_args"
        )
        strides = [2] * (num_layers - 1)
        layers, channels = _down_layers(in_channels, base_channels, strides, norm, bias=False)
        layers += [nn.Conv2d(channels, 1, end), nn.Flatten()]
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # B x 1


class BackboneDiscriminator(nn.Module):
    """Any encoder's classifier (``include_top=True``, one output) used as a discriminator.

    Args:
        encoder: Encoder name (friendly alias or timm name).
        in_channels: Input channels (condition + image for conditional GANs).
        image_size: Image size (H, W); both sides must be at least the network's total stride.
        pretrained: ``False`` or a local weights file (the classifier layer is re-created).
        **encoder_args: Extra keyword arguments for ``timm.create_model``.
    """

    def __init__(
        self,
        encoder: str,
        in_channels: int,
        image_size: Sequence[int],
        pretrained: bool | str = False,
        **encoder_args: Any,
    ) -> None:
        super().__init__()

        try:
            self.net = create_encoder(
                encoder,
                include_top=True,
                pretrained=pretrained,
                in_channels=in_channels,
                num_classes=1,
                **encoder_args,
            )
        except ConfigError as exc:  # an option timm.create_model does not take
            if not encoder_args:
                raise
            raise ConfigError(
                f"backbone discriminator: {exc} Backbones take timm.create_model options; "
                "patchgan/dcgan options do not apply."
            ) from None
        stride = int(self.net.feature_info[-1]["reduction"])
        if min(image_size) < stride:
            raise ConfigError(
                f"backbone discriminator '{encoder}': image_size {tuple(image_size)} is smaller than "
                f"its total stride {stride}; use images of at least {stride}x{stride} pixels."
            )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # B x 1


def check_discriminator_name(name: str) -> None:
    """Fail with the valid choices unless ``name`` is a discriminator or a known encoder."""
    if name in DISCRIMINATORS:
        return

    try:
        resolve_encoder_name(name)
    except ConfigError as exc:
        raise ConfigError(
            unknown_name_message("discriminator", name, DISCRIMINATORS)
            + f" Any encoder name also works (a backbone discriminator), but: {exc}"
        ) from None


def build_discriminator(
    name: str,
    in_channels: int,
    image_size: Sequence[int],
    spectral_norm: bool = False,
    args: dict[str, Any] | None = None,
) -> nn.Module:
    """Build a discriminator by name.

    Args:
        name: ``patchgan``, ``dcgan`` or any encoder name (a backbone discriminator).
        in_channels: Input channels.
        image_size: Training image size (H, W), checked against the discriminator.
        spectral_norm: Put spectral normalisation on every conv/linear weight.
        args: Options of the discriminator (``model.discriminator_args``).
    """
    check_discriminator_name(name)
    where = "model.discriminator_args"
    internal = {"in_channels": in_channels, "image_size": tuple(image_size)}
    if name in DISCRIMINATORS:
        disc = DISCRIMINATORS.build(name, where=where, internal=internal, **(args or {}))
    else:
        check_kwargs(BackboneDiscriminator, args or {}, where, internal=[*internal, "encoder"])
        disc = BackboneDiscriminator(encoder=name, **internal, **(args or {}))
    return add_spectral_norm(disc) if spectral_norm else disc
