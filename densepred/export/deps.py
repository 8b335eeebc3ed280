"""The optional export extras: import their packages with a message that names the extra.

``[onnx]`` brings onnx, onnxruntime and onnxscript; ``[tflite]`` brings litert-torch (with
torchao) and ai-edge-litert; ``[export]`` is both.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from densepred.core.errors import DensepredError

EXTRA_OF: dict[str, str] = {
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "onnxscript": "onnx",
    "litert_torch": "tflite",
    "ai_edge_litert": "tflite",
    "torchao": "tflite",
}
"""Top-level module -> the extra that installs it."""


def install_hint(extra: str) -> str:
    """How to install ``extra``, from a checkout and from the package index."""
    return f'pip install -e ".[{extra}]" (in a checkout) or pip install "densepred[{extra}]"'


INSTALL_HINT = install_hint("export")


class MissingExtraError(DensepredError, ImportError):
    """A package of an optional export extra is not installed."""


def require(module: str) -> ModuleType:
    """Import ``module`` (a package of an export extra) or fail naming the extra.

    Args:
        module: Importable name, e.g. ``"onnxruntime"`` or ``"litert_torch"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = EXTRA_OF.get(module.split(".")[0], "export")
        raise MissingExtraError(
            f"'{module}' is not installed; it comes with the {extra} extra: "
            f"{install_hint(extra)}. Details: {exc}"
        ) from None
