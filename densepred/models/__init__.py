"""Models: encoder -> decoder -> head networks, classifiers and GAN generators, each built from a
:class:`~densepred.models.recipe.Recipe`.

Importing this package imports every module that registers a builder in
:data:`~densepred.models.recipe.NETWORKS`, so any recipe can be built after any
``densepred.models`` import.
"""

from densepred.models import classifier, smp_models  # noqa: F401  (register their builders)
from densepred.models.dense import DenseModel
from densepred.models.gan import generators  # noqa: F401  (registers dcgan_generator)
from densepred.models.recipe import NETWORKS, Recipe

__all__ = ["NETWORKS", "DenseModel", "Recipe"]
