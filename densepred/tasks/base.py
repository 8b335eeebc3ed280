"""The LightningModule every densepred task derives from.

Tasks follow one order in ``__init__``: build the model, then the losses, then the metrics, which
are cloned per stage (``train/``, ``val/``, ``test/``) the torchgeo way. A task class is one object
that knows everything about its task: its config sections (``spec``, a
:class:`~densepred.config.specs.TaskSpec`), its data module, the rules that join sections
(:meth:`BaseTask.check_config`), the batch key of its ground truth (``target_key``: export and
the overhead tool use it), its constant-prediction baseline (:meth:`BaseTask.baseline`) and the
plain PyTorch training step it is compared with (:meth:`BaseTask.plain_training_step`). The task
receives the validated :class:`~densepred.config.run.Config`; the resolved config is saved as
plain data as the only hyper-parameter, so a checkpoint is enough to rebuild its model.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Generic

import lightning as L
import numpy as np
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.trainer.states import TrainerFn
from torch import nn
from torchmetrics import MetricCollection

from densepred.config.loader import parse_config
from densepred.config.run import Config, D, M, T
from densepred.config.specs import TaskSpec
from densepred.config.task import SampledTaskConfig
from densepred.core.errors import ConfigError, DensepredError
from densepred.data.base import BaseDataModule
from densepred.models.execution import apply_memory_format, compile_for_training
from densepred.models.recipe import Recipe
from densepred.portable.processing import postprocess, preprocess
from densepred.portable.spec import InputSpec, OutputSpec
from densepred.tasks.distill import without_distillation
from densepred.tasks.finetune import (
    encoder_modules,
    encoder_parameters,
    keep_norms_frozen,
    require_encoder,
    set_encoder_trainable,
)
from densepred.tasks.normalization import fill_normalization, legacy_normalization
from densepred.tasks.optim import build_optimizer, build_scheduler, optimizer_step
from densepred.tasks.references import ComponentReferences
from densepred.tasks.samples import SpreadSamples
from densepred.viz.depth import save_png

logger = logging.getLogger(__name__)

STAGES = ("train", "val", "test")


class NonFiniteLossError(DensepredError, FloatingPointError):
    """The training loss became NaN or infinite."""


class BaseTask(L.LightningModule, ABC, Generic[M, D, T]):
    """Common wiring: config, optimizer and schedule, per-stage metrics, non-finite loss guard.

    Subclasses set the class attributes below; :data:`densepred.app.tasks.TASKS` maps
    ``task.name`` to the class.

    Args:
        config: The validated config, or its plain form (``Config.to_dict()``) as saved in a
            checkpoint's hyper-parameters, which is validated again only in that case.
    """

    spec: ClassVar[TaskSpec]
    """The task's config sections (its entry of :data:`densepred.config.specs.TASK_SPECS`)."""
    datamodule_cls: ClassVar[type[BaseDataModule]]
    """The data module, constructed as ``datamodule_cls(config.data)``."""
    target_key: ClassVar[str | None] = None
    """Batch key of the ground truth the network's output predicts (``depth``, ``mask``,
    ``label``); ``None`` when the output is not such a prediction (GAN mode): such a task has no
    export parity check and no default :meth:`plain_training_step`."""
    mai_export: ClassVar[bool] = False
    """Whether the network can be wrapped in the MAI depth challenge's contract (raw RGB in,
    depth in millimetres out, resizing inside the graph)."""
    ddp_unused_parameters: ClassVar[bool] = False
    """Some parameters get no gradient in a step (e.g. the generator in a discriminator step):
    ``trainer.strategy: ddp`` then runs DDP with ``find_unused_parameters=True``."""

    def __init__(self, config: Config[M, D, T] | dict[str, Any]) -> None:
        super().__init__()
        if not isinstance(config, Config):  # a checkpoint's hyper-parameters: no teacher needed
            has_key = "normalize" in self.spec.data.model_fields
            config = self.config_from_dict(
                legacy_normalization(without_distillation(config), has_key),
                source="checkpoint config",
            )
        self.save_hyperparameters({"config": config.to_dict()})
        self.config: Config[M, D, T] = config
        self.model = self.build_model()
        apply_memory_format(self.model, config.model)
        self.encoder_frozen = False
        self.sample_grid_file: Path | None = None
        """Where :meth:`save_sample_grid` writes instead of the run folder (set by evaluation)."""
        if config.model.freeze_encoder:
            self.set_encoder_frozen(True)
        self.build_losses()
        base = self.build_metrics()
        # keys get a suffix: "train" would clash with nn.Module.train
        self.metrics = nn.ModuleDict({f"{s}_metrics": base.clone(prefix=f"{s}/") for s in STAGES})

    @classmethod
    def config_from_dict(cls, raw: dict[str, Any], source: str) -> Config[M, D, T]:
        """Validate a plain config of this task: keys, types, every name and ``*_args`` against
        the registries (:class:`~densepred.tasks.references.ComponentReferences`), the encoder's
        normalisation where ``data.normalize`` is unset, and the rules that join sections.

        Args:
            raw: Plain config mapping (``task.name`` names this task).
            source: Where the config came from (file name), used in error messages.
        """
        config = parse_config(raw, source, ComponentReferences())
        if config.task_name != cls.spec.name:
            raise ConfigError(
                f"{source}: task.name is {config.task_name}, not {cls.spec.name} "
                f"({cls.__name__})."
            )
        fill_normalization(config)
        try:
            cls.check_config(config)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        return config

    @classmethod
    def prepared_datamodule(cls, config: Config[M, D, T], stage: str) -> BaseDataModule:
        """The data module of ``config``, prepared and set up for ``stage`` (``validate``, ``test``)."""
        datamodule = cls.build_datamodule(config)
        datamodule.prepare_data()
        datamodule.setup(stage)
        return datamodule

    @classmethod
    def baseline(cls, config: Config[M, D, T]) -> dict[str, float]:
        """Metrics of the task's constant prediction on the evaluated split (see each task);
        ``ConfigError`` for tasks without one."""
        raise ConfigError(
            f"the {cls.spec.name} task has no constant-prediction baseline; baselines exist for "
            "depth, segmentation and classification configs."
        )

    def plain_training_step(self, batch: dict[str, Any], optimizers: list[torch.optim.Optimizer]) -> None:
        """One training step the way a plain PyTorch loop writes it (no Lightning, no logging):
        the reference of the framework-overhead measurement (:mod:`densepred.app.overhead`).

        The default suits a task with one network, one loss on ``batch[target_key]`` and one
        optimizer; other tasks override it.
        """
        if self.target_key is None:
            raise ConfigError(f"the {self.spec.name} task defines no plain training step.")
        loss = self.loss(self.model(batch["image"]), batch[self.target_key])
        optimizer_step(loss[0] if isinstance(loss, tuple) else loss, optimizers[0])

    @classmethod
    def check_config(cls, config: Config[M, D, T]) -> None:
        """Rules across sections (e.g. head vs classes); raise ``ConfigError`` naming the key.

        The default has none; subclasses extend it.
        """

    def encoder_modules(self) -> list[nn.Module]:
        """The modules of the model's encoder (:func:`densepred.tasks.finetune.encoder_modules`)."""
        return encoder_modules(self.model)

    def set_encoder_frozen(self, frozen: bool) -> None:
        """Freeze the encoder (no gradients, normalisation layers in eval mode) or unfreeze it."""
        set_encoder_trainable(require_encoder(self.model, "model.freeze_encoder"), not frozen)
        self.encoder_frozen = frozen
        if not frozen and self.training:
            self.train()

    def train(self, mode: bool = True) -> BaseTask:
        """``nn.Module.train``, keeping a frozen encoder's normalisation layers in eval mode."""
        super().train(mode)
        if self.encoder_frozen:
            for module in self.encoder_modules():
                keep_norms_frozen(module)
        return self

    def on_train_epoch_start(self) -> None:
        """Unfreeze a frozen encoder at ``model.unfreeze_at_epoch`` (gradual unfreezing)."""
        epoch = self.config.model.unfreeze_at_epoch
        if self.encoder_frozen and epoch is not None and self.current_epoch >= epoch:
            self.set_encoder_frozen(False)
            logger.info(f"epoch {self.current_epoch}: encoder unfrozen (model.unfreeze_at_epoch={epoch})")

    @classmethod
    def build_datamodule(cls, config: Config[M, D, T]) -> BaseDataModule:
        """The data module of ``config`` (its ``data`` section)."""
        return cls.datamodule_cls(config.data)

    def check_data(self, datamodule: BaseDataModule, roles: tuple[str, ...]) -> None:
        """Task-specific checks of the data before work starts (after the data module's
        ``preflight``); raise ``DataError`` naming the split and the settings to check.

        The default has none; e.g. depth fails on a split without a valid depth pixel.

        Args:
            datamodule: The data module of this task's config.
            roles: Split roles the work reads (``train``, ``val``, ``test``).
        """

    @abstractmethod
    def network_recipe(self) -> Recipe:
        """The recipe of the network that :meth:`deploy_network` returns (weights not included):
        what a model folder stores to rebuild it."""

    def build_model(self) -> nn.Module:
        """Create the network from ``self.config.model``: :meth:`network_recipe` with the
        configured ``pretrained`` encoder weights."""
        return self.network_recipe().build(pretrained=self.config.model.pretrained)

    def deploy_network(self) -> nn.Module:
        """The network that answers a prediction (the whole model; a GAN's generator)."""
        return self.model

    def input_spec(self) -> InputSpec:
        """How a picture becomes the network's input: by default an RGB image resized to
        ``data.image_size`` and normalised with ``data.normalize``, as in validation."""
        data = self.config.data
        return InputSpec(
            kind="image",
            channels=self.config.model.in_channels,
            size=data.image_size,
            mean=data.normalize.mean,
            std=data.normalize.std,
        )

    @abstractmethod
    def output_spec(self) -> OutputSpec:
        """What the network's output means (units, range, classes)."""

    @abstractmethod
    def build_losses(self) -> None:
        """Create the loss modules as attributes."""

    @abstractmethod
    def build_metrics(self) -> MetricCollection:
        """The metric collection of one stage (cloned for train/val/test)."""

    def prepare_input(self, array: np.ndarray) -> torch.Tensor:
        """One picture as the network's 1xCxhxw input on the task's device, prepared by
        :meth:`input_spec` (for images: resized to ``data.image_size`` and normalised with
        ``data.normalize``, as in validation)."""
        return preprocess([array], self.input_spec()).to(self.device)

    @torch.no_grad()
    def predict_array(self, array: np.ndarray) -> np.ndarray:
        """The answer for one picture of any size (HxWx3 uint8 RGB; a GAN condition array), at
        its size: depth in metres, class ids, class probabilities or a generated image. The same
        code as a model folder's ``predict`` (:mod:`densepred.portable.processing`)."""
        outputs = self.deploy_network()(self.prepare_input(array))
        return postprocess(outputs, self.output_spec(), [np.shape(array)[:2]])[0]

    @property
    def run_dir(self) -> Path:
        """The run folder (the Trainer's ``default_root_dir``)."""
        return Path(self.trainer.default_root_dir)

    @abstractmethod
    def evaluation_step(self, batch: dict[str, Any], stage: str) -> None:
        """Score one validation or test batch (``stage``: ``val`` or ``test``); a task that draws
        a sample grid offers the batch's rows to ``self.eval_samples``."""

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self.evaluation_step(batch, "val")

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self.evaluation_step(batch, "test")

    def save_sample_grid(self, grid: np.ndarray) -> None:
        """Write an evaluation pass's sample grid.

        In training: ``samples/val_epochNNN.png`` and ``predictions.png`` after each epoch,
        ``samples/val_init.png`` for the validation before the first step (``predictions.png``
        left alone) and ``samples/val_best.png`` and ``predictions.png`` for the final validation
        of the best checkpoint; ``samples/test.png`` for a test pass. Each grid also goes to the
        run's TensorBoard logger as an image (``samples/val``, ``samples/test``) at the current
        step. Where :attr:`sample_grid_file` is set (evaluation), only that file.
        """
        if self.sample_grid_file is not None:
            save_png(self.sample_grid_file, grid)
            return
        state = self.trainer.state.fn
        if state == TrainerFn.TESTING:
            name = "test.png"
        elif state != TrainerFn.VALIDATING:
            name = f"val_epoch{self.current_epoch:03d}.png"
        else:
            name = "val_init.png" if self.global_step == 0 else "val_best.png"
        save_png(self.run_dir / "samples" / name, grid)
        if name not in ("val_init.png", "test.png"):
            save_png(self.run_dir / "predictions.png", grid)
        for logger in self.loggers:  # the same picture in TensorBoard, at this step
            if isinstance(logger, TensorBoardLogger):
                tag = "samples/test" if name == "test.png" else "samples/val"
                logger.experiment.add_image(tag, grid, self.global_step, dataformats="HWC")

    def sample_grid(self) -> np.ndarray | None:
        """The picture of the evaluation samples kept this pass; ``None`` (the default): none."""
        return None

    def pick_samples(self, loader: Any, batches: int | list[int]) -> None:
        """Choose the items of this evaluation pass drawn in the sample grid:
        ``task.num_samples`` evenly spaced over it (:class:`~densepred.tasks.samples.SpreadSamples`)."""
        batches = batches[0] if isinstance(batches, list) else batches
        total = min(len(loader.dataset), batches * (loader.batch_size or 1))
        task = self.config.task
        count = task.num_samples if isinstance(task, SampledTaskConfig) else 0
        self.eval_samples = SpreadSamples(int(total), count)

    def save_picked_samples(self) -> None:
        """On the main process, save :meth:`sample_grid` with :meth:`save_sample_grid`."""
        if not self.trainer.is_global_zero:
            return
        grid = self.sample_grid()
        if grid is not None:
            self.save_sample_grid(grid)

    def on_validation_epoch_start(self) -> None:
        self.pick_samples(self.trainer.val_dataloaders, self.trainer.num_val_batches)

    def on_validation_epoch_end(self) -> None:
        """Log the validation metrics and, outside the sanity check, save the sample grid."""
        self.log_epoch_metrics("val")
        if not self.trainer.sanity_checking:
            self.save_picked_samples()

    def on_test_epoch_start(self) -> None:
        self.pick_samples(self.trainer.test_dataloaders, self.trainer.num_test_batches)

    def on_test_epoch_end(self) -> None:
        """Log the test metrics and save the sample grid."""
        self.log_epoch_metrics("test")
        self.save_picked_samples()

    def check_finite(self, loss: torch.Tensor) -> None:
        """Stop training before a non-finite loss can reach the weights or a checkpoint."""
        if not torch.isfinite(loss).all():
            raise NonFiniteLossError(
                f"training loss became {loss.item()} at epoch {self.current_epoch}, step "
                f"{self.global_step}; training stopped before the optimizer step. Lower "
                "task.optimizer.lr, check the data for invalid targets, or use "
                "trainer.gradient_clip_val."
            )

    def log_train_losses(
        self, shown: dict[str, torch.Tensor], parts: dict[str, torch.Tensor], batch_size: int
    ) -> None:
        """Log the training losses of a step: ``shown`` on every step (the progress bar shows
        them), ``parts`` only on the steps the loggers write (``trainer.log_every_n_steps``), as
        Lightning drops the other steps' values of these step-only keys anyway and a ``log`` call
        costs about a millisecond."""
        self.log_dict(shown, prog_bar=True, batch_size=batch_size)
        if parts and self.trainer._logger_connector.should_update_logs:
            self.log_dict(parts, batch_size=batch_size)

    def stage_metrics(self, stage: str) -> MetricCollection:
        """The metric collection of ``stage`` (train, val or test)."""
        return self.metrics[f"{stage}_metrics"]

    def on_fit_start(self) -> None:
        """Start training with fresh metric states: a ``trainer.validate`` before ``fit`` (the
        initial validation) leaves states made under inference mode, which training cannot update.
        With ``model.compile`` the network's forward is compiled here, for training only."""
        for collection in self.metrics.values():
            collection.reset()
        compile_for_training(self.model, self.config.model)

    def epoch_collections(self, stage: str) -> list[MetricCollection]:
        """The collections computed and logged at the end of a ``stage`` epoch: by default
        :meth:`stage_metrics`; a task that scores other inputs too adds its own."""
        return [self.stage_metrics(stage)]

    def log_epoch_metrics(self, stage: str) -> dict[str, float]:
        """Compute, log and reset the metrics of ``stage``; return them as floats."""
        values = {}
        for collection in self.epoch_collections(stage):
            values.update({k: v for k, v in collection.compute().items() if v.numel() == 1})
            collection.reset()
        self.log_dict(values, sync_dist=True)
        return {k: float(v) for k, v in values.items() if math.isfinite(float(v))}

    def build_optimizers(
        self, total_steps: int
    ) -> tuple[list[torch.optim.Optimizer], list[torch.optim.lr_scheduler.LRScheduler]]:
        """Optimizers and their per-step schedules from ``task.optimizer`` and ``task.scheduler``
        (one of each; the GAN task has two), for a run of ``total_steps`` optimizer steps."""
        task = self.config.task
        optimizer = build_optimizer(self, task.optimizer, encoder_parameters(self.model))
        return [optimizer], [build_scheduler(optimizer, total_steps, task.scheduler)]

    def configure_optimizers(self) -> tuple[list[torch.optim.Optimizer], list[dict[str, Any]]]:
        """:meth:`build_optimizers` for the Trainer's number of steps, schedules stepped per batch."""
        optimizers, schedulers = self.build_optimizers(
            max(1, int(self.trainer.estimated_stepping_batches))
        )
        return optimizers, [{"scheduler": s, "interval": "step"} for s in schedulers]
