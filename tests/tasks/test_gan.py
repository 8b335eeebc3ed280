"""GAN task: manual optimisation updates the right networks; end to end through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import lightning as L
import numpy as np
import pytest
import torch
from torch import nn

from densepred.app.config import load_config
from densepred.cli.main import main
from densepred.core.errors import ConfigError
from densepred.data.paired import PairedDataModule
from densepred.tasks.gan import GANTask

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
PIX2PIX = CONFIGS / "gan_pix2pix_depth2rgb.yaml"
RGB2DEPTH = CONFIGS / "gan_pix2pix_rgb2depth.yaml"
DCGAN = CONFIGS / "gan_dcgan.yaml"


def _one_epoch(tmp_path: Path, make_tiny: Callable[..., list[str]]) -> list[str]:
    """Tiny overrides for one epoch of two batches (four optimizer steps) and a validation."""
    return make_tiny(tmp_path, max_steps=100) + ["trainer.limit_train_batches=2"]


def _params(module: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def _changed(before: dict[str, torch.Tensor], module: nn.Module) -> float:
    """Fraction of the parameter tensors of ``module`` that differ from ``before``."""
    after = dict(module.named_parameters())
    return sum(not torch.equal(before[k], after[k]) for k in before) / len(before)


@pytest.mark.parametrize(
    ("config", "extra"),
    [
        (PIX2PIX, ["model.spectral_norm=true", "task.ssim_weight=1.0"]),
        (
            PIX2PIX,
            [
                "model.discriminator=resnet18",
                "model.discriminator_args={}",
                "task.adversarial_loss=hinge",
            ],
        ),
        (
            DCGAN,
            [
                "model.discriminator=mobilenet_v3_small",
                "model.discriminator_args={}",
                "task.adversarial_loss=lsgan",
            ],
        ),
    ],
)
def test_each_half_step_updates_only_its_network(
    config: Path, extra: list[str], tmp_path: Path, make_tiny: Callable[..., list[str]]
) -> None:
    """After the D step only D has moved; after the G step only G has moved."""
    cfg = load_config(config, make_tiny(tmp_path, max_steps=2) + extra)
    task = GANTask(cfg.to_dict())
    gen, disc = task.model.generator, task.model.discriminator
    seen: dict[str, float] = {}

    def watch(name: str, step: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            g0, d0 = _params(gen), _params(disc)
            out = step(*args, **kwargs)
            seen[f"{name}: G"], seen[f"{name}: D"] = _changed(g0, gen), _changed(d0, disc)
            return out

        return wrapped

    task.discriminator_step = watch("d_step", task.discriminator_step)
    task.generator_step = watch("g_step", task.generator_step)
    trainer = L.Trainer(
        max_steps=2,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        accelerator="cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(task, datamodule=PairedDataModule(cfg.data))
    assert trainer.global_step == 2  # one batch = one D step + one G step
    # (not every tensor moves at once: e.g. timm ResNets zero-init the last BN of each block)
    assert seen["d_step: G"] == 0.0 and seen["d_step: D"] > 0.0
    assert seen["g_step: D"] == 0.0 and seen["g_step: G"] > 0.0


@pytest.mark.parametrize("config", [PIX2PIX, RGB2DEPTH])
def test_conditional_end_to_end(
    config: Path, tmp_path: Path, make_tiny: Callable[..., list[str]]
) -> None:
    assert main(["train", str(config), *_one_epoch(tmp_path, make_tiny)]) == 0
    run = tmp_path / "runs" / config.stem
    assert (run / "config.yaml").is_file() and (run / "checkpoints" / "best.ckpt").is_file()
    record = json.loads((run / "metrics.json").read_text())
    assert record["global_step"] == 4
    keys = ["val/l1", "val/psnr", "val/ssim", "val/loss_d", "val/loss_g_adv"]
    if config == RGB2DEPTH:  # adversarial depth estimation also reports the depth metrics
        keys += ["val/abs_rel", "val/rmse", "val/delta1", "val/mai_si_rmse"]
    for key in keys:
        assert np.isfinite(record["val"][key]), key
    grid = cv2.imread(str(run / "samples" / "val_epoch000.png"))
    assert grid is not None and grid.shape[1] >= 3 * 48  # condition | target | generated
    assert (run / "predictions.png").is_file()

    data = next((tmp_path / "data").iterdir()) / "val"
    condition = data / ("depth" if config == PIX2PIX else "rgb")
    out = tmp_path / "pred"
    assert (
        main(["predict", str(run / "checkpoints" / "best.ckpt"), str(condition), "--out", str(out)])
        == 0
    )
    if config == PIX2PIX:
        fake = cv2.imread(str(out / "00000_generated.png"))
        assert fake.shape == (48, 64, 3)  # the condition's own size
    else:
        depth = cv2.imread(str(out / "00000_depth.png"), cv2.IMREAD_UNCHANGED)
        assert depth.dtype == np.uint16 and depth.shape == (48, 64) and depth.max() <= 10_000


def test_unconditional_end_to_end(
    tmp_path: Path, make_tiny: Callable[..., list[str]], capsys
) -> None:
    overrides = _one_epoch(tmp_path, make_tiny) + ["data.image_size=[32, 48]"]
    assert main(["train", str(DCGAN), *overrides]) == 0
    run = tmp_path / "runs" / "gan_dcgan"
    assert (run / "checkpoints" / "last.ckpt").is_file()
    record = json.loads((run / "metrics.json").read_text())
    assert np.isfinite(record["val"]["val/loss_d"]) and "val/l1" not in record["val"]
    out = tmp_path / "samples"
    ckpt = str(run / "checkpoints" / "last.ckpt")
    assert main(["predict", ckpt, "--num", "3", "--out", str(out)]) == 0
    images = sorted(out.glob("sample_*_generated.png"))
    assert len(images) == 3 and cv2.imread(str(images[0])).shape == (32, 48, 3)
    assert main(["predict", ckpt, str(out), "--out", str(tmp_path / "x")]) == 2
    assert "--num" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("config", "override", "message"),
    [
        (PIX2PIX, "model.discriminator=patchgann", "Did you mean 'patchgan'"),
        (PIX2PIX, "data.image_size=[16, 16]", "too small for num_layers=3"),
        (PIX2PIX, "model.discriminator=resnet18", "patchgan/dcgan options do not apply"),
        (DCGAN, "data.image_size=[40, 48]", "divisible by 2**num_layers = 16"),
        (DCGAN, "data.condition=depth", "takes no condition"),
    ],
)
def test_bad_settings_fail_clearly(
    config: Path,
    override: str,
    message: str,
    tmp_path: Path,
    make_tiny: Callable[..., list[str]],
    capsys,
) -> None:
    overrides = [o for o in make_tiny(tmp_path) if not o.startswith("data.image_size")]
    if "image_size" not in override:
        overrides.append("data.image_size=[24, 32]")
    assert main(["train", str(config), *overrides, override]) == 2
    assert message in capsys.readouterr().err


def test_unconditional_run_cannot_monitor_l1(
    tmp_path: Path, make_tiny: Callable[..., list[str]]
) -> None:
    with pytest.raises(ConfigError, match="Set task.monitor: null"):  # at load, not at build
        load_config(DCGAN, make_tiny(tmp_path) + ["task.monitor=val/l1"])


def test_evaluation_noise_belongs_to_the_item_not_the_batch(
    tmp_path: Path, make_tiny: Callable[..., list[str]]
) -> None:
    """Item i gets the same latent vector in any batch layout, so a 2-process validation
    generates what a 1-process one does."""
    task = GANTask(load_config(DCGAN, make_tiny(tmp_path)).to_dict())
    whole = task.item_noise(torch.tensor([0, 1, 2, 3]))
    torch.testing.assert_close(task.item_noise(torch.tensor([2, 0])), whole[[2, 0]])
    assert not torch.equal(whole[0], whole[1])
