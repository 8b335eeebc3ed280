"""densepred: dense prediction (depth, segmentation) with swappable encoders.

``import densepred`` is cheap: it loads neither timm nor segmentation-models-pytorch. The
encoder helpers below are imported on first access. densepred encoders join smp's registry as
``densepred-<encoder>`` on :func:`densepred.encoders.register_smp_encoders` (and whenever
densepred builds an smp model); see :mod:`densepred.encoders.smp_support`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["create_encoder", "list_encoders", "__version__"]


def __getattr__(name: str) -> Any:
    """``densepred.create_encoder`` / ``densepred.list_encoders``, imported on first use."""
    if name in ("create_encoder", "list_encoders"):
        # local import on purpose: keeps `import densepred` free of timm and smp
        from densepred import encoders

        return getattr(encoders, name)
    raise AttributeError(f"module 'densepred' has no attribute {name!r}")
