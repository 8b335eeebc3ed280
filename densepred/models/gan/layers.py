"""Building blocks shared by the GAN generators and discriminators: norms, init, spectral norm."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from densepred.core.errors import ConfigError, unknown_name_message

NORMS: dict[str, Callable[[int], nn.Module]] = {
    "batch": nn.BatchNorm2d,
    "instance": lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False),
    "none": lambda c: nn.Identity(),
}


def norm_layer(name: str, channels: int) -> nn.Module:
    """The normalisation layer ``name`` (``batch``, ``instance`` or ``none``) for ``channels``."""
    if name not in NORMS:
        raise ConfigError(unknown_name_message("norm", name, NORMS))
    return NORMS[name](channels)


def conv_block(conv: nn.Conv2d | nn.ConvTranspose2d, norm: str, act: nn.Module) -> list[nn.Module]:
    """``conv``, the norm layer ``norm`` for its output channels, then the activation ``act``."""
    return [conv, norm_layer(norm, conv.out_channels), act]


def dcgan_map_size(
    image_size: Sequence[int], num_layers: int, network: str, key: str
) -> tuple[int, int]:
    """Size of the smallest map of a DCGAN network: ``image_size / 2**num_layers``.

    Args:
        image_size: Image size (H, W); both sides must be multiples of ``2 ** num_layers``.
        num_layers: Number of stride-2 layers (at least 1).
        network: The network, for messages (e.g. ``"dcgan generator"``).
        key: Config key of the network's options, for messages (e.g. ``"model.generator_args"``).
    """
    height, width = image_size
    step = 2**num_layers
    if num_layers < 1 or height % step or width % step:
        raise ConfigError(
            f"{network}: image_size {tuple(image_size)} must have both sides divisible by "
            f"2**num_layers = {step} (num_layers={num_layers}); e.g. 64x64 with num_layers=4. "
            f"Change data.image_size or {key}.num_layers."
        )
    return height // step, width // step


def dcgan_init(module: nn.Module, std: float = 0.02) -> None:
    """DCGAN/pix2pix init: conv weights ~ N(0, std), norm scales ~ N(1, std), biases 0.

    Args:
        module: The module whose submodules are initialised in place.
        std: Standard deviation of the normal draws.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


def add_spectral_norm(module: nn.Module) -> nn.Module:
    """Put spectral normalisation on every conv and linear weight of ``module`` (in place).

    Args:
        module: A discriminator.

    Returns:
        The same module.
    """
    for m in list(module.modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            spectral_norm(m)
    return module
