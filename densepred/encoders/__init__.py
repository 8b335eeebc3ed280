"""Encoders: friendly names -> timm models, feature encoders, classifiers, smp registration.

:func:`register_smp_encoders` registers the friendly encoders in segmentation-models-pytorch as
``densepred-<name>`` (see :mod:`densepred.encoders.smp_support`); densepred calls it itself
whenever it builds an smp model.
"""

from densepred.encoders.aliases import ENCODER_ALIASES, list_encoders, resolve_encoder_name
from densepred.encoders.factory import OUTPUT_STRIDES, create_encoder
from densepred.encoders.feature_encoder import Encoder
from densepred.encoders.smp_support import SMP_PREFIX, register_smp_encoders

__all__ = [
    "ENCODER_ALIASES",
    "OUTPUT_STRIDES",
    "SMP_PREFIX",
    "Encoder",
    "create_encoder",
    "list_encoders",
    "register_smp_encoders",
    "resolve_encoder_name",
]
