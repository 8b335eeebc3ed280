"""The ``task`` sections: losses, optimizer, schedule, checkpoint monitor and distillation.

The task sections extend three bases instead of repeating fields: :class:`TaskConfig`
(scheduler, monitor) <- :class:`OptimizedTaskConfig` (+ optimizer) <- :class:`LossTaskConfig`
(+ named losses with weights and options); a subclass redeclares a field only to change its
default (e.g. ``monitor``).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from densepred.config.refs import ADVERSARIAL_LOSS, loss_kind, references
from densepred.core.errors import ConfigError, close_matches
from densepred.core.schema import StrictModel


class OptimizerConfig(StrictModel):
    """``task.optimizer``: which optimizer and its settings.

    Attributes:
        name: ``adamw``, ``adam`` or ``sgd`` (plain SGD with momentum).
        lr: Learning rate.
        weight_decay: Weight decay (not applied to norm layers, biases and other 1-D parameters).
        betas: Adam betas.
        momentum: SGD momentum.
        encoder_lr_mult: Scales the learning rate of the encoder's parameters (transfer
            learning: e.g. 0.1 for a pretrained encoder under a fresh decoder).
    """

    name: Literal["adamw", "adam", "sgd"] = "adamw"
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = Field(0.9, ge=0)
    encoder_lr_mult: float = Field(1.0, ge=0)


class SchedulerConfig(StrictModel):
    """``task.scheduler``: learning-rate schedule, stepped every optimizer step.

    Attributes:
        name: ``cosine`` decays to ``min_lr_ratio * lr`` after ``warmup_steps`` of linear
            warm-up; ``poly`` decays with ``(1 - t) ** power``; ``none`` keeps the rate constant.
        warmup_steps: Steps of linear warm-up from zero.
        min_lr_ratio: Final learning rate of ``cosine`` as a fraction of ``lr``.
        power: Exponent of ``poly``.
    """

    name: Literal["none", "cosine", "poly"] = "cosine"
    warmup_steps: int = Field(0, ge=0)
    min_lr_ratio: float = Field(0.01, ge=0, le=1)
    power: float = Field(0.9, gt=0)


class TaskConfig(StrictModel):
    """Fields of every ``task`` section.

    Attributes:
        scheduler: Learning-rate schedule.
        monitor: Metric that selects the best checkpoint (``null``: keep the latest one).
        monitor_mode: ``min`` or ``max`` for ``monitor``.
    """

    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    monitor: str | None = "val/loss"
    monitor_mode: Literal["min", "max"] = "min"


class OptimizedTaskConfig(TaskConfig):
    """A task trained by one optimizer.

    Attributes:
        optimizer: Optimizer settings.
    """

    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)


class SampledTaskConfig(StrictModel):
    """A task that draws validation samples in a sample grid (``samples/*.png``, TensorBoard).

    Attributes:
        num_samples: Validation samples drawn in the sample grid (0: none).
    """

    num_samples: int = Field(4, ge=0)


def check_loss_args(loss_args: Mapping[str, Any], losses: Mapping[str, float]) -> dict[str, Any]:
    """Validate ``task.loss_args``: options only for losses that ``task.losses`` uses."""
    for name in loss_args:
        if name not in losses:
            hint = close_matches(name, losses)
            raise ConfigError(
                f"task.loss_args.{name}: options for a loss that task.losses does not use"
                f" ({', '.join(losses)})."
                + (f" Did you mean '{hint[0]}'?" if hint else "")
                + " Add it to task.losses or remove its options."
            )
    return dict(loss_args)


class LossTaskConfig(OptimizedTaskConfig, SampledTaskConfig):
    """A task trained on a weighted sum of named losses from its loss registry.

    Attributes:
        losses: Loss name -> weight.
        loss_args: Loss name -> options of its builder (only for losses in ``losses``).
    """

    loss_task: ClassVar[str]
    """The task whose loss registry names the losses (reference kind ``loss:<loss_task>``)."""

    losses: dict[str, float]
    loss_args: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("losses")
    @classmethod
    def _known_losses(cls, losses: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        if not losses:
            raise ValueError("task.losses is empty; name at least one loss")
        refs = references(info)
        if refs is not None:
            for name in losses:
                refs.check_name(loss_kind(cls.loss_task), name)
        return losses

    @field_validator("loss_args")
    @classmethod
    def _used_losses(cls, loss_args: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if "losses" not in info.data:  # losses failed its own check; report that one only
            return loss_args
        return check_loss_args(loss_args, info.data["losses"])

    @model_validator(mode="after")
    def _loss_options(self, info: ValidationInfo) -> LossTaskConfig:
        refs = references(info)
        if refs is not None:
            for name, args in self.loss_args.items():
                refs.check_args(loss_kind(self.loss_task), name, args, f"task.loss_args.{name}")
        return self


class DistillConfig(StrictModel):
    """``task.distill``: train from a teacher checkpoint as well as from the ground truth.

    Attributes:
        teacher: A checkpoint of the same task written by ``densepred train``.
        weight: Weight of the prediction term (the ground-truth losses keep theirs).
        features: Encoder stage indices (0 = stride 2 ... 4 = stride 32) matched through 1x1
            adapters; empty: no feature term.
        feature_weight: Weight of the feature term.
    """

    teacher: str
    weight: float = Field(1.0, ge=0)
    features: list[int] = Field(default_factory=list)
    feature_weight: float = Field(1.0, ge=0)

    @field_validator("teacher")
    @classmethod
    def _teacher_exists(cls, teacher: str) -> str:
        if not Path(teacher).is_file():
            raise ValueError(
                f"teacher checkpoint '{teacher}' does not exist; train the teacher first "
                "(densepred train, its run's checkpoints/best.ckpt) or fix the path"
            )
        return teacher

    @field_validator("features")
    @classmethod
    def _distinct_stages(cls, features: list[int]) -> list[int]:
        if any(i < 0 for i in features) or len(set(features)) != len(features):
            raise ValueError("stage indices must be distinct and non-negative, e.g. [3, 4]")
        return features

    @property
    @abstractmethod
    def loss_name(self) -> str:
        """The prediction term's name in ``densepred.losses.distill.DISTILL_LOSSES``."""

    @property
    def loss_options(self) -> dict[str, Any]:
        """Options of the prediction term's builder."""
        return {}


class DepthDistillConfig(DistillConfig):
    """``task.distill`` of depth estimation.

    Attributes:
        loss: ``silog`` (scale-invariant log, default) or ``l1_log`` (L1 of log depth).
        fill_invalid: Ground-truth pixels that are invalid get the teacher's depth as target.
    """

    loss: Literal["silog", "l1_log"] = "silog"
    fill_invalid: bool = False

    @property
    def loss_name(self) -> str:
        return self.loss


class LogitDistillConfig(DistillConfig):
    """``task.distill`` of segmentation and classification.

    Attributes:
        temperature: Softening temperature of the KL term (scaled by its square).
    """

    temperature: float = Field(1.0, gt=0)

    @property
    def loss_name(self) -> str:
        return "kl"

    @property
    def loss_options(self) -> dict[str, Any]:
        return {"temperature": self.temperature}


class DistillTaskConfig(StrictModel):
    """A task that can train from a teacher checkpoint (``task.distill``).

    Attributes:
        distill: Train from a teacher checkpoint as well (see :mod:`densepred.tasks.distill`).
    """

    distill: DistillConfig | None = None


class DepthTaskConfig(LossTaskConfig, DistillTaskConfig):
    """``task`` section of depth estimation (plus the fields of :class:`LossTaskConfig`).

    Attributes:
        min_depth: Smallest valid depth in metres (head range, loss and metric validity).
        max_depth: Largest valid depth in metres; must exceed ``min_depth``.
        losses: Loss name -> weight, names from ``DEPTH_LOSSES`` (silog, l1, gradient, ssim, berhu,
            ssi, ssi_gradient).
        eval_crop: ``none``, ``eigen`` (NYU) or ``garg`` (KITTI) crop for validation/test metrics.
        distill: Train from a teacher checkpoint as well (``loss``: silog or l1_log).
    """

    loss_task: ClassVar[str] = "depth"
    min_depth: float = Field(1e-3, gt=0)
    max_depth: float = Field(10.0, gt=0)
    losses: dict[str, float] = Field(default_factory=lambda: {"silog": 1.0, "gradient": 0.5})
    eval_crop: Literal["none", "eigen", "garg"] = "none"
    monitor: str = "val/mai_si_rmse"
    distill: DepthDistillConfig | None = None

    @model_validator(mode="after")
    def _depth_range(self) -> DepthTaskConfig:
        if self.min_depth >= self.max_depth:
            raise ValueError(
                f"task.min_depth ({self.min_depth}) must be smaller than task.max_depth "
                f"({self.max_depth})"
            )
        return self


class SegmentationTaskConfig(LossTaskConfig, DistillTaskConfig):
    """``task`` section of semantic segmentation (plus the fields of :class:`LossTaskConfig`).

    Attributes:
        mode: ``multiclass`` (softmax over ``data.classes``) or ``binary`` (one sigmoid logit for
            class 1 of exactly two classes).
        losses: Loss name -> weight, names from ``SEG_LOSSES`` (cross_entropy, dice, focal, lovasz).
        class_weights: One weight per class for cross_entropy, dice and focal (multiclass only),
            or ``median_frequency``: computed from the training masks when training or
            evaluation starts (SegNet's median frequency balancing) and saved as the list.
        overlay_alpha: Mask opacity of the overlays written by ``densepred predict``.
        distill: Train from a teacher checkpoint as well (a KL term on the class scores).
    """

    loss_task: ClassVar[str] = "segmentation"
    mode: Literal["multiclass", "binary"] = "multiclass"
    losses: dict[str, float] = Field(default_factory=lambda: {"cross_entropy": 1.0})
    class_weights: list[float] | Literal["median_frequency"] | None = None
    monitor: str = "val/miou"
    monitor_mode: Literal["min", "max"] = "max"
    overlay_alpha: float = Field(0.5, ge=0, le=1)
    distill: LogitDistillConfig | None = None


class ClassificationTaskConfig(OptimizedTaskConfig, DistillTaskConfig):
    """``task`` section of image classification (plus the fields of :class:`OptimizedTaskConfig`).

    Attributes:
        label_smoothing: Cross-entropy label smoothing (0 = none).
        top_k: The wider accuracy reported besides top-1 (``acc<k>``); left out when there are
            no more than ``top_k`` classes, where it is always 1.
        predict_top_k: Classes (with probabilities) written per image by ``densepred predict``.
        distill: Train from a teacher checkpoint as well (a KL term on the class scores).
    """

    label_smoothing: float = Field(0.0, ge=0, lt=1)
    top_k: int = Field(5, ge=2)
    predict_top_k: int = Field(5, ge=1)
    monitor: str = "val/acc1"
    monitor_mode: Literal["min", "max"] = "max"
    distill: LogitDistillConfig | None = None


class GANOptimizerConfig(OptimizerConfig):
    """``task.generator_optimizer`` / ``task.discriminator_optimizer``: pix2pix defaults
    (Adam, lr 2e-4, betas (0.5, 0.999), no weight decay)."""

    name: Literal["adamw", "adam", "sgd"] = "adam"
    lr: float = Field(2e-4, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    betas: tuple[float, float] = (0.5, 0.999)


class GANTaskConfig(TaskConfig, SampledTaskConfig):
    """``task`` section of GAN mode (plus the fields of :class:`TaskConfig`).

    Attributes:
        adversarial_loss: ``vanilla``, ``lsgan`` or ``hinge`` (``GAN_LOSSES``).
        l1_weight: Weight of the L1 reconstruction loss (conditional runs; pix2pix uses 100).
        ssim_weight: Weight of ``1 - SSIM`` (conditional runs; 0 disables it).
        generator_optimizer: Optimizer of the generator.
        discriminator_optimizer: Optimizer of the discriminator.
        scheduler: Learning-rate schedule of both optimizers, stepped once per batch.
        monitor: Metric that selects the best checkpoint; ``null`` keeps the latest one
            (unconditional runs have no quality metric).
        num_samples: Validation samples drawn in the sample grid.
        sample_seed: Seed of the fixed evaluation noise (unconditional runs; item ``i`` of a split
            gets the noise of seed ``sample_seed + i``).
    """

    adversarial_loss: str = "vanilla"
    l1_weight: float = Field(100.0, ge=0)
    ssim_weight: float = Field(0.0, ge=0)
    generator_optimizer: GANOptimizerConfig = Field(default_factory=GANOptimizerConfig)
    discriminator_optimizer: GANOptimizerConfig = Field(default_factory=GANOptimizerConfig)
    scheduler: SchedulerConfig = Field(default_factory=lambda: SchedulerConfig(name="none"))
    monitor: str | None = "val/l1"
    num_samples: int = Field(8, ge=0)
    sample_seed: int = 0

    @field_validator("adversarial_loss")
    @classmethod
    def _known_loss(cls, name: str, info: ValidationInfo) -> str:
        refs = references(info)
        if refs is not None:
            refs.check_name(ADVERSARIAL_LOSS, name)
        return name
