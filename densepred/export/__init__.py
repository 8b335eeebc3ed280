"""Deployment: export to ONNX and TFLite, verified against PyTorch, and runtime latency.

The converters and runtimes come with the optional extra ``pip install -e ".[export]"``; they are
imported when used, so this package imports without them and names the extra when one is missing.
"""

from densepred.export.deps import INSTALL_HINT, MissingExtraError
from densepred.export.diagnose import ExportError
from densepred.export.formats import EXPORT_FORMATS, ExportFormat
from densepred.export.pipeline import ExportOptions, ParityError, export_checkpoint
from densepred.export.runtimes import RUNTIMES
from densepred.export.wrappers import DEPTH_UNITS, MAI_INPUT_SIZE, ChannelsLast, MaiDepth

__all__ = [
    "DEPTH_UNITS",
    "EXPORT_FORMATS",
    "INSTALL_HINT",
    "MAI_INPUT_SIZE",
    "RUNTIMES",
    "ChannelsLast",
    "ExportError",
    "ExportFormat",
    "ExportOptions",
    "MaiDepth",
    "MissingExtraError",
    "ParityError",
    "export_checkpoint",
]
