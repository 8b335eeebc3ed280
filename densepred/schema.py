"""Schema helpers for config sections: the strict pydantic base and readable validation errors.

A leaf module: it imports nothing from the rest of the package except :mod:`densepred.errors`,
so every layer (data, models, losses, tasks, config) can define its sections on it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from densepred.errors import ConfigError, unknown_name_message


class StrictModel(BaseModel):
    """Base of every config section: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())


def _format_loc(prefix: str, loc: tuple[Any, ...]) -> str:
    return ".".join([prefix, *(str(p) for p in loc)])


def _valid_keys(model_cls: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (nested) pydantic model that ``loc`` points into."""
    cls: Any = model_cls
    for part in loc[:-1]:
        info = getattr(cls, "model_fields", {}).get(part)
        if info is None or not (isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)):
            return []
        cls = info.annotation
    return list(getattr(cls, "model_fields", {}))


def validate_section(model_cls: type[BaseModel], data: Any, prefix: str, source: str) -> BaseModel:
    """Validate one section; turn pydantic's errors into one readable ConfigError.

    Args:
        model_cls: The section's pydantic model.
        data: The raw section (a mapping, or ``None`` for an empty one).
        prefix: The section's key (``model``, ``data``, ...), used in messages.
        source: Where the config came from (file name), used in messages.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: section '{prefix}' must be a mapping, got {type(data).__name__}.")
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = _format_loc(prefix, err["loc"])
            if err["type"] == "extra_forbidden":
                valid = _valid_keys(model_cls, err["loc"])
                lines.append(f"{key}: " + unknown_name_message("key", str(err["loc"][-1]), valid))
            else:
                msg = err["msg"].removeprefix("Value error, ")
                lines.append(f"{key}: {msg} (got {err.get('input')!r})")
        raise ConfigError(f"{source}: invalid config\n  " + "\n  ".join(lines)) from None
