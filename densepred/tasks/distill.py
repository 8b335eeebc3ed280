"""Knowledge distillation: the ``task.distill`` section, the frozen teacher and the task mixin.

A student task trains on its ground-truth losses plus ``weight`` x a prediction term against a
teacher (any checkpoint of the same task: any encoder, decoder or input size) and, optionally,
``feature_weight`` x a feature term on chosen encoder stages. The teacher runs in eval mode
without gradients and is not a submodule: its weights are in neither the student's
``state_dict``, its optimizer nor its checkpoint; the feature adapters are kept beside the
checkpoint's ``state_dict`` (for ``--resume``), so a student's checkpoint loads for
predict/evaluate/export without the teacher file.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from densepred.config.data import DataConfig
from densepred.config.model import ModelConfig
from densepred.config.run import Config
from densepred.config.task import DistillConfig, DistillTaskConfig
from densepred.core.errors import ConfigError, WeightsError
from densepred.losses.distill import DISTILL_LOSSES, FeatureDistillation
from densepred.tasks.checkpoint import check_finite_weights, read_checkpoint, saved_config

ADAPTER_KEY = "distiller_state"
"""Checkpoint entry holding the feature adapters, outside ``state_dict``."""


def without_distillation(raw: dict[str, Any]) -> dict[str, Any]:
    """A plain config without ``task.distill`` and ``data.unlabeled_root``: a task rebuilt from
    a checkpoint is for inference (or is itself a teacher) and needs no teacher file."""
    raw = copy.copy(raw)
    for section, key in (("task", "distill"), ("data", "unlabeled_root")):
        if isinstance(raw.get(section), dict) and key in raw[section]:
            raw[section] = {k: v for k, v in raw[section].items() if k != key}
    return raw


def teacher_config(path: str | Path, task_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a teacher checkpoint: its plain config and its ``state_dict``.

    Raises:
        WeightsError: The file cannot be read safely or is not a densepred checkpoint.
        ConfigError: The checkpoint is of another task.
    """
    advice = "Set task.distill.teacher to a checkpoint written by densepred train."
    ckpt = read_checkpoint(path, advice=advice)
    try:
        config = saved_config(ckpt, path)
    except WeightsError as exc:
        raise WeightsError(f"task.distill.teacher: {exc} {advice}") from None
    found = config.get("task", {}).get("name")
    if found != task_name:
        raise ConfigError(
            f"task.distill.teacher '{path}' is a {found} checkpoint; a {task_name} student needs "
            f"a {task_name} teacher."
        )
    return config, ckpt["state_dict"]


def check_teacher(distill: DistillConfig, task_name: str, outputs: dict[str, Any]) -> None:
    """At config load: the teacher is a readable checkpoint of the same task that predicts the
    same outputs.

    Args:
        distill: The ``task.distill`` section.
        task_name: The student's task.
        outputs: Config keys that fix what the network predicts (``section.key`` -> value, e.g.
            ``data.classes``), which the teacher's config must equal.
    """
    teacher, _ = teacher_config(distill.teacher, task_name)
    for name, ours in outputs.items():
        section, key = name.split(".")
        theirs = teacher.get(section, {}).get(key)
        if ours != theirs:
            raise ConfigError(
                f"task.distill.teacher '{distill.teacher}' has {section}.{key} {theirs!r}, the "
                f"student {ours!r}; a teacher must predict the same outputs."
            )


class Teacher:
    """A frozen task in eval mode that answers at the student's input size.

    Not an ``nn.Module``: a student holding it does not register, save, optimise or
    switch it to training mode.

    Args:
        task: The teacher task (its weights loaded).
    """

    def __init__(self, task: nn.Module) -> None:
        self.task = task.eval().requires_grad_(False)
        self.features: list[Tensor] = []

    @torch.no_grad()
    def __call__(self, image: Tensor) -> Tensor:
        """Bx3xHxW normalised image -> the teacher's output at HxW (dense) or as it is."""
        if next(self.task.parameters()).device != image.device:
            self.task.to(image.device)
        size = getattr(self.task.config.data, "image_size", None)
        x = image
        if size is not None and tuple(image.shape[-2:]) != tuple(size):
            x = F.interpolate(image, size=tuple(size), mode="bilinear", align_corners=False)
        out = self.task(x)
        if out.dim() == 4 and out.shape[-2:] != image.shape[-2:]:
            out = F.interpolate(out, size=image.shape[-2:], mode="bilinear", align_corners=False)
        return out.float()


def load_teacher(path: str | Path, task_cls: type[nn.Module], task_name: str) -> Teacher:
    """Build ``task_cls`` from the teacher checkpoint at ``path`` and load its weights."""
    config, state = teacher_config(path, task_name)
    check_finite_weights(state, path)
    task = task_cls(config)  # a plain config: rebuilt without its own distill section
    task.load_state_dict(state)
    return Teacher(task)


