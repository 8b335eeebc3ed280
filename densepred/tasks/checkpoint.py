"""Checkpoints that are safe to read and never poisoned: atomic writes, weights-only reads,
finite weights only.

:class:`SafeCheckpointIO` is the Trainer's checkpoint reader and writer, so ``--resume``, the
final best-checkpoint validation, evaluate and predict all read with ``weights_only=True``.
:class:`FiniteModelCheckpoint` refuses to write a checkpoint whose weights or monitored score
are NaN or infinite, keeps ``last.ckpt`` the newest state and writes ``best.ckpt`` weights-only.
:func:`saved_config` is the saved config a model is rebuilt from, never naming a file to load.
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
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities import rank_zero_warn
from lightning.pytorch.utilities.exceptions import SIGTERMException

from densepred.core.errors import ConfigError, DensepredError, WeightsError
from densepred.core.fileio import atomic_write_bytes
from densepred.core.loader_args import refuse_loader_args
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


TIMM_ARGS = {"encoder_args": (), "discriminator_args": ("pretrained",)}
"""``model`` keys passed on to ``timm.create_model`` -> the keys of each densepred handles itself."""


def saved_config(checkpoint: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """The plain config saved in a densepred checkpoint, made safe to rebuild its model from
    (:func:`safe_model_section`).

    Args:
        checkpoint: The checkpoint, as :func:`read_checkpoint` returned it.
        path: The checkpoint file, for messages.

    Raises:
        WeightsError: It is not a densepred checkpoint, or its config names a file to load.
    """
    config = checkpoint.get("hyper_parameters", {}).get("config")
    if not isinstance(config, dict) or "state_dict" not in checkpoint:
        raise WeightsError(
            f"'{path}' is not a densepred checkpoint (no saved config or state_dict)."
        )
    model = config.get("model")
    if not isinstance(model, dict):
        return config
    return {**config, "model": safe_model_section(model, f"checkpoint '{path}'")}


def safe_model_section(model: dict[str, Any], source: str) -> dict[str, Any]:
    """A saved ``model`` section that never makes densepred open another file: the weights come
    with the checkpoint or model folder, so ``pretrained`` (and a backbone discriminator's) is
    set to false, and options that would make timm load a file
    (:func:`~densepred.core.loader_args.refuse_loader_args`) are refused.

    Raises:
        WeightsError: The section sets such an option (naming ``source``).
    """
    model = {**model, "pretrained": False} if "pretrained" in model else dict(model)
    fix = (
        "Loading it would make timm open that file, so it is not loaded. If you trust the file, "
        "delete the key from its saved config's model section and save it again."
    )
    for key, allowed in TIMM_ARGS.items():
        args = model.get(key)
        if not isinstance(args, dict):
            continue
        try:
            refuse_loader_args(args, f"model.{key}", allowed, fix=fix)
        except ConfigError as exc:
            raise WeightsError(f"{source}: {exc}") from None
        if "pretrained" in args:
            model[key] = {**args, "pretrained": False}
    return model


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
    """A ``ModelCheckpoint`` that never writes NaN or infinite weights or scores, keeps
    ``last.ckpt`` the newest state and writes the top-k file (``best.ckpt``) weights-only.

    Lightning writes ``last`` only at a step where it also writes a top-k checkpoint, so an epoch
    that does not improve the monitored score left ``last.ckpt`` behind, and ``--resume``
    retrained (and rewrote the outputs of) the epochs after it. Here ``last.ckpt`` is written at
    the end of every training epoch (after its validation), after a validation Lightning saves
    at, and when training stops: at its end, on Ctrl-C and on SIGTERM. It is a full checkpoint
    (optimizer, loops, callbacks) for ``--resume``; the top-k file holds the weights, the loop
    counters and ``hyper_parameters`` (enough to rebuild the model), without the optimizer state.

    Non-finite weights stop training with :class:`NonFiniteWeightsError`, which names the newest
    finite checkpoint; a non-finite monitored score skips the save with a warning.

    Args:
        *args: ``ModelCheckpoint``'s arguments.
        best_weights_only: Write the top-k file weights-only (``save_weights_only`` applies to
            ``last.ckpt`` never).
        **kwargs: ``ModelCheckpoint``'s keyword arguments.
    """

    def __init__(self, *args: Any, best_weights_only: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.best_weights_only = best_weights_only
        self._last_written_step: int | None = None

    def _save_topk_checkpoint(self, trainer: L.Trainer, monitor_candidates: dict[str, Any]) -> None:
        if not self._may_save(trainer, monitor_candidates):
            return
        self.save_weights_only = self.best_weights_only
        try:
            super()._save_topk_checkpoint(trainer, monitor_candidates)
        finally:
            self.save_weights_only = False

    def _save_last_checkpoint(self, trainer: L.Trainer, monitor_candidates: dict[str, Any]) -> None:
        if self._may_save(trainer, monitor_candidates):
            super()._save_last_checkpoint(trainer, monitor_candidates)
            self._last_written_step = trainer.global_step

    def _save_last_if_behind(self, trainer: L.Trainer) -> None:
        """Write ``last.ckpt`` unless it already holds this step (or nothing may be saved now)."""
        if (
            not self.save_last
            or trainer.fast_dev_run
            or trainer.sanity_checking
            or trainer.state.fn != TrainerFn.FITTING
            or self._last_written_step == trainer.global_step
        ):
            return
        self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        self._save_last_if_behind(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        if not self._should_save_on_train_epoch_end(trainer):  # Lightning saves here, not later
            self._save_last_if_behind(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._save_last_if_behind(trainer)  # e.g. trainer.max_steps reached within an epoch

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        """On Ctrl-C or SIGTERM, keep the state reached in ``last.ckpt`` (finite weights only;
        one process: under DDP the ranks may not all reach the save's barrier)."""
        if not isinstance(exception, KeyboardInterrupt | SIGTERMException):
            return
        if trainer.world_size > 1 or non_finite_tensors(trainer.lightning_module.state_dict()):
            return
        self._save_last_if_behind(trainer)

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
