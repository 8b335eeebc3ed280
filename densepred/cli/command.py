"""The pieces every ``densepred`` subcommand shares: its registration, ``key=value`` overrides
anywhere on the command line, config names, logging and the metrics table.

A subcommand is a :class:`Command` in :data:`COMMANDS`: its name, one help line, a function that
adds its arguments and one that runs it. Argument parsing imports nothing heavy, so ``--help``
and usage errors answer at once; ``run`` imports the work.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from densepred.core.errors import ConfigError, unknown_name_message
from densepred.core.registry import Registry

OVERRIDE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*=")
"""An argument of the form ``key.subkey=value`` is a config override, wherever it stands."""

KEYS_HELP = (
    "Config keys: `densepred keys [SECTION]` lists every key with its type, default and "
    "meaning (also docs/configuration.md). Overrides are key=value (dotted keys, YAML values: "
    "'data.image_size=[64, 80]'), before or after the options."
)


@dataclass(frozen=True)
class Command:
    """One ``densepred`` subcommand.

    Attributes:
        name: The subcommand, e.g. ``train``.
        help: One line for ``densepred --help``.
        add_arguments: Adds the subcommand's arguments to its parser.
        run: Does the work; returns an exit code (``None``: 0).
        overrides: The override keys it takes: ``()`` none, ``("",)`` any, else the allowed key
            prefixes (e.g. ``("data.",)``); any other override is refused before work starts.
        refusal: What the command's overrides can change, said when one is refused.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int | None]
    overrides: tuple[str, ...] = ()
    refusal: str = ""


COMMANDS: Registry[Command] = Registry("subcommand")


def register(
    name: str,
    help: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int | None],
    overrides: tuple[str, ...] = (),
    refusal: str = "",
) -> Command:
    """Add a subcommand to :data:`COMMANDS`."""
    return COMMANDS.add(name, Command(name, help, add_arguments, run, overrides, refusal))


def split_overrides(
    argv: Sequence[str], values: dict[str, int] | None = None
) -> tuple[list[str], list[str]]:
    """``(overrides, other arguments)``: every ``key=value`` argument is an override, but for the
    value(s) of an option that takes a fixed number of them (``values``: option -> count, e.g.
    ``{"--out": 1}``), which are kept as they are (``--out a=b`` names a file)."""
    overrides, rest, protected = [], [], 0
    for arg in argv:
        if protected:
            rest.append(arg)
            protected -= 1
        elif OVERRIDE.match(arg):
            overrides.append(arg)
        else:
            rest.append(arg)
            protected = (values or {}).get(arg, 0)  # "--out=x" has its value inline: 0
    return overrides, rest


def option_values(parser: argparse.ArgumentParser) -> dict[str, int]:
    """Option string -> the fixed number of values it takes (options with ``nargs`` None or an
    int), for :func:`split_overrides`."""
    counts: dict[str, int] = {}
    for action in parser._actions:
        if action.option_strings and (action.nargs is None or isinstance(action.nargs, int)):
            counts.update(dict.fromkeys(action.option_strings, 1 if action.nargs is None else action.nargs))
    return counts


def check_overrides(cmd: Command, overrides: Sequence[str]) -> None:
    """Refuse overrides the command would ignore, naming the key and what it can change."""
    for text in overrides:
        key = text.split("=", 1)[0]
        if any(key.startswith(prefix) or key == prefix.rstrip(".") for prefix in cmd.overrides):
            continue
        if not cmd.overrides:
            raise ConfigError(f"densepred {cmd.name} takes no config overrides, got '{text}'.")
        raise ConfigError(f"densepred {cmd.name} cannot use '{text}': {cmd.refusal}")


def shipped_configs() -> dict[str, Path]:
    """The configs that ship with densepred: name -> file."""
    folder = files("densepred") / "configs"
    return {p.name.removesuffix(".yaml"): Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml")}


def config_path(text: str) -> Path:
    """A config given as a path, or by the name of a shipped config (``depth_mbv3_unet``)."""
    path = Path(text)
    if path.is_file():
        return path
    shipped = shipped_configs()
    name = path.name.removesuffix(".yaml")
    if name in shipped and (len(path.parts) == 1 or not path.parent.exists()):
        return shipped[name]
    if path.exists():
        raise ConfigError(f"config '{text}' is a folder, not a YAML file.")
    raise ConfigError(
        f"config '{text}' is neither a file nor a shipped config. "
        + unknown_name_message("config", name, shipped)
        + " (`densepred configs` lists them.)"
    )


class StderrHandler(logging.StreamHandler):
    """Writes to the current ``sys.stderr`` (not the one of the moment it was made), so
    redirections made later (tests, notebooks) see the messages."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # StreamHandler.__init__ assigns it
        pass


class RankZeroFilter(logging.Filter):
    """Lets records through only on the process of global rank 0 (all of them without DDP)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for var in ("RANK", "SLURM_PROCID", "LOCAL_RANK"):
            if os.environ.get(var) not in (None, "", "0"):
                return False
        return True


def setup_logging(verbosity: int) -> None:
    """densepred's log messages on stderr, as plain lines; ``-q`` warnings only, ``-v`` debug."""
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    logger = logging.getLogger("densepred")
    logger.setLevel(level)
    if not any(getattr(h, "densepred_cli", False) for h in logger.handlers):
        handler = StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.addFilter(RankZeroFilter())
        handler.densepred_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = False


def print_metrics(metrics: dict[str, float], initial: dict[str, float] | None = None) -> None:
    """Print metrics as a Markdown table; with ``initial``, a column of the values before training."""
    width = max([len("metric"), *(len(k) for k in metrics)])
    columns = ["initial", "value"] if initial else ["value"]
    print(f"| {'metric':<{width}} |" + "".join(f" {c:>10} |" for c in columns))
    print(f"|{'-' * (width + 2)}|" + f"{'-' * 12}|" * len(columns))
    for key in sorted(metrics):
        values = [initial.get(key), metrics[key]] if initial else [metrics[key]]
        cells = "".join(f" {'':>10} |" if v is None else f" {v:>10.4f} |" for v in values)
        print(f"| {key:<{width}} |{cells}")