def encoder_of(model: nn.Module, who: str) -> nn.Module:
    """The model's feature encoder (``channels`` list, forward -> list of maps)."""
    encoder = getattr(model, "encoder", None)
    if encoder is None or not hasattr(encoder, "channels"):
        raise ConfigError(
            f"task.distill.features: the {who} model ({type(model).__name__}) has no densepred "
            "encoder to take features from; use a densepred decoder (not smp.*) or features: []."
        )
    return encoder


def capture_features(encoder: nn.Module, into: list[Tensor]) -> None:
    """Keep the feature maps of ``encoder``'s latest forward pass in ``into``."""

    def hook(module: nn.Module, args: Any, output: list[Tensor]) -> None:
        into[:] = list(output)

    encoder.register_forward_hook(hook)


class Distiller(nn.Module):
    """The distillation terms of one student (its feature adapters are its only weights).

    Args:
        student_model: The student's network.
        teacher: The frozen teacher.
        config: The ``task.distill`` section.
    """

    def __init__(self, student_model: nn.Module, teacher: Teacher, config: DistillConfig) -> None:
        super().__init__()
        self.config = config
        self.teacher = teacher
        self.prediction_loss = DISTILL_LOSSES.build(config.loss_name, **config.loss_options)
        self.features: FeatureDistillation | None = None
        self._student_features: list[Tensor] = []
        if config.features:
            student = encoder_of(student_model, "student")
            teacher_encoder = encoder_of(teacher.task.model, "teacher")
            stages = min(len(student.channels), len(teacher_encoder.channels))
            if max(config.features) >= stages:
                raise ConfigError(
                    f"task.distill.features {config.features}: the encoders have {stages} "
                    f"stages, indices 0..{stages - 1}."
                )
            self.features = FeatureDistillation(
                config.features, list(student.channels), list(teacher_encoder.channels)
            )
            capture_features(student, self._student_features)
            capture_features(teacher_encoder, teacher.features)

    def forward(
        self, image: Tensor, student_out: Tensor
    ) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """Teacher output, weighted distillation total and its unweighted parts."""
        teacher_out = self.teacher(image)
        parts = {"distill": self.prediction_loss(student_out.float(), teacher_out)}
        total = self.config.weight * parts["distill"]
        if self.features is not None:
            parts["distill_features"] = self.features(self._student_features, self.teacher.features)
            total = total + self.config.feature_weight * parts["distill_features"]
        return teacher_out, total, parts


class DistillationMixin:
    """Mixed into a task (before :class:`~densepred.tasks.base.BaseTask`) whose ``task``
    section has a ``distill`` field. The task calls :meth:`build_distiller` after building its
    model and :meth:`distill` in ``training_step``; it may override :meth:`distill_target`."""

    config: Config[ModelConfig, DataConfig, DistillTaskConfig]
    model: nn.Module
    distiller: Distiller | None

    @classmethod
    def check_config(cls, config: Config[ModelConfig, DataConfig, DistillTaskConfig]) -> None:
        super().check_config(config)  # type: ignore[misc]
        if config.task.distill is not None:
            check_teacher(config.task.distill, config.task_name, cls.output_keys(config))

    @classmethod
    def output_keys(cls, config: Config) -> dict[str, Any]:
        """Config keys that fix what the network predicts (``section.key`` -> plain value), which
        a teacher must share; none by default."""
        return {}

    def build_distiller(self) -> None:
        """Load the teacher of ``task.distill`` (if any) as ``self.distiller``."""
        cfg = self.config.task.distill
        self.distiller = None
        if cfg is not None:
            teacher = load_teacher(cfg.teacher, type(self), self.config.task_name)  # type: ignore[arg-type]
            self.distiller = Distiller(self.model, teacher, cfg)

    def distill(
        self, image: Tensor, student_out: Tensor, target: Tensor
    ) -> tuple[Tensor, Tensor | float, dict[str, Tensor]]:
        """The ground-truth target (possibly completed by the teacher), the weighted
        distillation loss to add and its parts; ``(target, 0.0, {})`` without a teacher."""
        if self.distiller is None:
            return target, 0.0, {}
        teacher_out, total, parts = self.distiller(image, student_out)
        return self.distill_target(target, teacher_out), total, parts

    def distill_target(self, target: Tensor, teacher_out: Tensor) -> Tensor:
        """The ground-truth target for the task's losses given the teacher's output (default:
        unchanged)."""
        return target

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Move the adapters out of ``state_dict``: it then loads without a teacher."""
        state = checkpoint["state_dict"]
        keys = [k for k in state if k.startswith("distiller.")]
        checkpoint[ADAPTER_KEY] = {k: state.pop(k) for k in keys}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Put the adapters back for ``--resume`` (Lightning calls this before loading)."""
        adapters = checkpoint.pop(ADAPTER_KEY, {})
        if self.distiller is not None:
            checkpoint["state_dict"].update(adapters)
