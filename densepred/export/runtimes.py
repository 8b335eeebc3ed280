"""Deployment runtimes by name: run a model (a module or an exported file) on numpy inputs.

``RUNTIMES[name](model, threads)`` returns a callable ``runner(x) -> first output`` on
``float32`` numpy arrays: ``torch`` (eager PyTorch, inference mode; a module or a model folder), ``onnxruntime`` (CPU
execution provider) and ``tflite`` (the LiteRT interpreter of ai-edge-litert, XNNPACK on).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from densepred.core.registry import Registry
from densepred.export.deps import require
from densepred.portable.model import from_pretrained

Runner = Callable[[np.ndarray], np.ndarray]
RUNTIMES: Registry[Callable[[Any, int], Runner]] = Registry("runtime")


@RUNTIMES.register("torch")
def torch_runner(model: nn.Module | str | Path, threads: int) -> Runner:
    """Eager PyTorch on the CPU with ``threads`` intra-op threads (set process-wide); ``model`` is
    a module or a model folder, loaded as a fresh process would (``densepred.from_pretrained``)."""
    if isinstance(model, (str, Path)):
        model = from_pretrained(model)
    model = model.eval()
    torch.set_num_threads(threads)

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            y = model(torch.from_numpy(x))
        return (y[0] if isinstance(y, (list, tuple)) else y).numpy()

    return run


@RUNTIMES.register("onnxruntime")
def onnxruntime_runner(path: str | Path, threads: int) -> Runner:
    """An ``.onnx`` file in onnxruntime's CPU execution provider with ``threads`` intra-op threads."""
    ort = require("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def run(x: np.ndarray) -> np.ndarray:
        return session.run(None, {name: x})[0]

    return run


def _quantize(x: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """Float input -> the integer type of a full-integer model's input (its scale and zero point)."""
    dtype = detail["dtype"]
    if dtype == np.float32:
        return x
    scale, zero = detail["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)


def _dequantize(y: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """An integer output of a full-integer model -> float32."""
    if detail["dtype"] == np.float32:
        return y
    scale, zero = detail["quantization"]
    return ((y.astype(np.float32) - zero) * scale).astype(np.float32)


@RUNTIMES.register("tflite")
def tflite_runner(path: str | Path, threads: int) -> Runner:
    """A ``.tflite`` file in the LiteRT interpreter (XNNPACK delegate) with ``threads`` threads.

    Full-integer files take and give int8: float inputs are quantised and outputs dequantised
    with the scale and zero point stored in the file, so callers always see float32.
    """
    interpreter_module = require("ai_edge_litert.interpreter")
    interpreter = interpreter_module.Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    target = interpreter.get_output_details()[0]

    def run(x: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(source["index"], _quantize(x, source))
        interpreter.invoke()
        return _dequantize(interpreter.get_tensor(target["index"]).copy(), target)

    return run
