"""From YAML text and ``key=value`` overrides to a typed :class:`~densepred.config.run.Config`.

:func:`parse_config` validates every section against its task's classes
(:data:`~densepred.config.specs.TASK_SPECS`). Given no references it checks keys and types only,
without importing torch, so a typo is reported at once; given a
:class:`~densepred.config.refs.References` it also checks every name and ``*_args`` against the
component registries (:meth:`densepred.tasks.base.BaseTask.config_from_dict` does that).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from densepred.config.refs import References
from densepred.config.run import Config, check_top_level
from densepred.config.specs import TASK_SPECS, TaskSpec
from densepred.core.errors import ConfigError
from densepred.core.schema import validate_section

MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(ConfigError):
    """A YAML mapping gives one key twice."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (YAML would keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:  # ``<<: *anchor``: a key beside it overrides it
                continue
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                given = key in seen
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if given:
                raise DuplicateKeyError(
                    f"key '{key}' appears twice in one mapping (lines {seen[key]} and {line}); "
                    "YAML would silently keep only the second. Merge the two into one."
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML text; a duplicate key or a syntax error is a ConfigError naming ``source``."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except DuplicateKeyError as exc:
        raise DuplicateKeyError(f"{source}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source} is not valid YAML: {exc}") from None


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with errors that name the file."""
    path = Path(path)
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.yaml"))
        inside = f" YAML files in it: {', '.join(found)}." if found else ""
        raise ConfigError(f"config file '{path}' is a folder, not a YAML file.{inside}")
    if not path.is_file():
        raise ConfigError(f"config file '{path}' does not exist.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file '{path}' is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
            f"offset {exc.start}); save it with UTF-8 encoding."
        ) from None
    data = load_yaml(text, f"config file '{path}'")
    if not isinstance(data, dict):
        raise ConfigError(f"config file '{path}' must hold a mapping, not {type(data).__name__}.")
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into the key path and the YAML-parsed value."""
    if "=" not in text:
        raise ConfigError(
            f"override '{text}' must look like key.subkey=value (e.g. model.encoder=resnet18)."
        )
    key, value = text.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError(f"override '{text}': empty key part in '{key}'.")
    if not value.strip():
        return parts, None
    try:
        return parts, load_yaml(value, f"override '{text}'")
    except DuplicateKeyError:
        raise
    except ConfigError:
        raise ConfigError(
            f"override '{text}': the value '{value}' is not valid YAML. Write lists as [a, b] and "
            "mappings as {key: value}, and quote the whole override for the shell, e.g. "
            "'data.image_size=[64, 80]'."
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


def read_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The plain config of a YAML file with ``overrides`` applied (``name`` defaults to its stem)."""
    raw = apply_overrides(read_yaml(path), overrides)
    raw.setdefault("name", Path(path).stem)
    return raw


def task_spec(raw: dict[str, Any], source: str) -> TaskSpec:
    """The :class:`TaskSpec` that ``task.name`` names."""
    check_top_level(raw, source)
    name = (raw.get("task") or {}).get("name")
    if name is None:
        raise ConfigError(
            f"{source}: task.name is missing. Valid tasks: {', '.join(TASK_SPECS.names())}."
        )
    try:
        return TASK_SPECS.get(name)
    except ConfigError as exc:
        raise ConfigError(f"{source}: task.name: {exc}") from None


def parse_config(raw: dict[str, Any], source: str, refs: References | None = None) -> Config:
    """Validate a plain config mapping's sections and run keys (``trainer`` is copied as it is).

    Every section is validated even when an earlier one fails, and all problems are reported
    in one ``ConfigError``.

    Args:
        raw: Mapping with the sections and run keys; ``task.name`` names the task.
        source: Where the config came from (file name), used in error messages.
        refs: The registries to check names and ``*_args`` against; ``None`` checks keys and
            types only (no torch import).
    """
    spec = task_spec(raw, source)
    context = {"refs": refs, "head": spec.head} if refs is not None else None
    task_raw = {k: v for k, v in (raw.get("task") or {}).items() if k != "name"}
    sections: dict[str, Any] = {}
    problems: list[str] = []
    for key, cls, data in (
        ("model", spec.model, raw.get("model")),
        ("data", spec.data, raw.get("data")),
        ("task", spec.task, task_raw),
    ):
        try:
            sections[key] = validate_section(cls, data, key, source, context)
        except ConfigError as exc:
            lines = str(exc).split("\n  ")
            problems += lines[1:] if len(lines) > 1 else [str(exc).removeprefix(f"{source}: ")]
    if problems:
        raise ConfigError(f"{source}: invalid config\n  " + "\n  ".join(problems))
    return Config(
        task_name=spec.name,
        trainer=dict(raw.get("trainer") or {}),
        seed=raw.get("seed", 0),
        output_dir=str(raw.get("output_dir", "runs")),
        name=str(raw.get("name") or Path(source).stem or "run"),
        **sections,
    )
