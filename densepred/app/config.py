"""Loading a run config: one YAML file drives train, evaluate, predict, export and ablate.

A config has the sections ``model``, ``data``, ``task`` and ``trainer`` plus a few run settings
(:mod:`densepred.config`). Loading validates it in two passes: keys and types first
(:func:`densepred.config.loader.parse_config`, which imports no torch, so a typo is reported at
once), then every name and ``*_args`` against the registries, the task's cross-section rules
(:meth:`densepred.tasks.base.BaseTask.config_from_dict`) and the ``trainer`` section against
``lightning.Trainer`` (:func:`densepred.app.trainer.check_trainer`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from densepred.config.loader import parse_config, read_config
from densepred.config.run import Config

__all__ = ["Config", "config_from_dict", "load_config"]


def config_from_dict(raw: dict[str, Any], source: str = "<config>") -> Config:
    """Validate a plain config mapping (the one place a run config is validated).

    Args:
        raw: Mapping with the sections ``model``, ``data``, ``task``, ``trainer`` and run keys.
        source: Where it came from (file name), used in error messages.
    """
    parse_config(raw, source)  # keys and types, without torch: a typo fails in a fraction of a second
    # imported here, after the first pass: the registries need torch and timm, the tasks Lightning
    from densepred.app.tasks import TASKS
    from densepred.app.trainer import check_trainer

    config = TASKS.get(raw["task"]["name"]).config_from_dict(raw, source)
    config.trainer = check_trainer(config.trainer, source)
    return config


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Load, override and validate a YAML config file.

    Args:
        path: YAML file.
        overrides: Dotted ``key=value`` strings, e.g. ``("model.encoder=resnet18",)``.
    """
    return config_from_dict(read_config(path, overrides), source=str(path))
