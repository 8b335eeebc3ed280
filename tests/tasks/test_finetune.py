"""Transfer learning: frozen encoders, encoder learning-rate groups, unfreezing at an epoch."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import lightning as L
import pytest
import torch
from torch import nn

from densepred.app.config import load_config
from densepred.app.tasks import TASKS
from densepred.app.train import run_training
from densepred.cli.main import main
from densepred.config.task import OptimizerConfig
from densepred.core.errors import ConfigError
from densepred.tasks.finetune import encoder_modules, encoder_parameters
from densepred.tasks.optim import build_optimizer

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
# One shipped config per task kind with a pretrained-encoder model (GAN: the pix2pix generator).
FROZEN_CONFIGS = [
    "depth_mbv3_unet.yaml",
    "seg_mbv3_unet.yaml",
    "seg_mbv3_smp_fpn.yaml",
    "cls_mbv2.yaml",
    "gan_pix2pix_rgb2depth.yaml",
]


def _task(config_name: str, *overrides: str) -> L.LightningModule:
    config = load_config(CONFIGS / config_name, ["data.root=unused", *overrides])
    return TASKS.get(config.task_name)(config)


def _state(modules: list[nn.Module]) -> dict[str, torch.Tensor]:
    """Parameters and buffers (BatchNorm running statistics) of ``modules``, copied."""
    return {
        f"{i}.{name}": value.detach().clone()
        for i, module in enumerate(modules)
        for name, value in [*module.named_parameters(), *module.named_buffers()]
    }


@pytest.mark.parametrize("config_name", FROZEN_CONFIGS)
def test_frozen_encoder_is_unchanged_by_a_training_step(config_name: str) -> None:
    torch.manual_seed(0)
    task = _task(config_name, "model.freeze_encoder=true")
    encoder = encoder_modules(task.model)
    encoder_ids = {id(p) for p in encoder_parameters(task.model)}
    rest = [p for p in task.model.parameters() if id(p) not in encoder_ids]
    before, rest_before = _state(encoder), [p.detach().clone() for p in rest]
    running = [m for module in encoder for m in module.modules() if isinstance(m, nn.BatchNorm2d)]
    assert running, "the encoder has BatchNorm layers whose statistics must stay put"
    optimizer = build_optimizer(
        task.model, OptimizerConfig(lr=0.01), encoder_parameters(task.model)
    )
    task.train()  # what Lightning calls before each training epoch
    assert not any(m.training for m in running)
    out = task.model(torch.rand(2, 3, 64, 64) * 4 - 2)
    out.float().square().mean().backward()
    optimizer.step()
    after = _state(encoder)
    assert all(torch.equal(before[k], after[k]) for k in before), (
        "encoder weights or BN stats moved"
    )
    assert any(not torch.equal(b, p) for b, p in zip(rest_before, rest, strict=True)), (
        "nothing learnt"
    )


def test_lr_groups_follow_encoder_lr_mult() -> None:
    task = _task("depth_mbv3_unet.yaml")
    cfg = OptimizerConfig(lr=0.01, weight_decay=0.05, encoder_lr_mult=0.1)
    optimizer = build_optimizer(task, cfg, encoder_parameters(task.model))
    groups = {g["name"]: g for g in optimizer.param_groups}
    assert set(groups) == {"encoder", "encoder_no_decay", "rest", "rest_no_decay"}
    assert groups["encoder"]["lr"] == pytest.approx(0.001)
    assert groups["encoder_no_decay"]["lr"] == pytest.approx(0.001)
    assert groups["rest"]["lr"] == groups["rest_no_decay"]["lr"] == 0.01
    assert groups["encoder"]["weight_decay"] == groups["rest"]["weight_decay"] == 0.05
    assert (
        groups["encoder_no_decay"]["weight_decay"] == groups["rest_no_decay"]["weight_decay"] == 0
    )
    grouped = {id(p) for g in optimizer.param_groups for p in g["params"]}
    assert grouped == {id(p) for p in task.parameters()}
    encoder = {id(p) for g in ("encoder", "encoder_no_decay") for p in groups[g]["params"]}
    assert encoder == {id(p) for p in task.model.encoder.parameters()}


def test_encoder_lr_mult_and_freezing_need_an_encoder() -> None:
    with pytest.raises(ConfigError, match="encoder_lr_mult=0.5 but Linear has no encoder"):
        build_optimizer(nn.Linear(2, 2), OptimizerConfig(encoder_lr_mult=0.5))
    with pytest.raises(ConfigError, match="model.freeze_encoder needs a model with an encoder"):
        _task("gan_dcgan.yaml", "model.freeze_encoder=true")
    with pytest.raises(ConfigError, match="unfreeze_at_epoch=2 unfreezes a frozen encoder"):
        _task("depth_mbv3_unet.yaml", "model.unfreeze_at_epoch=2")


class EncoderTrainable(L.Callback):
    """Records per epoch whether the encoder gets gradients and its BatchNorm layers train."""

    def __init__(self) -> None:
        self.epochs: dict[int, tuple[bool, bool]] = {}

    def on_train_batch_start(self, trainer, task, batch, batch_idx) -> None:  # noqa: ANN001
        encoder = encoder_modules(task.model)
        grads = all(p.requires_grad for m in encoder for p in m.parameters())
        norms = all(
            m.training for e in encoder for m in e.modules() if isinstance(m, nn.BatchNorm2d)
        )
        self.epochs.setdefault(trainer.current_epoch, (grads, norms))


def test_encoder_unfreezes_at_the_epoch(tmp_path: Path, make_tiny: Callable) -> None:
    overrides = [
        *make_tiny(tmp_path, max_steps=9),
        "trainer.max_epochs=3",
        "trainer.limit_train_batches=3",
        "model.freeze_encoder=true",
        "model.unfreeze_at_epoch=2",
    ]
    config = load_config(CONFIGS / "cls_mbv2.yaml", overrides)

    record = EncoderTrainable()
    result = run_training(config, callbacks=[record])
    assert record.epochs == {0: (False, False), 1: (False, False), 2: (True, True)}
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    task = TASKS.get("classification")(config)
    head = sum(p.numel() for p in task.model.get_classifier().parameters())
    assert metrics["parameters"]["trainable"] == head
    assert metrics["parameters"]["total"] == sum(p.numel() for p in task.parameters())


def test_trainable_parameter_count_is_printed(tmp_path: Path, make_tiny: Callable, capsys) -> None:  # noqa: ANN001
    overrides = [*make_tiny(tmp_path, max_steps=1), "model.freeze_encoder=true"]
    main(["train", str(CONFIGS / "cls_mbv2.yaml"), *overrides])
    assert "trainable of" in capsys.readouterr().err
