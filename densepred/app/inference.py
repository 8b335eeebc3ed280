"""Loading checkpoints (full or weights-only) and model folders as tasks, and evaluating them.

Predicting files lives in :mod:`densepred.app.predict`."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightning as L
import torch

from densepred.app.config import config_from_dict
from densepred.app.tasks import TASKS
from densepred.config.loader import apply_overrides
from densepred.config.run import Config
from densepred.core.errors import ConfigError
from densepred.core.fileio import atomic_write_json, check_output, ensure_folder, output_errors
from densepred.portable.model import from_pretrained
from densepred.portable.spec import CONFIG_FILE, ModelFolderError, is_model_folder, read_spec
from densepred.tasks import BaseTask
from densepred.tasks.checkpoint import (
    check_finite_weights,
    read_checkpoint,
    safe_model_section,
    saved_config,
)


def load_task(path: str | Path, device: str | torch.device = "cpu") -> BaseTask:
    """Rebuild the task of a densepred checkpoint (a full Lightning checkpoint or a weights-only
    one: both hold ``state_dict`` and ``hyper_parameters``) or of a model folder, in eval mode.

    The saved config never makes densepred open another file
    (:func:`~densepred.tasks.checkpoint.saved_config`).

    Raises:
        WeightsError: The file cannot be read safely, is not a densepred checkpoint, its config
            names a file to load, or its weights hold NaN or infinity.
        ModelFolderError: A model folder with a missing or invalid file.
    """
    if is_model_folder(path):
        return folder_task(path, device)
    ckpt = read_checkpoint(path)
    config = saved_config(ckpt, path)
    check_finite_weights(ckpt["state_dict"], path)
    task = TASKS.get(config["task"]["name"])(config)
    task.load_state_dict(ckpt["state_dict"])
    return task.eval().to(device)


def folder_task(folder: str | Path, device: str | torch.device = "cpu") -> BaseTask:
    """The task of a model folder: built from the training config the folder records, its
    network replaced by the folder's model (same outputs; for an smp folder, smp's own form).

    Raises:
        ModelFolderError: The folder records no training config, or holds a GAN generator
            (a GAN task needs its discriminator, which folders do not keep).
    """
    spec, _ = read_spec(folder)
    config = spec.training.get("config")
    if not isinstance(config, dict):
        raise ModelFolderError(
            f"'{Path(folder) / CONFIG_FILE}' records no training config (training.config), which "
            "evaluate and export need to rebuild the task; save the folder from its checkpoint."
        )
    if spec.task == "gan":
        raise ModelFolderError(
            f"model folder '{folder}' holds a GAN generator only; evaluate and export need the "
            "whole GAN: use its checkpoint (predict works with the folder)."
        )
    config = copy.deepcopy(config)
    config["model"] = safe_model_section(config["model"], f"model folder '{folder}'")
    task = TASKS.get(spec.task)(config)
    task.model = from_pretrained(folder)
    return task.eval().to(device)


def evaluation_config(config: Config, task: BaseTask) -> Config:
    """``config`` with the checkpoint's ``data.normalize`` (the images are normalised as in
    training, whatever the evaluation config's encoder would give)."""
    if "normalize" not in type(config.data).model_fields:
        return config
    normalize = task.config.data.normalize
    return replace(config, data=config.data.model_copy(update={"normalize": normalize}))


def checkpoint_config(
    task: BaseTask, overrides: Sequence[str] = (), data: dict[str, Any] | None = None
) -> Config:
    """The checkpoint's own config with another ``data`` section (e.g. a config file's) and
    ``overrides`` applied; the images stay normalised as in training.

    Args:
        task: The checkpoint's task.
        overrides: Dotted ``key=value`` overrides (callers allow only what they use).
        data: A plain ``data`` section to use instead of the checkpoint's.
    """
    raw = task.config.to_dict()
    if data is not None:
        raw["data"] = {**data, **{k: v for k, v in raw["data"].items() if k == "normalize"}}
    return evaluation_config(
        config_from_dict(apply_overrides(raw, overrides), source="checkpoint config"), task
    )


def evaluate_checkpoint(
    config: Config,
    ckpt_path: str | Path,
    out: str | Path | None = None,
    task: BaseTask | None = None,
    config_path: str | Path | None = None,
) -> dict[str, float]:
    """Evaluate a checkpoint on the data of ``config``; save the metrics as JSON and, for tasks
    that draw validation samples, their picture beside it (``out`` with ``.png``).

    The model and task settings come from the checkpoint; the data from ``config``. The test
    split is used when ``data.test_split`` is set, the validation split otherwise; only that
    split is read, and its files are checked before work starts (``data.check``, and the task's
    :meth:`~densepred.tasks.base.BaseTask.check_data`).

    Args:
        config: Config whose ``data`` section selects the evaluation data.
        ckpt_path: A checkpoint written by ``densepred train`` (``best.ckpt`` or ``last.ckpt``)
            or a model folder.
        out: JSON file for the metrics (default: ``<checkpoint>.eval.json`` beside it); a name
            without an extension gets ``.json``. It must not be the checkpoint or the config.
        task: The checkpoint's task, if it is loaded already.
        config_path: The config file, which ``out`` must not replace.

    Raises:
        OutputError: ``out`` (or its ``.png``) is the checkpoint or the config, an existing
            folder, or not a ``.json`` file; checked before any work.
    """
    out = check_output(
        out or Path(ckpt_path).with_suffix(".eval.json"),
        {"checkpoint": ckpt_path, "config": config_path},
        suffix=".json",
        companions=[lambda path: path.with_suffix(".png")],
    )
    ensure_folder(out.parent)
    task = task or load_task(ckpt_path)
    if task.config.task_name != config.task_name:
        raise ConfigError(
            f"checkpoint '{ckpt_path}' is a {task.config.task_name} model but the config's task.name "
            f"is {config.task_name}."
        )
    datamodule = TASKS.get(config.task_name).build_datamodule(evaluation_config(config, task))
    roles = ("test",) if config.data.test_split else ("val",)
    datamodule.preflight(roles)  # only the evaluated split's files (data.check)
    task.check_data(datamodule, roles)
    trainer_args = {
        k: v for k, v in config.trainer.items() if k in ("accelerator", "devices", "precision")
    }
    task.sample_grid_file = out.with_suffix(".png")
    trainer = L.Trainer(
        logger=False,
        enable_checkpointing=False,
        default_root_dir=Path(ckpt_path).parent,
        **trainer_args,
    )
    if roles == ("test",):
        results = trainer.test(task, datamodule=datamodule, verbose=False)
    else:
        results = trainer.validate(task, datamodule=datamodule, verbose=False)
    metrics = {k: float(v) for k, v in (results[0] if results else {}).items()}
    with output_errors(out.parent):
        atomic_write_json(out, {"checkpoint": str(ckpt_path), "metrics": metrics})
    return metrics
