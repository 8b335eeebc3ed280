"""densepred: dense prediction (depth, segmentation) with swappable encoders.

``import densepred`` is cheap: it loads neither torch, timm nor segmentation-models-pytorch. The
helpers below are imported on first access:

- ``densepred.create_encoder`` / ``densepred.list_encoders``: the encoder registry. densepred
  encoders join smp's registry as ``densepred-<encoder>`` on
  :func:`densepred.encoders.register_smp_encoders` (and whenever densepred builds an smp model);
  see :mod:`densepred.encoders.smp_support`.
- ``densepred.save_pretrained(task_or_checkpoint, folder)``: a trained model as a portable model
  folder (``config.json``, ``model.safetensors``, ``README.md``); see :mod:`densepred.app.pretrained`.
- ``densepred.from_pretrained(folder_or_repo)``: that folder as a plain ``torch.nn.Module`` with
  ``preprocess`` / ``postprocess`` / ``predict``, without Lightning; see :mod:`densepred.portable`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"
__all__ = ["create_encoder", "from_pretrained", "list_encoders", "save_pretrained", "__version__"]

# Attribute -> the module it is imported from on first use (keeps `import densepred` light).
_LAZY = {
    "create_encoder": "densepred.encoders",
    "list_encoders": "densepred.encoders",
    "from_pretrained": "densepred.portable.model",
    "save_pretrained": "densepred.app.pretrained",
}


def __getattr__(name: str) -> Any:
    """The helpers of :data:`_LAZY`, imported on first use."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'densepred' has no attribute {name!r}")
