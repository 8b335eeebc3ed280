"""Networks by recipe: a builder name plus JSON-serialisable constructor arguments.

Every network a task trains is built from a :class:`Recipe`, the way huggingface_hub's
``PyTorchModelHubMixin`` rebuilds a model from its init args: the task builds it with its
``pretrained`` weights, a model folder (:mod:`densepred.portable`) stores the same recipe in its
``config.json`` and rebuilds it without them, then loads its own weights. One builder per
network serves both, so a folder always holds the architecture the task trained.

The builders register themselves in :data:`NETWORKS` in their own modules (``dense``,
``smp``, ``smp_native``, ``classifier``, ``dcgan_generator``); importing any
``densepred.models`` module registers them all (the package imports every builder module).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from densepred.core.errors import ConfigError
from densepred.core.registry import Registry

NETWORKS: Registry = Registry("network")
"""Builder name -> ``builder(**args) -> nn.Module`` (``pretrained=...`` too for builders whose
encoder has pretrained weights)."""


@dataclass(frozen=True)
class Recipe:
    """How to build one network.

    Attributes:
        builder: Name in :data:`NETWORKS`.
        args: Its keyword arguments: plain JSON data (no weights path: weights are given to
            :meth:`build`).
    """

    builder: str
    args: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            json.dumps(self.args, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"network recipe '{self.builder}': its arguments must be plain JSON data ({exc})."
            ) from None

    def build(self, pretrained: bool | str = False) -> nn.Module:
        """Build the network.

        Args:
            pretrained: Encoder weights: ``False`` (random init, as a model folder builds before
                loading its own weights), a local timm classifier file, or ``True`` (timm's hub).
                Only builders with a ``pretrained`` argument take weights.
        """
        weights = {} if pretrained is False else {"pretrained": pretrained}
        return NETWORKS.build(
            self.builder, where=f"network '{self.builder}'", **weights, **self.args
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"builder": ..., "args": {...}}`` (a deep copy through JSON)."""
        return {"builder": self.builder, "args": json.loads(json.dumps(self.args))}
