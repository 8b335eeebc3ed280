"""Converting another library's state dict to a timm model's key names, tensor by tensor in order.

Ports of one architecture (e.g. the ``efficientnet_pytorch`` EfficientNet-Lite0 weights and timm's
``efficientnet_lite0``) often hold the same tensors in the same order under other names. The
conversion pairs them by position and checks that every pair has the same shape, so a file for
another architecture fails instead of loading garbage.
"""

from __future__ import annotations

from pathlib import Path

import timm
import torch
from safetensors.torch import save as safetensors_bytes
from torch import Tensor

from densepred.core.errors import WeightsError
from densepred.core.fileio import atomic_write_bytes
from densepred.encoders.aliases import resolve_encoder_name
from densepred.encoders.weights import read_state_dict


def convert_in_order(
    state: dict[str, Tensor], encoder: str, source: str = "state dict"
) -> dict[str, Tensor]:
    """``state``'s tensors renamed, in order, to the keys of timm classifier ``encoder``.

    Args:
        state: The other library's state dict (insertion order = its module order).
        encoder: Friendly or timm encoder name of the target classifier.
        source: Where ``state`` came from, for messages.

    Raises:
        WeightsError: The tensor counts differ, or a pair's shapes differ (the first is named).
    """
    timm_name = resolve_encoder_name(encoder)
    with torch.device("meta"):
        reference = timm.create_model(timm_name).state_dict()
    if len(state) != len(reference):
        raise WeightsError(
            f"{source} holds {len(state)} tensors but timm '{timm_name}' has {len(reference)}; "
            "an in-order conversion needs the same architecture."
        )
    converted = {}
    for (key, value), (name, ref) in zip(state.items(), reference.items(), strict=True):
        if tuple(value.shape) != tuple(ref.shape):
            raise WeightsError(
                f"{source}: tensor '{key}' {tuple(value.shape)} would become '{name}' "
                f"{tuple(ref.shape)} of timm '{timm_name}'; the shapes differ, so the order does not match."
            )
        converted[name] = value.contiguous()
    return converted


def convert_file(src: str | Path, encoder: str, out: str | Path) -> Path:
    """Convert weights file ``src`` for ``encoder`` (:func:`convert_in_order`) and write ``out``
    (``.safetensors``, usable as ``model.pretrained: out``); returns ``out``."""
    src, out = Path(src), Path(out)
    converted = convert_in_order(read_state_dict(src), encoder, source=f"weights file '{src}'")
    atomic_write_bytes(out, safetensors_bytes(converted))
    return out
