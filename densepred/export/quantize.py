"""Post-training int8 quantisation: dynamic-range (weights) or full integer (with calibration).

TFLite goes through litert-torch's PT2E quantizer (symmetric int8, per-channel weights);
ONNX through onnxruntime's quantiser (QDQ format for full integer). Full-integer quantisation
observes activations on calibration images from the config's training data.

In TFLite the prediction heads stay float: a depth head's bounded activation (``min + sigmoid(x)
* (max - min)``) breaks the converter's int8 same-scale constraint ("'tfl.reshape' op
quantization parameters violate the same scale constraint"), and the last layer is the one whose
precision the output needs most. The head is one 3x3 convolution, so the file barely grows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from densepred.core.errors import ConfigError, DataError
from densepred.decoders.heads import HEADS
from densepred.export.deps import require

Int8Mode = Literal["dynamic", "full"]
INT8_MODES: tuple[str, ...] = ("dynamic", "full")


@dataclass
class Int8:
    """A quantisation request.

    Attributes:
        mode: ``dynamic`` (int8 weights, float activations quantised at run time) or ``full``
            (int8 weights and activations, ranges from calibration).
        calibration: Model inputs (``float32`` arrays of the export's input shape) for ``full``.
    """

    mode: Int8Mode
    calibration: Sequence[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.mode not in INT8_MODES:
            raise ConfigError(
                f"int8 mode must be one of {', '.join(INT8_MODES)}, got {self.mode!r}."
            )
        if self.mode == "full" and not self.calibration:
            raise DataError(
                "full-integer quantisation needs calibration images; data.train_split has none."
            )


def pt2e_quantized(module: nn.Module, sample: torch.Tensor, int8: Int8) -> tuple[nn.Module, Any]:
    """The module with PT2E int8 quantise/dequantise pairs, and litert-torch's ``quant_config``.

    Args:
        module: Float module in eval mode.
        sample: Example input (traced shape).
        int8: The request; ``full`` runs every calibration input through the observers.
    """
    pt2e = require("torchao.quantization.pt2e.quantize_pt2e")
    quantizer_module = require("litert_torch.quantize.pt2e_quantizer")
    quant_config = require("litert_torch.quantize.quant_config")
    quantizer = quantizer_module.PT2EQuantizer().set_global(
        quantizer_module.get_symmetric_quantization_config(
            is_per_channel=True, is_dynamic=int8.mode == "dynamic"
        )
    )
    for name in HEADS.names():  # heads stay float (see the module docstring)
        head = HEADS.get(name)
        # torch.export records module types as "module.QualName" strings, and litert-torch's
        # filter compares them with `in`: give the string, or the filter never matches.
        quantizer.set_module_type(f"{head.__module__}.{head.__qualname__}", None)
    graph = torch.export.export(module, (sample,)).module()
    graph = pt2e.prepare_pt2e(graph, quantizer)
    for x in int8.calibration or [sample.numpy()]:
        graph(torch.from_numpy(x))
    graph = pt2e.convert_pt2e(graph, fold_quantize=False)
    return graph, quant_config.QuantConfig(pt2e_quantizer=quantizer)


class _Calibration:
    """onnxruntime's ``CalibrationDataReader`` protocol over a list of inputs."""

    def __init__(self, name: str, inputs: Sequence[np.ndarray]) -> None:
        self._items: Iterator[dict[str, np.ndarray]] = iter([{name: x} for x in inputs])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._items, None)

    def rewind(self) -> None:  # not used by the MinMax calibrator
        pass


def quantize_onnx(float_path: Path, out_path: Path, input_name: str, int8: Int8) -> None:
    """Write an int8 copy of an ONNX model.

    Args:
        float_path: The float model.
        out_path: Where the quantised model goes.
        input_name: The graph's input name (for calibration feeds).
        int8: The request.
    """
    q = require("onnxruntime.quantization")
    if int8.mode == "dynamic":
        q.quantize_dynamic(float_path, out_path, per_channel=True, weight_type=q.QuantType.QInt8)
        return
    q.quantize_static(
        float_path,
        out_path,
        _Calibration(input_name, int8.calibration),
        quant_format=q.QuantFormat.QDQ,
        per_channel=True,
        activation_type=q.QuantType.QInt8,
        weight_type=q.QuantType.QInt8,
    )
