"""Schema helpers: the strict pydantic base, readable validation errors and the typed run config.

A leaf module: it imports nothing from the rest of the package except :mod:`densepred.core.errors`,
so every layer (data, models, losses, tasks, config) can define its sections on it, and a task
can type and assemble its own :class:`Config` without importing :mod:`densepred.app.config`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from densepred.core.errors import ConfigError, unknown_name_message


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
                if err["loc"] and msg.startswith(f"{key}."):  # the message names the key itself
                    lines.append(msg)
                elif err["loc"]:
                    lines.append(f"{key}: {msg} (got {err.get('input')!r})")
                else:  # a rule of the whole section: its message names the keys
                    lines.append(msg if msg.startswith(f"{prefix}.") else f"{prefix}: {msg}")
        raise ConfigError(f"{source}: invalid config\n  " + "\n  ".join(lines)) from None


RUN_KEYS = ("seed", "output_dir", "name")
SECTIONS = ("model", "data", "task", "trainer")


@dataclass
class Config:
    """A validated run configuration.

    Attributes:
        task_name: Name of the task (``task.name``).
        model: Validated ``model`` section (the task's model config class).
        data: Validated ``data`` section (the task's data config class).
        task: Validated ``task`` section (the task's config class).
        trainer: Keyword arguments for :class:`lightning.Trainer`.
        seed: Global random seed.
        output_dir: Folder that holds run folders.
        name: Run name (default: the config file's stem).
    """

    task_name: str
    model: BaseModel
    data: BaseModel
    task: BaseModel
    trainer: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    output_dir: str = "runs"
    name: str = "run"

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (YAML/JSON/checkpoint safe) that ``config_from_dict`` reads back."""
        task = self.task.model_dump(mode="json")
        return {
            "seed": self.seed,
            "output_dir": self.output_dir,
            "name": self.name,
            "model": self.model.model_dump(mode="json"),
            "data": self.data.model_dump(mode="json"),
            "task": {"name": self.task_name, **task},
            "trainer": copy.deepcopy(self.trainer),
        }

    def to_yaml(self) -> str:
        """The resolved config as YAML text."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def check_top_level(raw: Any, source: str) -> None:
    """Fail unless ``raw`` is a mapping of known sections and run keys."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: a config must be a mapping with sections {', '.join(SECTIONS)}.")
    unknown = [k for k in raw if k not in SECTIONS + RUN_KEYS]
    if unknown:
        raise ConfigError(
            f"{source}: " + unknown_name_message("top-level key", unknown[0], SECTIONS + RUN_KEYS)
        )


def assemble_config(
    raw: dict[str, Any],
    sections: tuple[type[BaseModel], type[BaseModel], type[BaseModel]],
    source: str,
) -> Config:
    """Validate the ``model``, ``data`` and ``task`` sections and the run keys of one task.

    The ``trainer`` section is copied as it is; :func:`densepred.app.config.config_from_dict` checks it.

    Args:
        raw: Mapping with the sections and run keys; ``task.name`` names the task.
        sections: The task's model, data and task section classes.
        source: Where the config came from (file name), used in error messages.
    """
    check_top_level(raw, source)
    model_cls, data_cls, task_cls = sections
    task_raw = dict(raw.get("task") or {})
    task_name = task_raw.pop("name")
    seed = raw.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError(f"{source}: seed must be an integer, got {seed!r}.")
    trainer = raw.get("trainer")
    if trainer is not None and not isinstance(trainer, dict):
        raise ConfigError(f"{source}: section 'trainer' must be a mapping of lightning.Trainer arguments.")
    return Config(
        task_name=task_name,
        model=validate_section(model_cls, raw.get("model"), "model", source),
        data=validate_section(data_cls, raw.get("data"), "data", source),
        task=validate_section(task_cls, task_raw, "task", source),
        trainer=dict(trainer or {}),
        seed=seed,
        output_dir=str(raw.get("output_dir", "runs")),
        name=str(raw.get("name") or Path(source).stem or "run"),
    )
