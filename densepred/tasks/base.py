"""The LightningModule every densepred task derives from.

Tasks follow one order in ``__init__``: build the model, then the losses, then the metrics, which
are cloned per stage (``train/``, ``val/``, ``test/``) the torchgeo way. The whole resolved config
is saved as the only hyper-parameter, so a checkpoint is enough to rebuild its model.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.trainer.states import TrainerFn
from torch import nn
from torchmetrics import MetricCollection

from densepred.config import Config, config_from_dict
from densepred.errors import DensepredError
from densepred.registry import Registry
from densepred.tasks.optim import build_optimizer, build_scheduler
from densepred.viz.depth import save_png

STAGES = ("train", "val", "test")


class NonFiniteLossError(DensepredError, FloatingPointError):
    """The training loss became NaN or infinite."""


def check_losses(losses: dict[str, float], registry: Registry, example: str) -> dict[str, float]:
    """Validate ``task.losses`` (loss name -> weight): at least one loss, every name in ``registry``.

    Args:
        losses: Loss name -> weight.
        registry: The task's loss registry.
        example: A loss name, for the message of an empty mapping.
    """
    if not losses:
        raise ValueError(f"at least one loss is needed, e.g. {{{example}: 1.0}}")
    for name in losses:
        registry.get(name)
    return losses


class BaseTask(L.LightningModule, ABC):
    """Common wiring: config, optimizer and schedule, per-stage metrics, non-finite loss guard.

    Args:
        config: A resolved config as a plain mapping (``Config.to_dict()``).
    """

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.config: Config = config_from_dict(config, source="checkpoint config")
        self.model = self.build_model()
        self.build_losses()
        base = self.build_metrics()
        # keys get a suffix: "train" would clash with nn.Module.train
        self.metrics = nn.ModuleDict({f"{s}_metrics": base.clone(prefix=f"{s}/") for s in STAGES})

    @abstractmethod
    def build_model(self) -> nn.Module:
        """Create the network from ``self.config.model``."""

    @abstractmethod
    def build_losses(self) -> None:
        """Create the loss modules as attributes."""

    @abstractmethod
    def build_metrics(self) -> MetricCollection:
        """The metric collection of one stage (cloned for train/val/test)."""

    @abstractmethod
    def predict_array(self, rgb: np.ndarray) -> Any:
        """Predict for one HxWx3 uint8 RGB image of any size (used by ``tools/predict.py``)."""

    @abstractmethod
    def save_prediction(
        self, prediction: Any, out_dir: Path, stem: str, rgb: np.ndarray
    ) -> list[Path]:
        """Write one prediction's files into ``out_dir`` and return their paths."""

    @property
    def run_dir(self) -> Path:
        """The run folder (the Trainer's ``default_root_dir``)."""
        return Path(self.trainer.default_root_dir)

    def save_sample_grid(self, grid: np.ndarray) -> None:
        """Write a validation sample grid to ``samples/`` and ``predictions.png``.

        ``samples/val_epochNNN.png`` during training; ``samples/val_init.png`` for the
        validation before the first step, which leaves ``predictions.png`` alone.
        """
        initial = self.trainer.state.fn == TrainerFn.VALIDATING and self.global_step == 0
        name = "val_init.png" if initial else f"val_epoch{self.current_epoch:03d}.png"
        save_png(self.run_dir / "samples" / name, grid)
        if not initial:
            save_png(self.run_dir / "predictions.png", grid)

    def sample_grid(self) -> np.ndarray | None:
        """The picture of the validation samples kept this epoch; ``None`` (the default): none."""
        return None

    def on_validation_epoch_end(self) -> None:
        """Log the validation metrics; outside the sanity check the main process saves
        :meth:`sample_grid` with :meth:`save_sample_grid`."""
        self.log_epoch_metrics("val")
        if self.trainer.sanity_checking or not self.trainer.is_global_zero:
            return
        grid = self.sample_grid()
        if grid is not None:
            self.save_sample_grid(grid)

    def on_test_epoch_end(self) -> None:
        self.log_epoch_metrics("test")

    def check_finite(self, loss: torch.Tensor) -> None:
        """Stop training before a non-finite loss can reach the weights or a checkpoint."""
        if not torch.isfinite(loss).all():
            raise NonFiniteLossError(
                f"training loss became {loss.item()} at epoch {self.current_epoch}, step "
                f"{self.global_step}; training stopped before the optimizer step. Lower "
                "task.optimizer.lr, check the data for invalid targets, or use "
                "trainer.gradient_clip_val."
            )

    def stage_metrics(self, stage: str) -> MetricCollection:
        """The metric collection of ``stage`` (train, val or test)."""
        return self.metrics[f"{stage}_metrics"]

    def on_fit_start(self) -> None:
        """Start training with fresh metric states: a ``trainer.validate`` before ``fit`` (the
        initial validation) leaves states made under inference mode, which training cannot update."""
        for collection in self.metrics.values():
            collection.reset()

    def log_epoch_metrics(self, stage: str) -> dict[str, float]:
        """Compute, log and reset the metrics of ``stage``; return them as floats."""
        collection = self.stage_metrics(stage)
        values = {k: v for k, v in collection.compute().items() if v.numel() == 1}
        collection.reset()
        self.log_dict(values, sync_dist=True)
        return {k: float(v) for k, v in values.items() if math.isfinite(float(v))}

    def configure_optimizers(self) -> dict[str, Any]:
        """Optimizer and per-step schedule from ``task.optimizer`` and ``task.scheduler``."""
        task = self.config.task
        optimizer = build_optimizer(self.trainable_parameters(), task.optimizer)
        total = int(self.trainer.estimated_stepping_batches)
        scheduler = build_scheduler(optimizer, max(1, total), task.scheduler)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Parameters given to the optimizer."""
        return [p for p in self.parameters() if p.requires_grad]
