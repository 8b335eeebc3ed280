"""Export formats by name: how a module becomes a file, and which runtime checks that file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from densepred.core.registry import Registry
from densepred.export.deps import require
from densepred.export.onnx import export_onnx
from densepred.export.quantize import Int8
from densepred.export.tflite import export_tflite


@dataclass(frozen=True)
class ExportFormat:
    """One deployment format.

    Attributes:
        suffix: File name suffix (``.onnx``, ``.tflite``).
        runtime: Name in :data:`~densepred.export.runtimes.RUNTIMES` that runs the file.
        export: ``export(module, sample, path, int8) -> info``: writes the file atomically and
            returns facts for the report (converter versions, opset).
        requires: Modules of the ``export`` extra that converting and running need.
    """

    suffix: str
    runtime: str
    export: Callable[[nn.Module, torch.Tensor, Path, Int8 | None], dict[str, Any]]
    requires: tuple[str, ...]

    def check_installed(self) -> None:
        """Raise :class:`~densepred.export.deps.MissingExtraError` naming the extra if a module is missing."""
        for module in self.requires:
            require(module)


EXPORT_FORMATS: Registry[ExportFormat] = Registry("export format")
EXPORT_FORMATS.add(
    "onnx",
    ExportFormat(
        suffix=".onnx",
        runtime="onnxruntime",
        export=export_onnx,
        requires=("onnx", "onnxscript", "onnxruntime"),
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
