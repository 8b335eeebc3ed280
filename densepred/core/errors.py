"""Exception types and message helpers shared by the whole package.

Every user-facing error names the offending file, key or value and says how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class DensepredError(Exception):
    """Base class of all errors raised on purpose by densepred."""


class ConfigError(DensepredError, ValueError):
    """A configuration value, key or name is invalid."""


class DataError(DensepredError, ValueError):
    """A data file is missing, unreadable or inconsistent with its pair."""


class WeightsError(DensepredError, ValueError):
    """A weights file is missing or does not match the model."""


class OutputError(DensepredError):
    """An output folder is not a folder, read-only or full."""


def user_message(exc: BaseException) -> str:
    """The message of ``exc`` as the user should read it.

    An error raised in a DataLoader worker comes back re-raised by PyTorch as the same type, with
    ``Caught DataError in DataLoader worker process 0.`` and the worker's traceback as its
    message; that is cut back to the worker's own message.
    """
    text = str(exc)
    kind, module = type(exc).__qualname__, type(exc).__module__
    marker = f"{kind}: " if module == "builtins" else f"{module}.{kind}: "  # as tracebacks name it
    if text.startswith("Caught ") and marker in text:
        return text.rsplit(marker, 1)[1].strip()
    return text


def close_matches(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` entries of ``choices`` that look like ``name``."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.5)
    return [lowered[h] for h in hits]


def unknown_name_message(kind: str, name: str, choices: Iterable[str], limit: int = 40) -> str:
    """Build the message for an unknown ``name`` of some ``kind`` (encoder, decoder, key...).

    Args:
        kind: What was looked up, e.g. ``"encoder"``.
        name: The name the user gave.
        choices: The valid names.
        limit: At most this many valid names are listed.
    """
    choices = sorted(set(choices))
    hint = close_matches(name, choices)
    msg = f"Unknown {kind} '{name}'."
    if hint:
        msg += " Did you mean " + " or ".join(f"'{h}'" for h in hint) + "?"
    shown = ", ".join(choices[:limit])
    more = f", ... ({len(choices) - limit} more)" if len(choices) > limit else ""
    return msg + f" Valid {kind}s: {shown}{more}."
