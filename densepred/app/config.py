"""One YAML file drives train, evaluate, predict and ablate.

A config has the sections ``model``, ``data``, ``task`` and ``trainer`` plus a few run settings.
``task.name`` selects a task class in :data:`densepred.app.tasks.TASKS`; the class owns the
pydantic models that validate ``model``, ``data`` and ``task`` and the rules that join sections
(:meth:`densepred.tasks.base.BaseTask.config_from_dict`), so every section is checked on load: an
unknown key, a wrong type or an unknown encoder/decoder fails at once with a message that names
the key and the valid choices. ``trainer`` is passed to :class:`lightning.Trainer`; its keys and
value types are checked here against the annotations of ``Trainer.__init__``.
"""

from __future__ import annotations

import copy
import functools
import typing
from pathlib import Path
from typing import Any

import lightning
import yaml
from pydantic import BaseModel, ConfigDict, create_model

from densepred.app.tasks import TASKS
from densepred.core.errors import ConfigError
from densepred.core.schema import RUN_KEYS, SECTIONS, Config, check_top_level, validate_section
from densepred.core.yaml_loader import load_yaml

__all__ = ["RUN_KEYS", "SECTIONS", "Config", "config_from_dict", "load_config", "apply_overrides"]

RESERVED_TRAINER_KEYS = ("callbacks", "logger", "default_root_dir")
"""Trainer arguments densepred sets itself (run folder, loggers, checkpoint callbacks)."""


@functools.cache
def trainer_schema() -> type[BaseModel]:
    """A strict pydantic model of ``lightning.Trainer.__init__``'s arguments and annotations,
    without the arguments densepred sets itself (:data:`RESERVED_TRAINER_KEYS`)."""
    hints = typing.get_type_hints(lightning.Trainer.__init__)
    fields: dict[str, Any] = {
        name: (hint, None)
        for name, hint in hints.items()
        if name not in ("return", "self", *RESERVED_TRAINER_KEYS)
    }
    strict = ConfigDict(extra="forbid", strict=True, arbitrary_types_allowed=True)
    return create_model("TrainerSection", __config__=strict, **fields)


def check_trainer(trainer: dict[str, Any], source: str) -> dict[str, Any]:
    """Check the ``trainer`` section: no reserved key, known keys, values of the annotated types.

    Args:
        trainer: The raw ``trainer`` mapping.
        source: Where the config came from (file name), used in messages.
    """
    reserved = [k for k in RESERVED_TRAINER_KEYS if k in trainer]
    if reserved:
        raise ConfigError(
            f"{source}: trainer.{reserved[0]} is set by densepred (run folder, loggers, callbacks); "
            "remove it."
        )
    validate_section(trainer_schema(), trainer, "trainer", source)
    return dict(trainer)


def config_from_dict(raw: dict[str, Any], source: str = "<config>") -> Config:
    """Validate a plain config mapping (the one place a run config is validated).

    Args:
        raw: Mapping with the sections ``model``, ``data``, ``task``, ``trainer`` and run keys.
        source: Where it came from (file name), used in error messages.
    """
    check_top_level(raw, source)
    task_name = (raw.get("task") or {}).get("name")
    if task_name is None:
        raise ConfigError(f"{source}: task.name is missing. Valid tasks: {', '.join(TASKS.names())}.")
    try:
        task_cls = TASKS.get(task_name)
    except ConfigError as exc:
        raise ConfigError(f"{source}: task.name: {exc}") from None
    config = task_cls.config_from_dict(raw, source)
    config.trainer = check_trainer(config.trainer, source)
    return config


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into the key path and the YAML-parsed value."""
    if "=" not in text:
        raise ConfigError(f"override '{text}' must look like key.subkey=value (e.g. model.encoder=resnet18).")
    key, value = text.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError(f"override '{text}': empty key part in '{key}'.")
    try:
        return parts, load_yaml(value, f"override '{text}'") if value.strip() else None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"override '{text}': the value '{value}' is not valid YAML ({problem}). Write lists "
            "as [a, b] and mappings as {key: value}, and quote the whole override for the shell, "
            "e.g. 'data.image_size=[64, 80]'."
        ) from None


def apply_overrides(raw: dict[str, Any], overrides: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Return a copy of ``raw`` with dotted ``key=value`` overrides applied."""
    out = copy.deepcopy(raw)
    for text in overrides:
        parts, value = parse_override(text)
        node = out
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                where = ".".join(parts[: i + 1])
                raise ConfigError(f"override '{text}': '{where}' is a value, not a section.")
            node = child
        node[parts[-1]] = value
    return out


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with errors that name the file (a key given twice is one)."""
    path = Path(path)
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.yaml"))
        inside = f" YAML files in it: {', '.join(found)}." if found else ""
        raise ConfigError(f"config file '{path}' is a folder, not a YAML file.{inside}")
    if not path.is_file():
        raise ConfigError(f"config file '{path}' does not exist.")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), str(path))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file '{path}' is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
            f"offset {exc.start}); save it with UTF-8 encoding."
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file '{path}' is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file '{path}' must hold a mapping, not {type(data).__name__}.")
    return data


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Load, override and validate a YAML config file.

    Args:
        path: YAML file.
        overrides: Dotted ``key=value`` strings, e.g. ``("model.encoder=resnet18",)``.
    """
    raw = apply_overrides(read_yaml(path), overrides)
    raw.setdefault("name", Path(path).stem)
    return config_from_dict(raw, source=str(path))
