"""Pretrained weights for timm models: hub (``True``) or a local classifier state dict.

A local file holds the ``state_dict`` of the timm classifier (``timm.create_model(name)``),
as ``.pth``/``.pt``/``.bin`` or ``.safetensors``; a checkpoint dict with a ``state_dict``,
``model`` or EMA entry works too. densepred reads it itself (torch files with
``weights_only=True``), checks it against the classifier and hands timm the tensors through
``pretrained_cfg_overlay=dict(state_dict=...)``: timm adapts the first convolution to other input
channel counts and drops the classifier when the model has none or another class count, but never
opens the file (timm up to 1.0.24 would unpickle it with ``weights_only=False``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import timm
import torch
from torch import Tensor

from densepred.core.errors import WeightsError

Pretrained = bool | str | PathLike[str]

# How many offending keys an error message lists per kind.
SHOWN_KEYS = 5


def read_state_dict(path: Path) -> dict[str, Tensor]:
    """Read a state dict from a weights file, with errors that name the file.

    Torch files are read with ``weights_only=True``: a file holding other objects is refused
    instead of unpickled.

    Args:
        path: ``.pth``/``.pt``/``.bin`` (torch) or ``.safetensors`` file.
    """
    if not path.is_file():
        raise WeightsError(
            f"weights file '{path}' does not exist. Pass the path of a file holding the timm "
            "classifier's state_dict, pretrained=True for timm's hub, or pretrained=False."
        )
    try:  # weights_only explicitly: timm 1.0.9 (the floor) defaults to False
        return timm.models.load_state_dict(str(path), weights_only=True)
    except Exception as exc:  # torch, pickle and safetensors each raise their own types
        raise WeightsError(
            f"weights file '{path}' could not be read ({type(exc).__name__}: {exc}). Save it with "
            "torch.save(model.state_dict(), path) or safetensors.torch.save_file."
        ) from None


def _listed(title: str, items: list[str]) -> str:
    more = f" ... ({len(items) - SHOWN_KEYS} more)" if len(items) > SHOWN_KEYS else ""
    return f"{title} ({len(items)}): {', '.join(items[:SHOWN_KEYS])}{more}"


def state_dict_differences(
    state: Mapping[str, Any],
    expected: Mapping[str, tuple[int, ...]],
    skip: Callable[[str], bool] = lambda key: False,
) -> tuple[list[str], list[str], list[tuple[str, tuple[int, ...] | None, tuple[int, ...]]]]:
    """How ``state`` differs from the shapes a model ``expected``.

    Args:
        state: A state dict (values without a ``shape`` count as mismatched).
        expected: Key -> shape of the model's state dict.
        skip: Expected keys that may be absent or of any shape (e.g. a classifier head).

    Returns:
        Missing keys, unexpected keys, and ``(key, shape in state, expected shape)`` of the
        keys whose shapes differ, each in the order of ``expected`` (``state`` for unexpected).
    """
    shapes = {key: getattr(value, "shape", None) for key, value in state.items()}
    missing = [key for key in expected if key not in state and not skip(key)]
    unexpected = [key for key in state if key not in expected]
    mismatched = [
        (key, None if shapes[key] is None else tuple(shapes[key]), shape)
        for key, shape in expected.items()
        if key in state and not skip(key) and (shapes[key] is None or tuple(shapes[key]) != shape)
    ]
    return missing, unexpected, mismatched


def non_finite_tensors(state: Mapping[str, Any]) -> list[str]:
    """Names of the floating-point tensors in ``state`` that hold a NaN or an infinity."""
    return [
        name
        for name, value in state.items()
        if isinstance(value, torch.Tensor)
        and value.is_floating_point()
        and not bool(torch.isfinite(value).all())
    ]


def check_state_dict(
    state: dict[str, Tensor], timm_name: str, path: Path, **timm_kwargs: Any
) -> int:
    """Check a state dict against the timm classifier ``timm_name`` and return its class count.

    Classifier weights may be absent or have any class count; every other tensor must be
    present with the classifier's shape.

    Args:
        state: The state dict read from ``path``.
        timm_name: timm model name.
        path: The weights file, for messages.
        **timm_kwargs: Architecture options the model is built with.

    Returns:
        Rows of the file's classifier weight, 0 when the file has no classifier.

    Raises:
        WeightsError: Keys are missing or unexpected, or shapes differ; the message lists some.
    """
    with torch.device("meta"):
        reference = timm.create_model(timm_name, **timm_kwargs)
    heads = reference.pretrained_cfg.get("classifier") or ()
    heads = (heads,) if isinstance(heads, str) else tuple(heads)
    expected = {key: tuple(value.shape) for key, value in reference.state_dict().items()}

    def is_head(key: str) -> bool:
        return key.rpartition(".")[0] in heads

    missing, unexpected, differ = state_dict_differences(state, expected, skip=is_head)
    mismatched = [f"{key} {saved} != {shape}" for key, saved, shape in differ]
    problems = [
        _listed(title, items)
        for title, items in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("shape mismatches", mismatched),
        )
        if items
    ]
    if problems:
        raise WeightsError(
            f"weights file '{path}' does not match timm model '{timm_name}': "
            + "; ".join(problems)
            + f". It must hold the state_dict of timm.create_model('{timm_name}') (3 input channels)."
        )
    head_weight = next((state[f"{h}.weight"] for h in heads if f"{h}.weight" in state), None)
    return 0 if head_weight is None else int(head_weight.shape[0])


def pretrained_kwargs(pretrained: Pretrained, timm_name: str, **timm_kwargs: Any) -> dict[str, Any]:
    """Keyword arguments for ``timm.create_model`` that load the requested weights.

    Args:
        pretrained: ``False`` (random init), ``True`` (timm's hub, needs internet) or a local file,
            read here (never by timm).
        timm_name: timm model name.
        **timm_kwargs: Architecture options the model is built with.
    """
    if isinstance(pretrained, bool):
        return {"pretrained": pretrained}
    path = Path(pretrained)
    state = read_state_dict(path)
    num_classes = check_state_dict(state, timm_name, path, **timm_kwargs)
    overlay = {"state_dict": state, "num_classes": num_classes, "label_offset": 0}
    return {"pretrained": True, "pretrained_cfg_overlay": overlay}


def forget_pretrained_state(model: torch.nn.Module) -> None:
    """Drop the copy of the weights that timm keeps in a model's ``pretrained_cfg`` after loading
    them from ``pretrained_cfg_overlay=dict(state_dict=...)`` (it would double their memory)."""
    for module in model.modules():
        cfg = getattr(module, "pretrained_cfg", None)
        if isinstance(cfg, dict):
            cfg.pop("state_dict", None)
