"""``create_encoder``: one builder for feature encoders and classifiers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import timm
import torch
from torch import nn

from densepred.core.errors import ConfigError
from densepred.core.loader_args import refuse_loader_args
from densepred.encoders.aliases import resolve_encoder_name
from densepred.encoders.feature_encoder import Encoder
from densepred.encoders.weights import Pretrained, forget_pretrained_state, pretrained_kwargs

OUTPUT_STRIDES = (8, 16, 32)


def reset_classifier_init(model: nn.Module) -> None:
    """Give a timm model's new classifier layer PyTorch's default, fan-in scaled init.

    timm's EfficientNet-family init draws the classifier from ``U(+-1/sqrt(num_classes))``: fine
    for 1000 classes, but for 3 it makes MobileNetV2's initial logits about 6 wide (loss ~20 at
    the start) and training unstable. ``reset_parameters`` gives ``U(+-1/sqrt(fan_in))``.
    """
    for module in model.get_classifier().modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            module.reset_parameters()


def supported_output_strides(timm_name: str, **timm_kwargs: Any) -> list[int]:
    """The output strides timm can build ``timm_name`` with (probed on the meta device, so
    nothing is allocated).

    Args:
        timm_name: timm model name.
        **timm_kwargs: Other ``timm.create_model`` arguments, e.g. ``features_only=True``.
    """
    strides = []
    for stride in OUTPUT_STRIDES:
        dilation = {"output_stride": stride} if stride != 32 else {}
        try:
            with torch.device("meta"):
                timm.create_model(timm_name, **dilation, **timm_kwargs)
        except (AssertionError, TypeError, ValueError, NotImplementedError):
            continue
        strides.append(stride)
    return strides


def _create_model(timm_name: str, name: str, extra: Sequence[str] = (), **kwargs: Any) -> nn.Module:
    """``timm.create_model`` whose failure on an option the model does not take (``extra``: the
    caller's own ``timm_kwargs``) or at an output stride the model cannot do is a ConfigError
    naming the encoder and the fix."""
    try:
        model = timm.create_model(timm_name, **kwargs)
    except (AssertionError, TypeError) as exc:
        unexpected = (
            [k for k in extra if f"'{k}'" in str(exc)] if isinstance(exc, TypeError) else []
        )
        if unexpected:
            raise ConfigError(
                f"encoder '{name}' (timm '{timm_name}') does not take the option(s) "
                f"{unexpected} ({exc}). Extra encoder options (model.encoder_args; "
                "model.discriminator_args of a backbone discriminator) go to timm.create_model: "
                "check their spelling (e.g. drop_rate, drop_path_rate)."
            ) from None
        if "output_stride" not in kwargs:
            raise
        arch = {
            k: v for k, v in kwargs.items() if k not in ("pretrained", "pretrained_cfg_overlay")
        }
        output_stride = arch.pop("output_stride")
        strides = supported_output_strides(timm_name, **arch)
        if output_stride in strides or not strides:
            raise
        raise ConfigError(
            f"encoder '{name}' (timm '{timm_name}') cannot be built with "
            f"output_stride={output_stride}: timm cannot dilate its deep stages. Output strides "
            f"it supports: {strides}; use output_stride={max(strides)} or another encoder."
        ) from exc
    forget_pretrained_state(model)
    return model


def create_encoder(
    name: str,
    include_top: bool = False,
    pretrained: Pretrained = False,
    output_stride: int = 32,
    in_channels: int = 3,
    num_classes: int = 1000,
    **timm_kwargs: Any,
) -> nn.Module:
    """Create a feature encoder (``include_top=False``) or a classifier from a timm model.

    Args:
        name: Friendly name (``list_encoders()``) or any timm model name.
        include_top: ``False``: an :class:`Encoder` returning multi-scale feature maps.
            ``True``: the timm classifier returning ``num_classes`` logits.
        pretrained: ``False``, a local file with the timm classifier's state dict, or ``True``
            for timm's hub (needs internet).
        output_stride: 32, or 16/8 to dilate the deep stages instead of striding.
        in_channels: Input channels; pretrained first convolutions are adapted by timm.
        num_classes: Classifier outputs (``include_top=True`` only).
        **timm_kwargs: Extra ``timm.create_model`` arguments, e.g. ``drop_path_rate``; none may
            choose weights or a file to load (``pretrained_cfg``, ``checkpoint_path``, ...).

    Raises:
        ConfigError: Unknown name, an output stride the model cannot do, or a ``timm_kwargs``
            key that would load weights.
        WeightsError: Missing or mismatched weights file.
    """
    refuse_loader_args(timm_kwargs, "encoder_args")
    timm_name = resolve_encoder_name(name)
    if output_stride not in OUTPUT_STRIDES:
        raise ConfigError(
            f"output_stride={output_stride!r} is not supported for encoder '{name}'; "
            f"use one of {list(OUTPUT_STRIDES)}."
        )
    kwargs = {**timm_kwargs, **pretrained_kwargs(pretrained, timm_name, **timm_kwargs)}
    if output_stride != 32:  # not every timm model accepts the argument
        kwargs["output_stride"] = output_stride
    if include_top:
        model = _create_model(
            timm_name,
            name,
            tuple(timm_kwargs),
            num_classes=num_classes,
            in_chans=in_channels,
            **kwargs,
        )
        if not (kwargs["pretrained"] and model.pretrained_cfg.get("num_classes") == num_classes):
            reset_classifier_init(model)
        return model
    model = _create_model(
        timm_name, name, tuple(timm_kwargs), features_only=True, in_chans=in_channels, **kwargs
    )
    return Encoder(model, name, timm_name, output_stride)
