"""Image-to-image metrics of GAN mode: L1 on the [-1, 1] model scale, PSNR and SSIM on [0, 1]."""

from __future__ import annotations

from torch import Tensor
from torchmetrics import MeanAbsoluteError, Metric, MetricCollection
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure
from torchmetrics.wrappers import LambdaInputTransformer


def to_unit(x: Tensor) -> Tensor:
    """[-1, 1] -> [0, 1] (the range PSNR and SSIM are computed in)."""
    return (x + 1.0) * 0.5


def image_metrics() -> dict[str, Metric | MetricCollection]:
    """``l1`` on [-1, 1] (the scale of the L1 loss), ``psnr`` and ``ssim`` on [0, 1]."""
    unit = MetricCollection(
        {
            "psnr": PeakSignalNoiseRatio(data_range=1.0),
            "ssim": StructuralSimilarityIndexMeasure(data_range=1.0),
        }
    )
    return {"l1": MeanAbsoluteError(), "image": LambdaInputTransformer(unit, to_unit, to_unit)}
