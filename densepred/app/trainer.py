"""The ``trainer`` section: ``lightning.Trainer`` arguments, checked against its signature, and
loggers and callbacks in LightningCLI's ``{class_path, init_args}`` form.

``trainer.logger`` and ``trainer.callbacks`` take a list (or one entry) of
``{class_path: package.module.Class, init_args: {...}}``; each class is imported and its
``init_args`` are checked against its signature when the config is loaded, so a typo fails before
any data is read. They are added to densepred's own: the CSV and TensorBoard loggers and the
checkpoint and learning-rate callbacks.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import typing
from typing import Any

import lightning
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import Logger
from pydantic import BaseModel, ConfigDict, create_model

from densepred.config.keys import KeyDoc, docstring_entries, type_name
from densepred.core.errors import ConfigError
from densepred.core.registry import check_kwargs
from densepred.core.schema import validate_section

RESERVED_TRAINER_KEYS = ("default_root_dir",)
"""Trainer arguments densepred sets itself (the run folder)."""
OBJECT_KEYS: dict[str, type] = {"logger": Logger, "callbacks": Callback}
"""Trainer arguments given as ``{class_path, init_args}`` entries -> the base class they need."""


@functools.cache
def trainer_schema() -> type[BaseModel]:
    """A strict pydantic model of ``lightning.Trainer.__init__``'s arguments and annotations,
    without the ones densepred sets (:data:`RESERVED_TRAINER_KEYS`) or builds (:data:`OBJECT_KEYS`)."""
    hints = typing.get_type_hints(lightning.Trainer.__init__)
    fields: dict[str, Any] = {
        name: (hint, None)
        for name, hint in hints.items()
        if name not in ("return", "self", *RESERVED_TRAINER_KEYS, *OBJECT_KEYS)
    }
    strict = ConfigDict(extra="forbid", strict=True, arbitrary_types_allowed=True)
    return create_model("TrainerSection", __config__=strict, **fields)


def import_class(class_path: Any, where: str) -> type:
    """The class named by a dotted ``class_path``; ``ConfigError`` naming ``where`` if it is none."""
    if not isinstance(class_path, str) or "." not in class_path:
        raise ConfigError(
            f"{where}.class_path must be a dotted name like "
            f"lightning.pytorch.callbacks.EarlyStopping, got {class_path!r}."
        )
    module_name, _, name = class_path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"{where}.class_path '{class_path}': module '{module_name}' cannot be imported ({exc}). "
            "Check the spelling, or install the package that provides it (e.g. "
            'pip install -e ".[mlflow]" for MLFlowLogger).'
        ) from None
    cls = getattr(module, name, None)
    if not isinstance(cls, type):
        raise ConfigError(f"{where}.class_path '{class_path}': '{module_name}' has no class '{name}'.")
    return cls


def object_entries(value: Any, key: str) -> list[dict[str, Any]]:
    """``trainer.<key>`` as a list of ``{class_path, init_args}`` mappings (one entry or a list)."""
    entries = value if isinstance(value, list) else [value]
    for i, entry in enumerate(entries):
        where = f"trainer.{key}[{i}]"
        if not isinstance(entry, dict) or "class_path" not in entry:
            raise ConfigError(
                f"{where} must be a mapping {{class_path: ..., init_args: {{...}}}} (LightningCLI's "
                f"form), got {entry!r}."
            )
        extra = [k for k in entry if k not in ("class_path", "init_args")]
        if extra:
            raise ConfigError(f"{where}: unknown key '{extra[0]}'; use class_path and init_args.")
        if not isinstance(entry.get("init_args") or {}, dict):
            raise ConfigError(f"{where}.init_args must be a mapping of the class's arguments.")
    return entries


def check_object(entry: dict[str, Any], key: str, index: int) -> type:
    """Import an entry's class and check its ``init_args`` against its signature."""
    where = f"trainer.{key}[{index}]"
    cls = import_class(entry["class_path"], where)
    base = OBJECT_KEYS[key]
    if not issubclass(cls, base):
        raise ConfigError(
            f"{where}.class_path '{entry['class_path']}' is not a {base.__module__}.{base.__name__}."
        )
    check_kwargs(cls, entry.get("init_args") or {}, f"{where}.init_args")
    return cls


def build_objects(trainer: dict[str, Any], key: str) -> list[Any]:
    """Instantiate the checked ``trainer.<key>`` entries (none when the key is unset)."""
    if trainer.get(key) is None:
        return []
    entries = object_entries(trainer[key], key)
    return [
        check_object(entry, key, i)(**(entry.get("init_args") or {}))
        for i, entry in enumerate(entries)
    ]


def check_trainer(trainer: dict[str, Any], source: str) -> dict[str, Any]:
    """Check the ``trainer`` section: no reserved key, known keys, values of the annotated types,
    importable logger and callback classes with fitting arguments.

    Args:
        trainer: The raw ``trainer`` mapping.
        source: Where the config came from (file name), used in messages.
    """
    reserved = [k for k in RESERVED_TRAINER_KEYS if k in trainer]
    if reserved:
        raise ConfigError(
            f"{source}: trainer.{reserved[0]} is set by densepred (the run folder); remove it."
        )
    plain = {k: v for k, v in trainer.items() if k not in OBJECT_KEYS}
    validate_section(trainer_schema(), plain, "trainer", source)
    for key in OBJECT_KEYS:
        if trainer.get(key) is None:
            continue
        try:
            for i, entry in enumerate(object_entries(trainer[key], key)):
                check_object(entry, key, i)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    return dict(trainer)


def trainer_keys() -> list[KeyDoc]:
    """The ``trainer`` keys: ``lightning.Trainer``'s arguments with their types, defaults and
    Lightning's own descriptions (``default_root_dir`` is densepred's: the run folder)."""
    described = docstring_entries(lightning.Trainer.__init__.__doc__, "Args")
    hints = typing.get_type_hints(lightning.Trainer.__init__)
    rows = []
    for name, param in inspect.signature(lightning.Trainer.__init__).parameters.items():
        if name == "self" or name in RESERVED_TRAINER_KEYS:
            continue
        text = described.get(name, "")
        if name in OBJECT_KEYS:
            text = (
                f"A list of {{class_path: ..., init_args: {{...}}}} entries (LightningCLI's form), "
                f"added to densepred's own {'CSV and TensorBoard loggers' if name == 'logger' else 'checkpoint and learning-rate callbacks'}."
            )
        default = "null" if param.default is None else repr(param.default)
        rows.append(KeyDoc(f"trainer.{name}", type_name(hints.get(name, Any)), default, text))
    return rows
