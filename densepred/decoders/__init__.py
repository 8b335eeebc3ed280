"""Decoders: pure modules that turn encoder feature maps into one dense map.

Each decoder is registered in :data:`DECODERS` and built from the encoder's channel and
reduction lists only (``encoder_channels``, ``encoder_reductions``); see docs/decoders.md.
"""

from densepred.core.registry import Registry

DECODERS: Registry = Registry("decoder")

# Importing the modules registers their decoders in DECODERS, so they come after it.
from densepred.decoders.aspp import AsppDecoder  # noqa: E402
from densepred.decoders.fastdepth import FastDepthDecoder  # noqa: E402
from densepred.decoders.unet import UnetDecoder  # noqa: E402

__all__ = ["DECODERS", "AsppDecoder", "FastDepthDecoder", "UnetDecoder"]
