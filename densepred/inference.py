"""Loading checkpoints safely, evaluating them and predicting files with them."""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import lightning as L
import torch
from tqdm import tqdm

from densepred.config import Config
from densepred.data.io import read_image
from densepred.data.layout import IMAGE_EXTS
from densepred.errors import ConfigError, DensepredError
from densepred.fileio import atomic_write_json
from densepred.task_registry import TASKS
from densepred.tasks import BaseTask


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a Lightning checkpoint with ``weights_only=True`` (no arbitrary code from pickles)."""
    path = Path(path)
    if not path.is_file():
        raise DensepredError(f"checkpoint '{path}' does not exist.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise DensepredError(
            f"checkpoint '{path}' holds objects other than tensors and plain data, so it is not "
            f"loaded (unpickling could run arbitrary code). Details: {exc}"
        ) from None
    except (RuntimeError, EOFError) as exc:
        raise DensepredError(f"checkpoint '{path}' is corrupt or truncated: {exc}") from None


def load_task(path: str | Path, device: str | torch.device = "cpu") -> BaseTask:
    """Rebuild the task saved in a densepred checkpoint and load its weights (eval mode)."""
    ckpt = read_checkpoint(path)
    config = ckpt.get("hyper_parameters", {}).get("config")
    if not isinstance(config, dict) or "state_dict" not in ckpt:
        raise DensepredError(f"'{path}' is not a densepred checkpoint (no saved config or state_dict).")
    task = TASKS.get(config["task"]["name"])(config)
    task.load_state_dict(ckpt["state_dict"])
    return task.eval().to(device)


def evaluate_checkpoint(config: Config, ckpt_path: str | Path, out: str | Path | None = None) -> dict[str, float]:
    """Evaluate a checkpoint on the data of ``config`` and save the metrics as JSON.

    The model and task settings come from the checkpoint; the data from ``config``. The test
    split is used when ``data.test_split`` is set, the validation split otherwise.

    Args:
        config: Config whose ``data`` section selects the evaluation data.
        ckpt_path: A checkpoint written by ``tools/train.py``.
        out: JSON file for the metrics (default: ``<checkpoint>.eval.json`` beside it).
    """
    task = load_task(ckpt_path)
    if task.config.task_name != config.task_name:
        raise ConfigError(
            f"checkpoint '{ckpt_path}' is a {task.config.task_name} model but the config's task.name "
            f"is {config.task_name}."
        )
    datamodule = TASKS.get(config.task_name).build_datamodule(config)
    trainer_args = {k: v for k, v in config.trainer.items() if k in ("accelerator", "devices", "precision")}
    trainer = L.Trainer(logger=False, enable_checkpointing=False, default_root_dir=Path(ckpt_path).parent, **trainer_args)
    if getattr(config.data, "test_split", None):
        results = trainer.test(task, datamodule=datamodule, verbose=False)
    else:
        results = trainer.validate(task, datamodule=datamodule, verbose=False)
    metrics = {k: float(v) for k, v in (results[0] if results else {}).items()}
    out = Path(out) if out else Path(ckpt_path).with_suffix(".eval.json")
    atomic_write_json(out, {"checkpoint": str(ckpt_path), "metrics": metrics})
    return metrics


def expand_images(inputs: Iterable[str | Path]) -> list[Path]:
    """Image files from a mix of files and folders (folders give their images, sorted)."""
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
    return files


def predict_files(
    ckpt_path: str | Path, inputs: Iterable[str | Path], out_dir: str | Path, device: str = "cpu"
) -> list[Path]:
    """Run a checkpoint on images of any size and write the task's output files.

    Args:
        ckpt_path: Checkpoint written by ``tools/train.py``.
        inputs: Image files and/or folders.
        out_dir: Output folder.
        device: Torch device.
    """
    task = load_task(ckpt_path, device)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    read = getattr(task, "read_input", read_image)  # tasks whose inputs are not RGB read their own
    for path in tqdm(expand_images(inputs), desc="predict", unit="img"):
        rgb = read(path)
        written += task.save_prediction(task.predict_array(rgb), out_dir, path.stem, rgb)
    return written


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
    task = load_task(ckpt_path, device)
    if not hasattr(task, "sample_arrays"):
        raise DensepredError(
            f"checkpoint '{ckpt_path}' is a {task.config.task_name} model, which predicts from input "
            "images; pass image files or folders instead of --num."
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for i, sample in enumerate(task.sample_arrays(num, seed)):
        written += task.save_prediction(sample, out_dir, f"sample_{i:05d}")
    return written
