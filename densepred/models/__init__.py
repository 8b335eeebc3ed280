"""Models: encoder -> decoder -> head networks."""

from densepred.models.dense import DenseModel

__all__ = ["DenseModel"]
