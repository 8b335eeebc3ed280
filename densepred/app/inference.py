"""Loading checkpoints safely, evaluating them and predicting files with them."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightning as L
import torch
from tqdm import tqdm

from densepred.app.config import config_from_dict
from densepred.app.tasks import TASKS
from densepred.config.loader import apply_overrides
from densepred.config.run import Config
from densepred.core.errors import ConfigError, DataError, DensepredError
from densepred.core.fileio import atomic_write_json, ensure_folder, output_errors
from densepred.data.layout import IMAGE_EXTS
from densepred.tasks import BaseTask
from densepred.tasks.checkpoint import check_finite_weights, read_checkpoint


def load_task(path: str | Path, device: str | torch.device = "cpu") -> BaseTask:
    """Rebuild the task saved in a densepred checkpoint and load its weights (eval mode).

    Raises:
        WeightsError: The file cannot be read safely, or its weights hold NaN or infinity.
    """
    ckpt = read_checkpoint(path)
    config = ckpt.get("hyper_parameters", {}).get("config")
    if not isinstance(config, dict) or "state_dict" not in ckpt:
        raise DensepredError(
            f"'{path}' is not a densepred checkpoint (no saved config or state_dict)."
        )
    check_finite_weights(ckpt["state_dict"], path)
    task = TASKS.get(config["task"]["name"])(config)
    task.load_state_dict(ckpt["state_dict"])
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
) -> dict[str, float]:
    """Evaluate a checkpoint on the data of ``config``; save the metrics as JSON and, for tasks
    that draw validation samples, their picture beside it (``out`` with ``.png``).

    The model and task settings come from the checkpoint; the data from ``config``. The test
    split is used when ``data.test_split`` is set, the validation split otherwise; only that
    split is read, and its files are checked before work starts (``data.check``, and the task's
    :meth:`~densepred.tasks.base.BaseTask.check_data`).

    Args:
        config: Config whose ``data`` section selects the evaluation data.
        ckpt_path: A checkpoint written by ``densepred train``.
        out: JSON file for the metrics (default: ``<checkpoint>.eval.json`` beside it).
        task: The checkpoint's task, if it is loaded already.
    """
    out = Path(out) if out else Path(ckpt_path).with_suffix(".eval.json")
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


def expand_images(inputs: Iterable[str | Path]) -> list[Path]:
    """Image files from a mix of files and folders (folders give their images, sorted); a file
    named twice is kept once."""
    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_EXTS)
        elif item.is_file():
            files.append(item)
        else:
            raise DensepredError(f"input '{item}' is neither an image file nor a folder.")
    if not files:
        raise DensepredError("no input images found; pass image files or folders holding images.")
    return list({p.resolve(): p for p in files}.values())


def output_stems(files: list[Path]) -> list[str]:
    """A distinct output name per input file: its stem, or where stems clash (``A/x.png``,
    ``A/x.jpg``, ``B/x.png``) its folders and extension too (``A_x_png``, ``A_x_jpg``, ``B_x_png``).
    """
    counts = Counter(p.stem for p in files)
    resolved = [p.resolve() for p in files]
    root = Path(os.path.commonpath([p.parent for p in resolved]))
    stems = [
        p.stem
        if counts[p.stem] == 1
        else "_".join([*full.parent.relative_to(root).parts, p.stem, p.suffix.lstrip(".")])
        for p, full in zip(files, resolved, strict=True)
    ]
    taken: set[str] = set()
    for i, stem in enumerate(stems):  # what is left: e.g. an input named A_x_png.png
        name, n = stem, 1
        while name in taken:
            n += 1
            name = f"{stem}_{n}"
        taken.add(name)
        stems[i] = name
    return stems


def predict_files(
    ckpt_path: str | Path,
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    device: str = "cpu",
    on_bad: Callable[[Path, DataError], None] | None = None,
) -> list[Path]:
    """Run a checkpoint on images of any size and write the task's output files.

    Inputs with the same stem get distinct output names (:func:`output_stems`).

    Args:
        ckpt_path: Checkpoint written by ``densepred train``.
        inputs: Image files and/or folders.
        out_dir: Output folder.
        device: Torch device.
        on_bad: Called with the file and the error for each input that cannot be read, which
            is then skipped; ``None`` (default): such a file stops the run with a ``DataError``.

    Returns:
        The distinct files written, each once.
    """
    task = load_task(ckpt_path, device)
    files = expand_images(inputs)
    out_dir = ensure_folder(out_dir)
    written: dict[Path, None] = {}
    with output_errors(out_dir):
        for path, stem in tqdm(
            zip(files, output_stems(files), strict=True),
            total=len(files),
            desc="predict",
            unit="img",
        ):
            try:
                rgb = task.read_input(path)
            except DataError as exc:
                if on_bad is None:
                    raise DataError(
                        f"{exc} (densepred predict --skip-bad skips such files)"
                    ) from None
                on_bad(path, exc)
                continue
            written.update(
                dict.fromkeys(task.save_prediction(task.predict_array(rgb), out_dir, stem, rgb))
            )
    return list(written)


def generate_files(
    ckpt_path: str | Path, num: int, out_dir: str | Path, device: str = "cpu", seed: int = 0
) -> list[Path]:
    """Generate ``num`` outputs from noise with a checkpoint that needs no input (unconditional GAN).

    Args:
        ckpt_path: Checkpoint written by ``densepred train``.
        num: Number of outputs.
        out_dir: Output folder.
        device: Torch device.
        seed: Seed of the noise.
    """
    task = load_task(ckpt_path, device)
    if not task.generates_from_noise:
        raise DensepredError(
            f"checkpoint '{ckpt_path}' is a {task.config.task_name} model, which predicts from input "
            "images; pass image files or folders instead of --num."
        )
    out_dir = ensure_folder(out_dir)
    written: list[Path] = []
    with output_errors(out_dir):
        for i, sample in enumerate(task.sample_arrays(num, seed)):
            written += task.save_prediction(sample, out_dir, f"sample_{i:05d}")
    return written
