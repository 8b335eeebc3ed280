"""Transfer learning: which modules are a model's encoder, freezing and unfreezing them.

A frozen encoder's parameters get no gradient and its BatchNorm (and other normalisation)
layers stay in eval mode, so neither its weights nor its running statistics change. Its
parameters stay in the optimizer (they get no gradient, so no update and no weight decay),
which lets :func:`set_encoder_trainable` unfreeze them at an epoch without rebuilding it.
"""

from __future__ import annotations

from torch import nn
from torch.nn.modules.batchnorm import _NormBase

from densepred.core.benchmark import count_parameters
from densepred.core.errors import ConfigError


def _timm_classifier_body(model: nn.Module) -> list[nn.Module]:
    """Every child of a timm classifier but its classifier layer."""
    head = model.get_classifier()
    return [child for child in model.children() if child is not head]


def encoder_modules(model: nn.Module) -> list[nn.Module]:
    """The modules of ``model``'s pretrained encoder: what its own ``encoder_modules()`` says
    (densepred's networks), everything but the classifier layer of a timm classifier
    (classification mode), else none (e.g. the DCGAN generator)."""
    if hasattr(model, "encoder_modules"):
        return model.encoder_modules()
    if hasattr(model, "get_classifier"):
        return _timm_classifier_body(model)
    return []


def encoder_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters of :func:`encoder_modules`."""
    return [p for module in encoder_modules(model) for p in module.parameters()]


def require_encoder(model: nn.Module, key: str) -> list[nn.Module]:
    """:func:`encoder_modules`, or a ``ConfigError`` naming ``key`` when the model has none."""
    modules = encoder_modules(model)
    if not modules:
        raise ConfigError(
            f"{key} needs a model with an encoder, but {type(model).__name__} has none "
            "(e.g. the DCGAN generator); remove the key."
        )
    return modules


def set_encoder_trainable(modules: list[nn.Module], trainable: bool) -> None:
    """Freeze (``False``) or unfreeze the encoder ``modules``: gradients on or off, and frozen
    normalisation layers in eval mode (see :func:`keep_norms_frozen`)."""
    for module in modules:
        module.requires_grad_(trainable)
        if not trainable:
            keep_norms_frozen(module)


def keep_norms_frozen(module: nn.Module) -> None:
    """Put the BatchNorm/InstanceNorm layers of ``module`` in eval mode (call after ``train()``)."""
    for layer in module.modules():
        if isinstance(layer, _NormBase):
            layer.eval()


def parameter_counts(module: nn.Module) -> dict[str, int]:
    """``{"total": all parameters, "trainable": those with requires_grad}`` (elements)."""
    return {
        "total": count_parameters(module),
        "trainable": count_parameters(module, trainable_only=True),
    }
