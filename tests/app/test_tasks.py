"""Contract of every registered task (``TASKS``): a task registered later is tested here too.

Each task class owns its section schemas and data module, validates a config once, and
rebuilds itself from the plain hyper-parameters a checkpoint holds.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import yaml
from pydantic import BaseModel

from densepred.app.config import config_from_dict, load_config
from densepred.app.tasks import TASKS
from densepred.config.run import Config
from densepred.config.specs import TASK_SPECS
from densepred.tasks import BaseTask

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SHIPPED = {
    path: yaml.safe_load(path.read_text())["task"]["name"]
    for path in sorted(CONFIGS.glob("*.yaml"))
    if "task" in yaml.safe_load(path.read_text())
}


def shipped_config(name: str) -> Path:
    """The first shipped config of task ``name``: every task ships one."""
    paths = [path for path, task in SHIPPED.items() if task == name]
    assert paths, f"task '{name}' has no config in configs/"
    return paths[0]


@pytest.mark.parametrize("name", TASKS.names())
def test_task_class_owns_its_sections(name: str) -> None:
    task_cls = TASKS.get(name)
    assert issubclass(task_cls, BaseTask)
    assert task_cls.spec is TASK_SPECS.get(name)  # the config layer knows the same sections
    for section in (task_cls.spec.model, task_cls.spec.data, task_cls.spec.task):
        assert issubclass(section, BaseModel)
    assert issubclass(task_cls.datamodule_cls, L.LightningDataModule)


def test_every_spec_has_a_task_class() -> None:
    assert TASK_SPECS.names() == TASKS.names()


@pytest.mark.parametrize("name", TASKS.names())
def test_task_takes_the_validated_config_and_saves_plain_data(
    name: str, tmp_path: Path, make_tiny
) -> None:
    config = load_config(shipped_config(name), make_tiny(tmp_path))
    task = TASKS.get(name)(config)
    assert task.config is config  # validated once, not re-parsed
    saved = task.hparams["config"]
    assert yaml.safe_load(yaml.safe_dump(saved)) == saved == config.to_dict()  # checkpoint-safe
    again = TASKS.get(name)(saved)  # how a checkpoint rebuilds it
    assert isinstance(again.config, Config) and again.config.to_dict() == saved
    assert sum(p.numel() for p in again.parameters()) == sum(p.numel() for p in task.parameters())
    assert isinstance(TASKS.get(name).build_datamodule(config), task.datamodule_cls)


@pytest.mark.parametrize("name", TASKS.names())
def test_task_config_round_trips(name: str) -> None:
    config = load_config(shipped_config(name))
    assert config_from_dict(config.to_dict()).to_dict() == config.to_dict()


def test_every_shipped_config_names_a_registered_task() -> None:
    assert set(SHIPPED.values()) <= set(TASKS.names())
