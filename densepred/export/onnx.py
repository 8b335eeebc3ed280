"""ONNX export through ``torch.onnx.export`` (the dynamo-based exporter), one self-contained file."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from densepred.core.fileio import atomic_path
from densepred.export.deps import require
from densepred.export.quantize import Int8, quantize_onnx

DEFAULT_OPSET = 18
INPUT_NAME = "input"
OUTPUT_NAME = "output"


def _write_float(module: nn.Module, sample: torch.Tensor, path: Path, opset: int) -> None:
    require("onnxscript")  # the dynamo-based exporter's translator
    torch.onnx.export(
        module,
        (sample,),
        str(path),
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        opset_version=opset,
        dynamo=True,
        external_data=False,
        verbose=False,
    )


def export_onnx(
    module: nn.Module,
    sample: torch.Tensor,
    path: Path,
    int8: Int8 | None = None,
    opset: int = DEFAULT_OPSET,
) -> dict[str, Any]:
    """Write ``module`` traced on ``sample`` as ONNX (atomically), optionally int8.

    Args:
        module: Module in eval mode taking one tensor.
        sample: Example input; the graph has its static shape.
        path: Output ``.onnx`` file.
        int8: Quantisation request, or ``None`` for float.
        opset: ONNX opset (the file records the opset it was written with).

    Returns:
        ``converter`` (torch and onnx versions) and ``opset`` read back from the file.
    """
    onnx = require("onnx")
    with atomic_path(path) as tmp:
        if int8 is None:
            _write_float(module, sample, tmp, opset)
        else:
            with tempfile.TemporaryDirectory() as folder:
                float_path = Path(folder) / "float.onnx"
                _write_float(module, sample, float_path, opset)
                quantize_onnx(float_path, tmp, INPUT_NAME, int8)
        written = onnx.load(str(tmp))
    opsets = {o.domain or "ai.onnx": o.version for o in written.opset_import}
    return {
        "converter": f"torch.onnx.export (torch {torch.__version__}, onnx {onnx.__version__})",
        "opset": opsets.get("ai.onnx"),
    }
