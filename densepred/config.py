"""One YAML file drives train, evaluate, predict and ablate.

A config has the sections ``model``, ``data``, ``task`` and ``trainer`` plus a few run settings.
``task.name`` selects a task (depth, segmentation, classification, gan); the task's
:class:`~densepred.tasks.spec.TaskSpec` provides the pydantic models that validate ``model``,
``data`` and ``task``, so every section is checked on load: an unknown key, a wrong type or an
unknown encoder/decoder fails at once with a message that names the key and the valid choices.
``trainer`` is passed to :class:`lightning.Trainer` and its keys are checked against its signature.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from densepred.errors import ConfigError, unknown_name_message
from densepred.schema import validate_section

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
        """Plain-data form (YAML/JSON/checkpoint safe) that :func:`config_from_dict` reads back."""
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


def _check_trainer(trainer: Any, source: str) -> dict[str, Any]:
    import lightning

    from densepred.registry import check_kwargs

    if trainer is None:
        return {}
    if not isinstance(trainer, dict):
        raise ConfigError(f"{source}: section 'trainer' must be a mapping of lightning.Trainer arguments.")
    try:
        check_kwargs(lightning.Trainer.__init__, trainer, "trainer")
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return dict(trainer)


def config_from_dict(raw: dict[str, Any], source: str = "<config>") -> Config:
    """Validate a plain config mapping.

    Args:
        raw: Mapping with the sections ``model``, ``data``, ``task``, ``trainer`` and run keys.
        source: Where it came from (file name), used in error messages.
    """
    from densepred.tasks import TASKS

    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: a config must be a mapping with sections {', '.join(SECTIONS)}.")
    unknown = [k for k in raw if k not in SECTIONS + RUN_KEYS]
    if unknown:
        raise ConfigError(
            f"{source}: " + unknown_name_message("top-level key", unknown[0], SECTIONS + RUN_KEYS)
        )
    task_raw = dict(raw.get("task") or {})
    if "name" not in task_raw:
        raise ConfigError(f"{source}: task.name is missing. Valid tasks: {', '.join(TASKS.names())}.")
    task_name = task_raw.pop("name")
    try:
        spec = TASKS.get(task_name)
    except ConfigError as exc:
        raise ConfigError(f"{source}: task.name: {exc}") from None
    seed = raw.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError(f"{source}: seed must be an integer, got {seed!r}.")
    return Config(
        task_name=task_name,
        model=validate_section(spec.model_config, raw.get("model"), "model", source),
        data=validate_section(spec.data_config, raw.get("data"), "data", source),
        task=validate_section(spec.task_config, task_raw, "task", source),
        trainer=_check_trainer(raw.get("trainer"), source),
        seed=seed,
        output_dir=str(raw.get("output_dir", "runs")),
        name=str(raw.get("name") or Path(source).stem or "run"),
    )


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into the key path and the YAML-parsed value."""
    if "=" not in text:
        raise ConfigError(f"override '{text}' must look like key.subkey=value (e.g. model.encoder=resnet18).")
    key, value = text.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError(f"override '{text}': empty key part in '{key}'.")
    return parts, yaml.safe_load(value) if value.strip() else None


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
    """Read a YAML mapping, with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file '{path}' does not exist.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
