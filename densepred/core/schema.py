"""Schema helpers: the strict pydantic base of every config section and readable validation errors.

A leaf module: it imports nothing from the rest of the package except :mod:`densepred.core.errors`.
The sections themselves live in :mod:`densepred.config`.
"""

from __future__ import annotations

import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from densepred.core.errors import ConfigError, unknown_name_message

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base of every config section: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())


def _format_loc(prefix: str, loc: tuple[Any, ...]) -> str:
    return ".".join([prefix, *(str(p) for p in loc)])


def section_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds (``Model`` or ``Model | None``), else ``None``."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _valid_keys(model_cls: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (nested) pydantic model that ``loc`` points into."""
    cls: type[BaseModel] | None = model_cls
    for part in loc[:-1]:
        info = cls.model_fields.get(part) if cls is not None else None
        cls = section_model(info.annotation) if info is not None else None
        if cls is None:
            return []
    return list(cls.model_fields) if cls is not None else []


def validate_section(
    model_cls: type[M], data: Any, prefix: str, source: str, context: Any = None
) -> M:
    """Validate one section; turn pydantic's errors into one readable ConfigError.

    Args:
        model_cls: The section's pydantic model.
        data: The raw section (a mapping, or ``None`` for an empty one).
        prefix: The section's key (``model``, ``data``, ...), used in messages.
        source: Where the config came from (file name), used in messages.
        context: Pydantic validation context (e.g. the references of the second pass).
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: section '{prefix}' must be a mapping, got {type(data).__name__}.")
    try:
        return model_cls.model_validate(data, context=context)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = _format_loc(prefix, err["loc"])
            if err["type"] == "extra_forbidden":
                valid = _valid_keys(model_cls, err["loc"])
                lines.append(f"{key}: " + unknown_name_message("key", str(err["loc"][-1]), valid))
            else:
                msg = err["msg"].removeprefix("Value error, ")
                if err["loc"] and msg.startswith(f"{key}."):  # the message names the key itself
                    lines.append(msg)
                elif err["loc"]:
                    lines.append(f"{key}: {msg} (got {err.get('input')!r})")
                else:  # a rule of the whole section: its message names the keys
                    lines.append(msg if msg.startswith(f"{prefix}.") else f"{prefix}: {msg}")
        raise ConfigError(f"{source}: invalid config\n  " + "\n  ".join(lines)) from None
