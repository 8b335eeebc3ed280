"""ONNX export through ``torch.onnx.export`` (the dynamo-based exporter), one self-contained file,
with free batch (and height/width) axes and metadata properties."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.export import Dim

from densepred.core.fileio import atomic_path
from densepred.export.deps import require
from densepred.export.quantize import Int8, quantize_onnx

DEFAULT_OPSET = 18
INPUT_NAME = "input"
OUTPUT_NAME = "output"


def _write_float(
    module: nn.Module, sample: torch.Tensor, path: Path, opset: int, dynamic: Mapping[int, str]
) -> None:
    require("onnxscript")  # the dynamo-based exporter's translator
    # Dim.AUTO: the axis stays free unless the graph needs a fixed size (then it is kept fixed)
    shapes = ({axis: Dim.AUTO for axis in dynamic},) if dynamic else None
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
        dynamic_shapes=shapes,
    )
    if dynamic:
        _name_axes(path, dynamic)


def _name_axes(path: Path, dynamic: Mapping[int, str]) -> None:
    """Give the free input axes readable names (``batch``, ``height``, ``width``) instead of the
    exporter's symbols, and the output axes that are the same symbols the same names."""
    onnx = require("onnx")
    model = onnx.load(str(path))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    renamed = {}
    for axis, name in dynamic.items():
        if dims[axis].dim_param:
            renamed[dims[axis].dim_param] = name
            dims[axis].dim_param = name
    for output in model.graph.output:
        for dim in output.type.tensor_type.shape.dim:
            if dim.dim_param in renamed:
                dim.dim_param = renamed[dim.dim_param]
    onnx.save(model, str(path))


def free_axes(path: Path) -> dict[str, int]:
    """Name -> axis of the free (symbolic) axes of an ONNX file's input."""
    onnx = require("onnx")
    dims = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
    return {dim.dim_param: axis for axis, dim in enumerate(dims) if dim.dim_param}


def export_onnx(
    module: nn.Module,
    sample: torch.Tensor,
    path: Path,
    int8: Int8 | None = None,
    opset: int = DEFAULT_OPSET,
    dynamic: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """Write ``module`` traced on ``sample`` as ONNX (atomically), optionally int8.

    Args:
        module: Module in eval mode taking one tensor.
        sample: Example input; the graph has its shape except on the ``dynamic`` axes.
        path: Output ``.onnx`` file.
        int8: Quantisation request, or ``None`` for float.
        opset: ONNX opset (the file records the opset it was written with).
        dynamic: Input axis -> name of the axes to leave free (e.g. ``{0: "batch", 2: "height",
            3: "width"}``); an axis the graph needs fixed stays fixed (see ``dynamic_axes`` in
            the returned facts).

    Returns:
        ``converter`` (torch and onnx versions), ``opset`` read back from the file and
        ``dynamic_axes`` (name -> axis of the input axes that are free in the file).
    """
    onnx = require("onnx")
    dynamic = dict(dynamic or {})
    with atomic_path(path) as tmp:
        if int8 is None:
            _write_float(module, sample, tmp, opset, dynamic)
        else:
            with tempfile.TemporaryDirectory() as folder:
                float_path = Path(folder) / "float.onnx"
                _write_float(module, sample, float_path, opset, dynamic)
                quantize_onnx(float_path, tmp, INPUT_NAME, int8)
        written = onnx.load(str(tmp))
        axes = free_axes(tmp)
    opsets = {o.domain or "ai.onnx": o.version for o in written.opset_import}
    return {
        "converter": f"torch.onnx.export (torch {torch.__version__}, onnx {onnx.__version__})",
        "opset": opsets.get("ai.onnx"),
        "dynamic_axes": axes,
    }


def write_onnx_metadata(path: Path, properties: Mapping[str, str]) -> None:
    """Set ``properties`` as the file's metadata properties (``metadata_props``; onnxruntime reads
    them as ``session.get_modelmeta().custom_metadata_map``), atomically."""
    onnx = require("onnx")
    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, dict(properties))
    with atomic_path(path) as tmp:
        onnx.save(model, str(tmp))
