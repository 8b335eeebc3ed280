"""densepred encoders inside segmentation-models-pytorch, as ``densepred-<friendly name>``.

After :func:`register_smp_encoders` (``densepred.encoders.register_smp_encoders()``; densepred
calls it itself whenever it builds an smp model) every friendly name works in smp models::

    smp.Unet(encoder_name="densepred-mobilenet_v3_large", encoder_weights=None, classes=2)

The encoder is smp's own ``TimmUniversalEncoder`` bound to the timm model. smp only offers the
weights listed in an encoder's ``pretrained_settings``, and these are empty: pass
``encoder_weights=None`` (smp raises ``KeyError`` otherwise). For hub weights use smp's
``tu-<timm name>`` with ``encoder_weights=True``, which builds the same network.
"""

from __future__ import annotations

from segmentation_models_pytorch.encoders import TimmUniversalEncoder
from segmentation_models_pytorch.encoders import encoders as smp_encoders
from segmentation_models_pytorch.encoders._base import EncoderMixin

from densepred.encoders.aliases import ENCODER_ALIASES

SMP_PREFIX = "densepred-"


class SmpEncoder(TimmUniversalEncoder, EncoderMixin):
    """smp encoder for one timm model.

    smp's ``get_encoder`` builds registered encoders from their ``params`` plus ``depth`` and
    ``output_stride``, then calls ``set_in_channels`` (from ``EncoderMixin``: patches the first
    convolution) and, for ``output_stride != 32``, ``make_dilated``.

    Args:
        timm_name: timm model name.
        depth: Number of feature stages (1..5).
        output_stride: 32, or 16/8 for dilated deep stages (built by timm).
    """

    def __init__(self, timm_name: str, depth: int = 5, output_stride: int = 32) -> None:
        super().__init__(timm_name, pretrained=False, depth=depth, output_stride=output_stride)

    def make_dilated(self, output_stride: int) -> None:
        """Check ``output_stride``: timm already built the dilated stages in ``__init__``."""
        if output_stride != self._output_stride:
            raise ValueError(
                f"encoder '{self.name}' was built for output stride {self._output_stride}, "
                f"not {output_stride}; pass output_stride to get_encoder instead."
            )


def register_smp_encoders() -> list[str]:
    """Register every friendly encoder in smp as ``densepred-<name>`` (idempotent).

    Returns:
        The registered smp encoder names.
    """
    for friendly, timm_name in ENCODER_ALIASES.items():
        smp_encoders[SMP_PREFIX + friendly] = {
            "encoder": SmpEncoder,
            "pretrained_settings": {},
            "params": {"timm_name": timm_name},
        }
    return [SMP_PREFIX + friendly for friendly in ENCODER_ALIASES]
