"""Every config key with its type, default and meaning, generated from the section schemas.

The descriptions are the ``Attributes:`` entries of the section classes' docstrings (a test keeps
every field described), so ``densepred keys`` and docs/configuration.md cannot drift from the code.
"""

from __future__ import annotations

import inspect
import re
import typing
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from densepred.config.run import Config
from densepred.config.specs import TaskSpec
from densepred.core.schema import section_model

_ENTRY = re.compile(r"^(\w+(?:, \w+)*)( \([^)]*\))?: (.*)$")


@dataclass(frozen=True)
class KeyDoc:
    """One documented key.

    Attributes:
        key: Dotted key, e.g. ``data.augment.hflip``.
        type: Its type as users write it.
        default: Its default (``required`` when it has none).
        description: What it means (the first sentences of its docstring entry).
    """

    key: str
    type: str
    default: str
    description: str


def docstring_entries(doc: str | None, section: str = "Attributes") -> dict[str, str]:
    """``name -> text`` of a Google-style docstring section (``Attributes:`` or ``Args:``)."""
    lines = inspect.cleandoc(doc or "").splitlines()
    entries: dict[str, str] = {}
    inside, names = False, []
    for line in lines:
        if line.strip() == f"{section}:":
            inside = True
            continue
        if not inside:
            continue
        if line and not line.startswith(" "):  # the next section
            break
        match = _ENTRY.match(line[4:]) if line.startswith("    ") and line[4:5] != " " else None
        if match:
            names = match.group(1).split(", ")
            for name in names:
                entries[name] = match.group(3).strip()
        elif line.strip() and names:
            for name in names:
                entries[name] += " " + line.strip()
    return entries


def field_descriptions(cls: type[BaseModel]) -> dict[str, str]:
    """Descriptions of ``cls``'s fields from its and its bases' ``Attributes:`` sections (the
    class nearest ``cls`` wins)."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        found.update(docstring_entries(klass.__dict__.get("__doc__")))
    return {name: found.get(name, "") for name in cls.model_fields}


def type_name(annotation: Any) -> str:
    """An annotation as users write values: ``int``, ``[int, int] | null``, ``a | b``..."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is type(None):
        return "null"
    if origin is typing.Annotated:  # a checked type (ImageSize, EncoderArgs): the values' type
        return type_name(args[0])
    if origin is typing.Literal:
        return " | ".join(str(a) for a in args)
    if origin in (typing.Union, __import__("types").UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is tuple:
        return "[" + ", ".join(type_name(a) for a in args) + "]"
    if origin is list:
        return f"list[{type_name(args[0])}]" if args else "list"
    if origin is dict:
        return "mapping"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    return getattr(annotation, "__name__", str(annotation))


def _yaml(value: Any) -> str:
    """``value`` written as in a YAML config, on one line."""
    plain = _plain(value)
    return (
        yaml.safe_dump(plain, default_flow_style=True, width=1_000)
        .strip()
        .removesuffix("...")
        .strip()
    )


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _default(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
        return "(section)" if isinstance(value, BaseModel) else _yaml(value)
    if field.default is PydanticUndefined:
        return "required"
    return _yaml(field.default)


def section_keys(cls: type[BaseModel], prefix: str) -> list[KeyDoc]:
    """The keys of one section class, nested sections expanded (``prefix``: e.g. ``data``)."""
    descriptions = field_descriptions(cls)
    rows: list[KeyDoc] = []
    for name, field in cls.model_fields.items():
        key = f"{prefix}.{name}"
        rows.append(KeyDoc(key, type_name(field.annotation), _default(field), descriptions[name]))
        nested = section_model(field.annotation)
        if nested is not None:
            rows += section_keys(nested, key)
    return rows


def run_keys() -> list[KeyDoc]:
    """The run settings at the top of every config (``seed``, ``output_dir``, ``name``)."""
    described = docstring_entries(Config.__doc__)
    defaults = {"seed": "0", "output_dir": "runs", "name": "the config file's name"}
    types = {"seed": "int", "output_dir": "str", "name": "str"}
    return [KeyDoc(k, types[k], defaults[k], described[k]) for k in ("seed", "output_dir", "name")]


def task_keys(spec: TaskSpec) -> list[KeyDoc]:
    """Every key of a task's config but ``trainer``: run settings, then model, data and task."""
    name = KeyDoc("task.name", "str", "required", f"The task: {spec.name}.")
    return [
        *run_keys(),
        *section_keys(spec.model, "model"),
        *section_keys(spec.data, "data"),
        name,
        *section_keys(spec.task, "task"),
    ]
