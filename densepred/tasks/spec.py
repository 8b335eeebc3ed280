"""What a task brings to the framework: its LightningModule, data module and config models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from densepred.registry import Registry


@dataclass(frozen=True)
class TaskSpec:
    """Binds a task name to the classes that implement and configure it.

    Attributes:
        task_cls: The LightningModule; constructed as ``task_cls(config_dict)``.
        datamodule_cls: The LightningDataModule; constructed as ``datamodule_cls(data_config)``.
        model_config: Pydantic model validating the ``model`` section.
        data_config: Pydantic model validating the ``data`` section.
        task_config: Pydantic model validating the ``task`` section (without ``name``).
    """

    task_cls: Any
    datamodule_cls: Any
    model_config: type[BaseModel]
    data_config: type[BaseModel]
    task_config: type[BaseModel]


TASKS: Registry[TaskSpec] = Registry("task")
