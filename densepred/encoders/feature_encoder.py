"""The ``include_top=False`` encoder: a timm feature model with its feature contract."""

from __future__ import annotations

from torch import Tensor, nn


class Encoder(nn.Module):
    """Multi-scale feature extractor around a timm ``features_only`` model.

    ``forward(x)`` returns one map per stage (five for CNNs with a stride-2 stem: strides 2, 4,
    8, 16, 32, or capped at the output stride when the deep stages are dilated). Each map's
    size is ``ceil(input_size / reduction)``.

    Args:
        model: timm model created with ``features_only=True``.
        name: Name the encoder was requested by (friendly or timm name).
        timm_name: timm model name.
        output_stride: Output stride the model was built with (8, 16 or 32).

    Attributes:
        channels: Channels of each returned map.
        reductions: Stride of each returned map relative to the input.
        output_stride: Stride of the deepest map.
    """

    def __init__(self, model: nn.Module, name: str, timm_name: str, output_stride: int) -> None:
        super().__init__()
        self.model = model
        self.name = name
        self.timm_name = timm_name
        self.channels: list[int] = list(model.feature_info.channels())
        # timm reports undilated strides for some models; a dilated stage keeps the cap.
        self.reductions: list[int] = [min(r, output_stride) for r in model.feature_info.reduction()]
        self.output_stride: int = max(self.reductions)

    def forward(self, x: Tensor) -> list[Tensor]:
        """Return the feature maps of ``x`` (B x C_in x H x W), shallowest first."""
        return list(self.model(x))
