"""The optional ``export`` extra: import its packages with a message that names the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

from densepred.core.errors import DensepredError

INSTALL_HINT = 'pip install -e ".[export]"'


class MissingExtraError(DensepredError, ImportError):
    """A package of the optional ``export`` extra is not installed."""


def require(module: str) -> ModuleType:
    """Import ``module`` (a package of the ``export`` extra) or fail naming the extra.

    Args:
        module: Importable name, e.g. ``"onnxruntime"`` or ``"litert_torch"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"'{module}' is not installed; it comes with the export extra: {INSTALL_HINT} "
            f"(from the repository root). Details: {exc}"
        ) from None
