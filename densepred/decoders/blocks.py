"""Building blocks shared by the decoders: conv blocks, upsampling, skip plans and init."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from timm.layers import ConvNormAct
from torch import Tensor, nn

from densepred.core.errors import ConfigError, unknown_name_message

UPSAMPLE_MODES = ("transposed", "bilinear", "nearest")


def conv_block(
    in_channels: int,
    out_channels: int,
    kernel_size: int = 3,
    separable: bool = False,
    dilation: int = 1,
) -> nn.Module:
    """Conv + BN + ReLU, or its depthwise-separable form (MobileNetV1 / FastDepth style).

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Spatial kernel size; padding keeps the spatial size.
        separable: If True, a depthwise ``k x k`` conv + BN + ReLU followed by a pointwise
            ``1 x 1`` conv + BN + ReLU instead of one dense ``k x k`` conv + BN + ReLU.
        dilation: Dilation of the ``k x k`` conv.
    """
    if not separable:
        return ConvNormAct(in_channels, out_channels, kernel_size, dilation=dilation)
    return nn.Sequential(
        ConvNormAct(in_channels, in_channels, kernel_size, dilation=dilation, groups=in_channels),
        ConvNormAct(in_channels, out_channels, 1),
    )


class Upsample(nn.Module):
    """Upsample by an integer factor, learned (transposed conv) or by interpolation.

    ``transposed`` uses ``ConvTranspose2d(kernel_size=factor, stride=factor)`` (2x2 stride 2 for
    the usual factor 2, as in the MAI U-Net baseline): every output pixel gets exactly one
    kernel tap, so there are no checkerboard overlaps and any integer factor is exact. It maps
    ``in_channels`` to ``out_channels``; the interpolation modes keep ``in_channels``. A factor
    of 1 is the identity (equal consecutive reductions of dilated encoders).

    Args:
        in_channels: Input channels.
        out_channels: Output channels of the transposed conv (ignored by interpolation).
        factor: Integer scale factor (1 = no upsampling).
        mode: One of ``UPSAMPLE_MODES``.
    """

    def __init__(self, in_channels: int, out_channels: int, factor: int, mode: str) -> None:
        super().__init__()
        if mode not in UPSAMPLE_MODES:
            raise ConfigError(unknown_name_message("upsample mode", mode, UPSAMPLE_MODES))
        self.factor = factor
        self.mode = mode
        self.out_channels = in_channels
        self.up: nn.Module = nn.Identity()
        if factor > 1 and mode == "transposed":
            self.up = nn.ConvTranspose2d(in_channels, out_channels, factor, stride=factor)
            self.out_channels = out_channels
        elif factor > 1:
            align = False if mode == "bilinear" else None
            self.up = nn.Upsample(scale_factor=factor, mode=mode, align_corners=align)

    def forward(self, x: Tensor) -> Tensor:
        return self.up(x)  # B x C' x (H * factor) x (W * factor)


def check_features(channels: Sequence[int], reductions: Sequence[int]) -> None:
    """Check that an encoder's channel and reduction lists can drive a decoder.

    Args:
        channels: Channels of each feature map, shallowest first.
        reductions: Stride of each feature map relative to the input, shallowest first.
    """
    if len(channels) != len(reductions) or not channels:
        raise ConfigError(
            f"encoder_channels {list(channels)} and encoder_reductions {list(reductions)} must be "
            "non-empty lists of the same length (one entry per encoder feature map)."
        )
    for shallow, deep in itertools.pairwise(reductions):
        if shallow < 1 or deep < shallow or deep % shallow:
            raise ConfigError(
                f"encoder_reductions {list(reductions)} must be positive, shallowest first, and "
                "each one must divide the next (e.g. [2, 4, 8, 16, 32] or [2, 4, 8, 16, 16])."
            )


def skip_plan(reductions: Sequence[int]) -> list[tuple[int, int | None]]:
    """Plan the steps of a decoder that climbs from the deepest map back to stride 1.

    Step ``i`` upsamples by an integer factor and meets the skip feature map at that stride;
    the last step upsamples from the shallowest map to stride 1 and has no skip. Equal
    consecutive reductions (dilated encoders) give a factor of 1, i.e. no upsampling.

    Args:
        reductions: Encoder reductions, shallowest first (checked by :func:`check_features`).

    Returns:
        One ``(factor, skip_index)`` pair per step, deepest first; ``skip_index`` is ``None``
        for the final step. There are ``len(reductions)`` steps.
    """
    steps: list[tuple[int, int | None]] = []
    current = reductions[-1]
    for index in range(len(reductions) - 2, -1, -1):
        steps.append((current // reductions[index], index))
        current = reductions[index]
    steps.append((current, None))
    return steps


def check_step_channels(
    channels: Sequence[int],
    num_steps: int,
    where: str,
    why: str = "one per encoder feature map, the last one ending at stride 1",
) -> None:
    """Fail if a decoder's per-step ``channels`` option does not have one entry per step.

    Args:
        channels: The option value.
        num_steps: Steps of the decoder.
        where: Decoder name, for the message.
        why: How the number of steps follows from the encoder and options, for the message.
    """
    if len(channels) != num_steps:
        raise ConfigError(
            f"{where} decoder: channels={tuple(channels)} has {len(channels)} entries but the "
            f"decoder has {num_steps} steps ({why}). Give {num_steps} channel values."
        )


def init_weights(module: nn.Module) -> None:
    """Kaiming-normal init (ReLU gain, fan-in) for convs, unit/zero init for norms.

    Args:
        module: The module whose submodules are initialised in place.
    """
    norms = (nn.BatchNorm2d, nn.GroupNorm)
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
        elif isinstance(m, nn.ConvTranspose2d):
            # Each output pixel sums in/groups * prod(kernel) / prod(stride) input taps.
            taps = m.in_channels // m.groups * math.prod(m.kernel_size) // math.prod(m.stride)
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / max(taps, 1)))
        elif isinstance(m, norms) and m.weight is not None:
            nn.init.ones_(m.weight)
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, *norms)) and m.bias is not None:
            nn.init.zeros_(m.bias)
