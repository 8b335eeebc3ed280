"""The typed run config: one validated section per key, generic over the task's section types."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import yaml

from densepred.config.data import DataConfig
from densepred.config.model import ModelConfig
from densepred.config.task import TaskConfig
from densepred.core.errors import ConfigError, unknown_name_message

RUN_KEYS = ("seed", "output_dir", "name")
SECTIONS = ("model", "data", "task", "trainer")

M = TypeVar("M", bound=ModelConfig)
D = TypeVar("D", bound=DataConfig)
T = TypeVar("T", bound=TaskConfig)


@dataclass
class Config(Generic[M, D, T]):
    """A validated run configuration.

    Attributes:
        task_name: Name of the task (``task.name``).
        model: Validated ``model`` section (the task's model section class).
        data: Validated ``data`` section (the task's data section class).
        task: Validated ``task`` section (the task's section class).
        trainer: Keyword arguments for :class:`lightning.Trainer`.
        seed: Global random seed.
        output_dir: Folder that holds run folders.
        name: Run name (default: the config file's stem).
    """

    task_name: str
    model: M
    data: D
    task: T
    trainer: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    output_dir: str = "runs"
    name: str = "run"

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (YAML/JSON/checkpoint safe) that ``parse_config`` reads back."""
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
        raise ConfigError(
            f"{source}: a config must be a mapping with sections {', '.join(SECTIONS)}."
        )
    unknown = [k for k in raw if k not in SECTIONS + RUN_KEYS]
    if unknown:
        raise ConfigError(
            f"{source}: " + unknown_name_message("top-level key", unknown[0], SECTIONS + RUN_KEYS)
        )
    seed = raw.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError(f"{source}: seed must be an integer, got {seed!r}.")
    trainer = raw.get("trainer")
    if trainer is not None and not isinstance(trainer, dict):
        raise ConfigError(
            f"{source}: section 'trainer' must be a mapping of lightning.Trainer arguments."
        )
