"""Checks before ``--resume`` writes anything: the run's ``last.ckpt`` reads, is a training
checkpoint, fits the model, and was trained with the config given (but for settings that do
not change what is trained)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from densepred.app.config import Config, config_from_dict
from densepred.core.errors import ConfigError
from densepred.tasks import BaseTask
from densepred.tasks.checkpoint import check_resumable, read_checkpoint, saved_config

RESUME_MAY_CHANGE = (
    "trainer.",
    "output_dir",
    "name",
    "data.root",
    "data.num_workers",
    "data.check",
)
"""Config keys (or prefixes ending in ``.``) that a resumed run may set otherwise than the run:
how long and where it trains, where the data lies and how it is read; nothing that changes
the model, the data fed to it or the optimisation."""

SHOWN_CHANGES = 3


def resume_advice(folder: Path) -> str:
    """What to do when ``folder``'s ``last.ckpt`` cannot be resumed from."""
    best = folder / "checkpoints" / "best.ckpt"
    if best.is_file():
        return (
            f"Start over without --resume; '{best}' keeps the best weights so far for evaluate, "
            "predict and export (it holds no optimizer state, so training cannot continue from it)."
        )
    return "Start over without --resume."


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict) or not data:
        return {prefix.rstrip("."): data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(_flat(value, f"{prefix}{key}."))
    return out


def config_changes(saved: Config, config: Config) -> list[str]:
    """How ``config`` differs from the run's ``saved`` config, apart from
    :data:`RESUME_MAY_CHANGE`: one ``key is A in the run, B here`` line per key."""
    before, after = _flat(saved.to_dict()), _flat(config.to_dict())
    missing = object()
    changes = []
    for key in sorted(before.keys() | after.keys()):
        if any(
            key == allowed or (allowed.endswith(".") and key.startswith(allowed))
            for allowed in RESUME_MAY_CHANGE
        ):
            continue
        old, new = before.get(key, missing), after.get(key, missing)
        if old != new:
            shown = ["absent" if v is missing else repr(v) for v in (old, new)]
            changes.append(f"{key} is {shown[0]} in the run, {shown[1]} here")
    return changes


def check_resume(folder: Path, config: Config, task: BaseTask) -> None:
    """Refuse to resume ``folder`` with ``config`` before anything is written.

    Raises:
        WeightsError: ``last.ckpt`` is missing, unreadable, not a training checkpoint, its saved
            config names a file to load, or its weights do not fit ``task``.
        ConfigError: ``config`` differs from the run's in a key outside
            :data:`RESUME_MAY_CHANGE`.
    """
    last = folder / "checkpoints" / "last.ckpt"
    advice = resume_advice(folder)
    checkpoint = read_checkpoint(last, advice=advice)
    check_resumable(checkpoint, task, last, advice)
    saved_config(checkpoint, last)  # refuses options that would load a file
    saved = config_from_dict(
        checkpoint["hyper_parameters"]["config"], source=f"checkpoint '{last}'"
    )
    changes = config_changes(saved, config)
    if changes:
        shown = "; ".join(changes[:SHOWN_CHANGES]) + (
            f"; ... ({len(changes) - SHOWN_CHANGES} more)" if len(changes) > SHOWN_CHANGES else ""
        )
        raise ConfigError(
            f"--resume: this config is not the one the run in '{folder}' was trained with "
            f"({shown}). --resume continues a run with its own config: use "
            f"'{folder / 'config.yaml'}' (changing only trainer.*, data.root, data.num_workers or "
            "data.check), or start over without --resume."
        )
