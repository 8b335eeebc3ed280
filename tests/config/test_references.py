"""The second validation pass: every name and every ``*_args`` mapping is checked at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from densepred.app.config import load_config
from densepred.core.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize(
    ("config", "override", "match"),
    [
        ("depth_mbv3_unet", "model.decoder_args.chanels=[8]", r"model\.decoder_args: Unknown key 'chanels'"),
        ("depth_mbv3_unet", "model.decoder_args.encoder_channels=[8]", "set by densepred"),
        ("depth_mbv3_unet", "model.head_args.activaton=exp", r"model\.head_args: Unknown key 'activaton'"),
        ("depth_mbv3_unet", "model.encoder_args.drop_rat=0.1", r"model\.encoder_args: .*drop_rat"),
        ("depth_mbv3_unet", "task.loss_args.silog.lamb=0.5", r"task\.loss_args\.silog: Unknown key 'lamb'"),
        ("seg_mbv3_smp_fpn", "model.decoder_args.decoder_pyramid_chanels=64", "decoder_pyramid_chanels"),
        ("gan_dcgan", "model.generator_args.latent=8", r"model\.generator_args: Unknown key 'latent'"),
        ("gan_pix2pix_depth2rgb", "model.discriminator_args.layers=2", r"model\.discriminator_args: Unknown key 'layers'"),
        ("depth_mbv3_unet", "model.decoder=unet2", "Unknown decoder 'unet2'"),
        ("depth_mbv3_unet", "model.encoder=mobilenet_v9", "Unknown encoder 'mobilenet_v9'"),
        ("depth_mbv3_unet", "task.losses={silg: 1}", "Unknown depth loss 'silg'"),
        ("gan_dcgan", "task.adversarial_loss=hing", "Unknown GAN loss 'hing'"),
        ("depth_mbv3_unet", "data.format=camvid", "provides mask targets, not depth"),
    ],
)
def test_a_bad_name_or_argument_fails_at_load(config: str, override: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(CONFIGS / f"{config}.yaml", [override])


def test_good_arguments_pass() -> None:
    config = load_config(
        CONFIGS / "depth_mbv3_unet.yaml",
        ["model.encoder_args.drop_rate=0.1", "task.loss_args.silog.lambd=0.5", "model.head_args={}"],
    )
    assert config.model.encoder_args == {"drop_rate": 0.1}
