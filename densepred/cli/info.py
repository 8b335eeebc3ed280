"""``densepred configs`` (the shipped configs) and ``densepred keys`` (every config key)."""

from __future__ import annotations

import argparse

from densepred.cli.command import register, shipped_configs
from densepred.core.errors import ConfigError


def first_comment(text: str) -> str:
    """The first comment line of a YAML file (without ``#``), its one-line description."""
    for line in text.splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""


def _configs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--paths", action="store_true", help="also print each file's path")


def _configs(args: argparse.Namespace) -> None:
    shipped = shipped_configs()
    width = max(len(name) for name in shipped)
    for name in sorted(shipped):
        line = f"{name:<{width}}  {first_comment(shipped[name].read_text(encoding='utf-8'))}"
        print(line + (f"\n{'':<{width}}  {shipped[name]}" if args.paths else ""))


register(
    "configs",
    "list the shipped configs, usable by name (densepred train depth_mbv3_unet)",
    _configs_arguments,
    _configs,
)


def _keys_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "section",
        nargs="?",
        default="",
        help="only keys under this prefix: model, data, task, trainer, data.augment, ...",
    )
    parser.add_argument("--task", default=None, help="only this task's keys (depth, segmentation, ...)")
    parser.add_argument("--markdown", action="store_true", help="Markdown tables (docs/configuration.md)")


TRAINER_NOTE = (
    "trainer.*: the arguments of lightning.Trainer (checked against its signature at load), "
    "plus logger and callbacks as {class_path, init_args} lists: `densepred keys trainer`."
)


def keys_text(section: str = "", task: str | None = None, markdown: bool = False) -> str:
    """The key tables ``densepred keys`` prints: one per task (and one for ``trainer``)."""
    from densepred.config.keys import task_keys
    from densepred.config.specs import TASK_SPECS

    names = [task] if task else TASK_SPECS.names()
    blocks = []
    for name in names:
        rows = [r for r in task_keys(TASK_SPECS.get(name)) if _under(r.key, section)]
        if rows:
            blocks.append(_table(f"task.name: {name}", rows, markdown))
    if section.startswith("trainer"):  # Lightning's own arguments and texts: asked for by name
        from densepred.app.trainer import trainer_keys

        rows = [r for r in trainer_keys() if _under(r.key, section)]
        blocks.append(_table("trainer (every task; lightning.Trainer arguments)", rows, markdown))
    elif not section:
        blocks.append(TRAINER_NOTE + "\n")
    if not blocks:
        raise ConfigError(f"no config key starts with '{section}'; try model, data, task or trainer.")
    return "\n".join(blocks)


def _under(key: str, section: str) -> bool:
    return not section or key == section or key.startswith(section + ".")


def _table(title: str, rows: list, markdown: bool) -> str:
    if markdown:
        lines = [f"### {title}", "", "| key | type | default | description |", "|---|---|---|---|"]
        lines += [
            f"| `{r.key}` | {r.type} | `{r.default}` | {r.description.replace('|', '/')} |"
            for r in rows
        ]
        return "\n".join(lines) + "\n"
    width = max(len(r.key) for r in rows)
    lines = [title]
    for r in rows:
        lines.append(f"  {r.key:<{width}}  {r.type} = {r.default}")
        if r.description:
            lines.append(f"  {'':<{width}}    {r.description}")
    return "\n".join(lines) + "\n"


def _keys(args: argparse.Namespace) -> None:
    print(keys_text(args.section, args.task, args.markdown), end="")


register(
    "keys",
    "list every config key with its type, default and meaning (from the schemas)",
    _keys_arguments,
    _keys,
)
