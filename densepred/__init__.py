"""densepred: dense prediction (depth, segmentation) with swappable encoders.

Importing the package registers every densepred encoder inside segmentation-models-pytorch
under the name ``densepred-<encoder>`` (see :mod:`densepred.encoders.smp_support`).
"""

from densepred.encoders import create_encoder, list_encoders

__version__ = "0.1.0"
__all__ = ["create_encoder", "list_encoders", "__version__"]
