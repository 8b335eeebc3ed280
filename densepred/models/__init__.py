"""Models: encoder -> decoder -> head networks."""

from densepred.models.dense import DenseModel
from densepred.models.factory import build_model

__all__ = ["DenseModel", "build_model"]
