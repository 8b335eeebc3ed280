"""Checkpoints that are safe to read and never poisoned: atomic writes, weights-only reads,
finite weights only.

:class:`SafeCheckpointIO` is the Trainer's checkpoint reader and writer, so ``--resume``, the
final best-checkpoint validation, evaluate and predict all read with ``weights_only=True``.
:class:`FiniteModelCheckpoint` refuses to write a checkpoint whose weights or monitored score
are NaN or infinite.
"""

from __future__ import annotations

import io
import math
import pickle
import zipfile
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.utilities import rank_zero_warn

from densepred.core.errors import DensepredError, WeightsError
from densepred.core.fileio import atomic_write_bytes
from densepred.encoders.weights import non_finite_tensors, state_dict_differences


class NonFiniteWeightsError(DensepredError, FloatingPointError):
    """The model's weights became NaN or infinite during training."""


def read_checkpoint(path: str | Path, advice: str = "") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` (no arbitrary code from pickles).

    Args:
        path: The checkpoint file.
        advice: What to do instead, appended to the message when the file cannot be read.

    Raises:
        WeightsError: The file is missing, truncated, corrupt or holds non-tensor objects.
    """
    path = Path(path)
    tail = f" {advice}" if advice else ""
    if not path.is_file():
        raise WeightsError(f"checkpoint '{path}' does not exist.{tail}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        lines = [line for line in str(exc).splitlines() if "WeightsUnpickler error:" in line]
        found = lines[0].split("error:", 1)[1] if lines else type(exc).__name__
        first = found.split(". Please")[0].strip()  # not torch's advice to allowlist the object
        raise WeightsError(
            f"checkpoint '{path}' holds objects other than tensors and plain data, so it is not "
            f"loaded (unpickling could run arbitrary code): {first}.{tail}"
        ) from None
    except (zipfile.BadZipFile, EOFError, RuntimeError, ValueError) as exc:
        first = str(exc).split(". ")[0].rstrip(".")  # torch adds a paragraph of guesses
        first = first or ("the file is empty" if path.stat().st_size == 0 else type(exc).__name__)
        raise WeightsError(
            f"checkpoint '{path}' is corrupt or truncated ({first}).{tail}"
        ) from None
    except OSError as exc:
        raise WeightsError(
            f"checkpoint '{path}' could not be read ({exc.strerror or exc}).{tail}"
        ) from None


RESUME_KEYS = ("state_dict", "optimizer_states", "loops", "pytorch-lightning_version")
"""Entries of a checkpoint that Lightning needs to continue training from it."""


def check_resumable(
    checkpoint: dict[str, Any], task: L.LightningModule, path: str | Path, advice: str
) -> None:
    """Refuse a resume point that Lightning could not restore into ``task``.

    Args:
        checkpoint: The checkpoint, as :func:`read_checkpoint` returned it.
        task: The task built from the config of this run.
        path: The checkpoint file, for the message.
        advice: What to do instead of resuming from a file that is not a training checkpoint.

    Raises:
        WeightsError: Entries Lightning needs are missing, or the weights do not fit ``task``
            (the config is not the one the run was started with).
    """
    lacking = [key for key in RESUME_KEYS if key not in checkpoint]
    if lacking:
        raise WeightsError(
            f"checkpoint '{path}' is not a Lightning training checkpoint (it has no "
            f"{', '.join(lacking)}). {advice}"
        )
    view = {**checkpoint, "state_dict": dict(checkpoint["state_dict"])}
    task.on_load_checkpoint(view)  # as Lightning does before loading (distillation adapters)
    expected = {key: tuple(value.shape) for key, value in task.state_dict().items()}
    missing, unexpected, mismatched = state_dict_differences(view["state_dict"], expected)
    problems = [f"{key} is not in the checkpoint" for key in missing]
    problems += [f"{key} is not in the model" for key in unexpected]
    problems += [f"{key} is {saved}, the model's {shape}" for key, saved, shape in mismatched]
    if problems:
        shown = "; ".join(problems[:3]) + (
            f"; ... ({len(problems) - 3} more)" if len(problems) > 3 else ""
        )
        folder = Path(path).parent.parent
        raise WeightsError(
            f"checkpoint '{path}' does not fit the model of this config ({shown}). --resume "
            f"continues a run with the config it was started with: use '{folder / 'config.yaml'}' "
            "(overriding only trainer.* keys), or start over without --resume."
        )


def check_finite_weights(state: dict[str, Any], path: str | Path) -> None:
    """Refuse a checkpoint's ``state_dict`` that holds NaN or infinite weights.

    Raises:
        WeightsError: Naming the file and the first offending tensors.
    """
    bad = non_finite_tensors(state)
    if bad:
        shown = ", ".join(bad[:3]) + (f" ... ({len(bad) - 3} more)" if len(bad) > 3 else "")
        raise WeightsError(
            f"checkpoint '{path}' holds NaN or infinite weights ({shown}); its predictions "
            "would be meaningless. Use an earlier checkpoint of the run, or train again with a "
            "lower task.optimizer.lr."
        )


def newest_finite_checkpoint(folder: Path) -> Path | None:
    """The most recently written ``*.ckpt`` in ``folder`` that loads and has finite weights."""
    for path in sorted(folder.glob("*.ckpt"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            state = read_checkpoint(path).get("state_dict", {})
        except WeightsError:
            continue
        if not non_finite_tensors(state):
            return path
    return None


def kept_checkpoint_note(folder: Path) -> str:
    """One sentence naming the newest finite checkpoint in ``folder``, or saying there is none."""
    good = newest_finite_checkpoint(folder)
    if good is None:
        return f"No checkpoint with finite weights was written in '{folder}'."
    return f"The newest checkpoint with finite weights is '{good}'."


class SafeCheckpointIO(TorchCheckpointIO):
    """Atomic checkpoint writes and ``weights_only=True`` reads with errors naming the file.

    A write goes to a temporary file in the checkpoint's own folder, is flushed and fsynced,
    then replaces the target with ``os.replace``: a full disk or a crash leaves the previous
    checkpoint intact.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any | None = None
    ) -> None:
        """Write ``checkpoint`` to ``path`` atomically (``storage_options`` is not supported)."""
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} does not take storage_options.")
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        atomic_write_bytes(path, buffer.getbuffer())

    def load_checkpoint(
        self, path: str | Path, map_location: Any | None = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        """Read ``path`` with ``weights_only=True`` whatever the caller asks (CPU tensors;
        Lightning moves them to the model's device)."""
        return read_checkpoint(path)


class FiniteModelCheckpoint(ModelCheckpoint):
    """A ``ModelCheckpoint`` that never writes NaN or infinite weights or scores.

    Non-finite weights stop training with :class:`NonFiniteWeightsError`, which names the newest
    finite checkpoint; a non-finite monitored score skips the save with a warning.
    """

    def _save_topk_checkpoint(self, trainer: L.Trainer, monitor_candidates: dict[str, Any]) -> None:
        if self._may_save(trainer, monitor_candidates):
            super()._save_topk_checkpoint(trainer, monitor_candidates)

    def _save_last_checkpoint(self, trainer: L.Trainer, monitor_candidates: dict[str, Any]) -> None:
        if self._may_save(trainer, monitor_candidates):
            super()._save_last_checkpoint(trainer, monitor_candidates)

    def _may_save(self, trainer: L.Trainer, monitor_candidates: dict[str, Any]) -> bool:
        """Raise on non-finite weights; ``False`` (with a warning) for a non-finite score."""
        folder = Path(self.dirpath or trainer.default_root_dir)
        bad = non_finite_tensors(trainer.lightning_module.state_dict())
        if bad:
            raise NonFiniteWeightsError(
                f"the weights became NaN or infinite at epoch {trainer.current_epoch}, step "
                f"{trainer.global_step} ({', '.join(bad[:3])}); training stopped without writing "
                f"a checkpoint. {kept_checkpoint_note(folder)} Lower task.optimizer.lr or use "
                "trainer.gradient_clip_val."
            )
        score = monitor_candidates.get(self.monitor) if self.monitor else None
        if score is None or math.isfinite(float(score)):
            return True
        rank_zero_warn(
            f"{self.monitor} is {float(score)}: no checkpoint is written for this validation; "
            f"the earlier ones in '{folder}' are kept."
        )
        return False
