"""References from a config into the component registries, checked in the second validation pass.

A section validator that names a registry entry (an encoder, a decoder, a loss, a data format)
or passes arguments to one asks the :class:`References` object found in the pydantic validation
context (:func:`references`). The first pass (keys and types only) has none, and such validators
skip their check; the second pass gets :class:`densepred.tasks.references.ComponentReferences`.
This keeps the schemas free of torch imports while every name and ``*_args`` key is still checked
when a config is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationInfo

Triple = tuple[float, float, float]

ENCODER = "encoder"
DECODER = "decoder"
HEAD = "head"
GENERATOR = "generator"
DISCRIMINATOR = "discriminator"
ADVERSARIAL_LOSS = "adversarial_loss"
"""Kinds of names a config can refer to; losses use ``loss:<task>`` (e.g. ``loss:depth``)."""


def loss_kind(task: str) -> str:
    """The reference kind of a task's loss registry, e.g. ``loss:depth``."""
    return f"loss:{task}"


class References(Protocol):
    """What the second validation pass can look up."""

    def check_name(self, kind: str, name: str) -> None:
        """Raise ``ConfigError`` (a ``ValueError``) unless ``name`` is a known ``kind``."""

    def check_args(self, kind: str, name: str, args: Mapping[str, Any], where: str) -> None:
        """Raise ``ConfigError`` unless ``args`` are keyword arguments the ``kind`` ``name`` takes.

        ``where`` is the config key of ``args`` (e.g. ``model.decoder_args``), used in messages.
        """

    def check_format(self, name: str, target: str) -> None:
        """Raise ``ConfigError`` unless data layout ``name`` reads ``target`` targets."""

    def check_reader_args(self, name: str, target: str, args: Mapping[str, Any]) -> None:
        """Raise ``ConfigError`` unless ``args`` (``data.args``) fit layout ``name``'s reader."""

    def layout_classes(self, name: str, target: str, root: Path, train_split: str) -> list[str]:
        """Layout ``name``'s default class names for a dataset at ``root``."""

    def layout_void(self, name: str, target: str) -> int | None:
        """Layout ``name``'s default void label."""

    def normalization(self, encoder: str) -> tuple[Triple, Triple]:
        """``(mean, std)`` the encoder's pretrained weights expect."""


def references(info: ValidationInfo) -> References | None:
    """The :class:`References` of this validation pass, or ``None`` in the first (keys and types)."""
    context = info.context
    return context.get("refs") if isinstance(context, dict) else None


def context_value(info: ValidationInfo, key: str) -> Any:
    """Another entry of the validation context (e.g. ``head``, the task's head name), or ``None``."""
    context = info.context
    return context.get(key) if isinstance(context, dict) else None
