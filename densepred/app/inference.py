"""Loading checkpoints safely, evaluating them and predicting files with them."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import lightning as L
import torch
from tqdm import tqdm

from densepred.app.config import Config
from densepred.app.pixel_budget import DEFAULT_MAX_PIXELS, check_pixel_budget
from densepred.app.tasks import TASKS
from densepred.core.errors import ConfigError, DataError, DensepredError
from densepred.core.fileio import atomic_write_json, check_output, ensure_folder, output_errors
from densepred.data.io import read_image
from densepred.data.layout import IMAGE_EXTS
from densepred.tasks import BaseTask
from densepred.tasks.checkpoint import check_finite_weights, checkpoint_config, read_checkpoint


def load_task(path: str | Path, device: str | torch.device = "cpu") -> BaseTask:
    """Rebuild the task saved in a densepred checkpoint and load its weights (eval mode).

    A full checkpoint (``last.ckpt``) and a weights-only one (``best.ckpt``) both work; the
    saved config never makes densepred open another file
    (:func:`~densepred.tasks.checkpoint.checkpoint_config`).

    Raises:
        WeightsError: The file cannot be read safely, is not a densepred checkpoint, its config
            names a file to load, or its weights hold NaN or infinity.
    """
    ckpt = read_checkpoint(path)
    config = checkpoint_config(ckpt, path)
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


def evaluate_checkpoint(
    config: Config,
    ckpt_path: str | Path,
    out: str | Path | None = None,
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
        ckpt_path: A checkpoint written by ``tools/train.py`` (``best.ckpt`` or ``last.ckpt``).
        out: JSON file for the metrics (default: ``<checkpoint>.eval.json`` beside it); a name
            without an extension gets ``.json``. It must not be the checkpoint or the config.
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
    task = load_task(ckpt_path)
    if task.config.task_name != config.task_name:
        raise ConfigError(
            f"checkpoint '{ckpt_path}' is a {task.config.task_name} model but the config's task.name "
            f"is {config.task_name}."
        )
    datamodule = TASKS.get(config.task_name).build_datamodule(evaluation_config(config, task))
    roles = ("test",) if getattr(config.data, "test_split", None) else ("val",)
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
    max_pixels: int | None = None,
) -> list[Path]:
    """Run a checkpoint on images of any size and write the task's output files.

    Inputs with the same stem get distinct output names (:func:`output_stems`). Before the
    checkpoint is loaded or ``out_dir`` created, ``out_dir`` is checked not to be the checkpoint
    or an input, and every input's size against ``max_pixels``.

    Args:
        ckpt_path: Checkpoint written by ``tools/train.py`` (``best.ckpt`` or ``last.ckpt``).
        inputs: Image files and/or folders.
        out_dir: Output folder.
        device: Torch device.
        on_bad: Called with the file and the error for each input that cannot be read, which
            is then skipped; ``None`` (default): such a file stops the run with a ``DataError``.
        max_pixels: Largest input (H x W) predicted; ``None``: :data:`DEFAULT_MAX_PIXELS`.

    Returns:
        The distinct files written, each once.
    """
    inputs = list(inputs)
    files = expand_images(inputs)
    check_output(out_dir, {"checkpoint": ckpt_path, "input": [*inputs, *files]}, folder=True)
    check_pixel_budget(files, DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels)
    task = load_task(ckpt_path, device)
    out_dir = ensure_folder(out_dir)
    written: dict[Path, None] = {}
    read = getattr(task, "read_input", read_image)  # tasks whose inputs are not RGB read their own
    with output_errors(out_dir):
        for path, stem in tqdm(
            zip(files, output_stems(files), strict=True),
            total=len(files),
            desc="predict",
            unit="img",
        ):
            try:
                rgb = read(path)
            except DataError as exc:
                if on_bad is None:
                    raise DataError(
                        f"{exc} (tools/predict.py --skip-bad skips such files)"
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
        ckpt_path: Checkpoint written by ``tools/train.py``.
        num: Number of outputs.
        out_dir: Output folder.
        device: Torch device.
        seed: Seed of the noise.
    """
    check_output(out_dir, {"checkpoint": ckpt_path}, folder=True)
    task = load_task(ckpt_path, device)
    if not hasattr(task, "sample_arrays"):
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
