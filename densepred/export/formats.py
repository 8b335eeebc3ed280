"""Export formats by name: how a module becomes a file, and which runtime checks that file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import safetensors
import torch
from torch import nn

from densepred import __version__
from densepred.core.registry import Registry
from densepred.export.deps import require
from densepred.export.onnx import export_onnx, write_onnx_metadata
from densepred.export.quantize import Int8
from densepred.export.tflite import export_tflite
from densepred.portable.model import PortableModel


@dataclass(frozen=True)
class ExportFormat:
    """One deployment format.

    Attributes:
        suffix: File name suffix (``.onnx``, ``.tflite``; a model folder's ``_model``).
        runtime: Name in :data:`~densepred.export.runtimes.RUNTIMES` that runs the file.
        export: ``export(module, sample, path, int8) -> info``: writes the file atomically and
            returns facts for the report (converter versions, opset).
        requires: Modules of the ``export`` extra that converting and running need.
        dynamic: The exporter takes ``dynamic={axis: name}`` and leaves those input axes free
            (batch, height, width) where the graph allows.
        metadata: ``metadata(path, properties)`` stores string properties (task, classes,
            normalisation, units, layout) in the file, or ``None``.
        portable: The format saves the task's portable model (:mod:`densepred.portable`), not a
            wrapped network: no ``--nhwc``, ``--mai``, ``--int8`` or ``--size``.
    """

    suffix: str
    runtime: str
    export: Callable[..., dict[str, Any]]
    requires: tuple[str, ...]
    dynamic: bool = False
    metadata: Callable[[Path, dict[str, str]], None] | None = None
    portable: bool = False

    def check_installed(self) -> None:
        """Raise :class:`~densepred.export.deps.MissingExtraError` naming the extra if a module is missing."""
        for module in self.requires:
            require(module)


def export_folder(
    module: nn.Module, sample: torch.Tensor, path: Path, int8: Int8 | None = None
) -> dict[str, Any]:
    """Write a model folder (``module`` is a :class:`~densepred.portable.model.PortableModel`)."""
    if not isinstance(module, PortableModel) or int8 is not None:
        raise TypeError("a model folder saves a PortableModel, without int8 quantisation")
    module.save_pretrained(path)
    return {
        "converter": f"densepred {__version__} model folder (safetensors {safetensors.__version__})",
        "network": module.spec.network.builder,
    }


EXPORT_FORMATS: Registry[ExportFormat] = Registry("export format")
EXPORT_FORMATS.add(
    "onnx",
    ExportFormat(
        suffix=".onnx",
        runtime="onnxruntime",
        export=export_onnx,
        requires=("onnx", "onnxscript", "onnxruntime"),
        dynamic=True,
        metadata=write_onnx_metadata,
    ),
)
EXPORT_FORMATS.add(
    "tflite",
    ExportFormat(
        suffix=".tflite",
        runtime="tflite",
        export=export_tflite,
        requires=("litert_torch", "ai_edge_litert.interpreter"),
    ),
)
EXPORT_FORMATS.add(
    "pretrained",
    ExportFormat(
        suffix="_model",
        runtime="torch",
        export=export_folder,
        requires=(),
        portable=True,
    ),
)
