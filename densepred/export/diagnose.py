"""Turn converter failures into messages that name the layer and a working alternative.

Two layers of defence: :func:`check_known_limits` rejects, before converting, layers that a
format is documented not to handle (REFERENCE section 7); :func:`converter_error` wraps any other
converter exception, naming the layer whose graph node the converter's message mentions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from densepred.core.errors import DensepredError


class ExportError(DensepredError):
    """A model could not be converted to the requested format."""


@dataclass(frozen=True)
class Limit:
    """A layer pattern that a converter cannot handle.

    Attributes:
        applies: ``applies(module) -> bool`` for the offending layers.
        reason: What the converter lacks.
        alternative: A setting or format that works instead.
    """

    applies: Callable[[nn.Module], bool]
    reason: str
    alternative: str


UPSAMPLE_ALTERNATIVE = "model.decoder_args.upsample=bilinear (or nearest), or --format onnx"


def _transposed_with(attr: str, default: tuple[int, ...]) -> Callable[[nn.Module], bool]:
    return lambda m: isinstance(m, nn.ConvTranspose2d) and tuple(getattr(m, attr)) != default


KNOWN_LIMITS: dict[str, list[Limit]] = {
    "tflite": [
        Limit(
            _transposed_with("dilation", (1, 1)),
            "TFLite's TRANSPOSE_CONV has no dilation (tensorflow issue 70031)",
            UPSAMPLE_ALTERNATIVE,
        ),
        Limit(
            _transposed_with("output_padding", (0, 0)),
            "litert-torch cannot convert ConvTranspose2d with output_padding (litert-torch issue 316)",
            UPSAMPLE_ALTERNATIVE,
        ),
    ],
}
"""Format -> layer patterns rejected before conversion."""

DEFAULT_ALTERNATIVES: dict[str, str] = {
    nn.ConvTranspose2d.__name__: UPSAMPLE_ALTERNATIVE,
}
"""Layer class name -> alternative suggested when a converter fails inside such a layer."""


def check_known_limits(model: nn.Module, fmt: str) -> None:
    """Raise :class:`ExportError` for the first layer of ``model`` that ``fmt`` cannot convert."""
    for limit in KNOWN_LIMITS.get(fmt, []):
        for path, module in model.named_modules():
            if limit.applies(module):
                raise ExportError(
                    f"cannot export to {fmt}: layer '{path}' ({type(module).__name__}): "
                    f"{limit.reason}. Use {limit.alternative}."
                )


def _node_layers(model: nn.Module, sample: torch.Tensor) -> dict[str, tuple[str, str]]:
    """FX node name -> (module path, class name) of the innermost module that made it."""
    try:
        program = torch.export.export(model, (sample,))
    except Exception:  # the export itself failed: no graph to map
        return {}
    layers = {}
    for node in program.graph.nodes:
        stack = node.meta.get("nn_module_stack")
        if stack:
            path, cls = list(stack.values())[-1]
            name = cls if isinstance(cls, str) else getattr(cls, "__name__", str(cls))
            layers[node.name] = (
                path.removeprefix("L['self'].").replace("L['self']", ""),
                name.rsplit(".", 1)[-1],
            )
    return layers


def converter_error(
    exc: Exception, model: nn.Module, sample: torch.Tensor, fmt: str
) -> ExportError:
    """An :class:`ExportError` for a converter exception, naming the layer where possible.

    Args:
        exc: What the converter raised.
        model: The module being exported.
        sample: Its example input.
        fmt: Format name.
    """
    text = str(exc).strip()
    summary = (text.splitlines() or [type(exc).__name__])[-1][:300]
    for node, (path, cls) in _node_layers(model, sample).items():
        if re.search(rf"\b{re.escape(node)}\b", text):
            alternative = DEFAULT_ALTERNATIVES.get(cls, "--format onnx, or another decoder")
            return ExportError(
                f"cannot export to {fmt}: the converter failed at layer '{path}' ({cls}): "
                f"{type(exc).__name__}: {summary}. Use {alternative}."
            )
    other = "onnx" if fmt != "onnx" else "tflite"
    return ExportError(
        f"cannot export to {fmt}: the converter failed ({type(exc).__name__}: {summary}) and its "
        f"message names no layer of the model. Try --format {other}, another decoder "
        "(model.decoder_args.upsample=bilinear for unet), or report the model."
    )
