"""TFLite export through litert-torch (``litert_torch.convert``), optionally int8 via PT2E."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from densepred.core.fileio import atomic_path
from densepred.export.deps import require
from densepred.export.quantize import Int8, pt2e_quantized


def export_tflite(
    module: nn.Module, sample: torch.Tensor, path: Path, int8: Int8 | None = None
) -> dict[str, Any]:
    """Write ``module`` traced on ``sample`` as a ``.tflite`` flatbuffer (atomically).

    Args:
        module: Module in eval mode taking one tensor.
        sample: Example input; the graph has its static shape.
        path: Output ``.tflite`` file.
        int8: Quantisation request, or ``None`` for float.

    Returns:
        ``converter`` (litert-torch and torch versions).
    """
    litert_torch = require("litert_torch")
    litert_torch.config.show_progress = False
    quant_config = None
    if int8 is not None:
        module, quant_config = pt2e_quantized(module, sample, int8)
    edge_model = litert_torch.convert(module, (sample,), quant_config=quant_config)
    with atomic_path(path) as tmp:
        edge_model.export(str(tmp))
    return {"converter": f"litert-torch {litert_torch.__version__} (torch {torch.__version__})"}
