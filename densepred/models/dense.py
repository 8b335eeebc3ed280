"""DenseModel: encoder -> decoder -> head, for inputs of any size."""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from densepred.core.errors import ConfigError
from densepred.decoders import DECODERS
from densepred.decoders.heads import HEADS
from densepred.encoders import create_encoder
from densepred.encoders.weights import Pretrained
from densepred.models.recipe import NETWORKS


class DenseModel(nn.Module):
    """Dense prediction network: encoder features -> decoder map -> head -> input resolution.

    Inputs of any size work: the input is padded on the bottom and right (replicate padding,
    which, unlike reflect padding, works for any pad size, even on inputs smaller than the
    pad) to a multiple of the encoder's output stride, and the output is cropped back.

    Args:
        encoder: Encoder name for :func:`densepred.encoders.create_encoder`, or an encoder
            module whose ``forward`` returns a list of feature maps and which has ``channels``
            and ``reductions`` lists.
        decoder: Name in :data:`densepred.decoders.DECODERS`.
        head: Name in :data:`densepred.decoders.heads.HEADS`.
        encoder_args: Options of ``create_encoder`` (``pretrained``, ``output_stride``,
            ``in_channels``, extra timm kwargs); only with an encoder name.
        decoder_args: Options of the decoder (checked against its signature).
        head_args: Options of the head (checked against its signature).
    """

    encoder: nn.Module
    decoder: nn.Module
    head: nn.Module

    def __init__(
        self,
        encoder: str | nn.Module = "mobilenet_v3_large",
        decoder: str = "unet",
        head: str = "depth",
        encoder_args: dict[str, Any] | None = None,
        decoder_args: dict[str, Any] | None = None,
        head_args: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if isinstance(encoder, str):
            encoder = create_encoder(encoder, include_top=False, **(encoder_args or {}))
        elif encoder_args:
            raise ConfigError(
                f"DenseModel: encoder_args {sorted(encoder_args)} only apply to an encoder given "
                "by name; configure the encoder module before passing it."
            )
        if not all(hasattr(encoder, a) for a in ("channels", "reductions")):
            raise ConfigError(
                f"DenseModel: the encoder module {type(encoder).__name__} has no `channels` and "
                "`reductions` lists (one entry per feature map it returns). Build it with "
                "densepred.encoders.create_encoder(name) or add these attributes."
            )
        self.encoder = encoder
        self.decoder = DECODERS.build(
            decoder,
            where="model.decoder_args",
            internal={
                "encoder_channels": list(encoder.channels),
                "encoder_reductions": list(encoder.reductions),
            },
            **(decoder_args or {}),
        )
        self.head = HEADS.build(
            head,
            where="model.head_args",
            internal={"in_channels": self.decoder.out_channels},
            **(head_args or {}),
        )

    @property
    def output_stride(self) -> int:
        """Stride of the deepest encoder map; inputs are padded to a multiple of it."""
        return max(self.encoder.reductions)

    def encoder_modules(self) -> list[nn.Module]:
        """The modules that form the pretrained encoder (transfer learning freezes them)."""
        return [self.encoder]

    def forward(self, x: Tensor) -> Tensor:
        height, width = x.shape[-2:]
        # Every stride-2 stage of the encoder maps a side n to ceil(n / 2) (convs and pools pad
        # k // 2). When the side is a multiple of the output stride (the product of all those
        # strides, max(reductions)), every map at reduction r is exactly side / r, so the
        # decoder's upsampling by reduction ratios lands exactly on each skip and on the input.
        stride = self.output_stride
        x = F.pad(x, (0, -width % stride, 0, -height % stride), mode="replicate")  # B x C x H' x W'
        y = self.head(self.decoder(self.encoder(x)))  # B x C_out x H'/r x W'/r
        if self.decoder.out_reduction != 1:
            y = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return y[..., :height, :width]  # B x C_out x H x W


@NETWORKS.register("dense")
def dense_network(
    encoder: str,
    decoder: str,
    head: str,
    encoder_args: dict[str, Any] | None = None,
    decoder_args: dict[str, Any] | None = None,
    head_args: dict[str, Any] | None = None,
    pretrained: Pretrained = False,
) -> DenseModel:
    """The ``dense`` recipe: a :class:`DenseModel` on a named encoder.

    Args:
        encoder: Encoder name (friendly or timm).
        decoder: Name in :data:`densepred.decoders.DECODERS`.
        head: Name in :data:`densepred.decoders.heads.HEADS`.
        encoder_args: ``create_encoder`` options other than the weights (``output_stride``,
            ``in_channels``, timm kwargs).
        decoder_args: Options of the decoder.
        head_args: Options of the head.
        pretrained: Encoder weights (see :func:`densepred.encoders.create_encoder`).
    """
    return DenseModel(
        encoder=encoder,
        decoder=decoder,
        head=head,
        encoder_args={**(encoder_args or {}), "pretrained": pretrained},
        decoder_args=decoder_args,
        head_args=head_args,
    )
