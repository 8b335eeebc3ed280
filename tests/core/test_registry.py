"""Registry and keyword checks: "valid keys" lists offer only what a config may set (issue 12,
case 14), and keys densepred fills in itself are refused with a clear message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from densepred.app.config import load_config
from densepred.app.tasks import TASKS
from densepred.core.errors import ConfigError
from densepred.core.registry import Registry, check_kwargs

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
INTERNAL = {
    "self",
    "callbacks",
    "logger",
    "default_root_dir",
    "encoder_channels",
    "encoder_reductions",
    "in_channels",
    "root",
    "split",
    "mode",
    "ignore_index",
    "class_weights",
    "out_channels",
    "image_size",
}
"""Names densepred passes itself somewhere; none may appear in a list of keys offered to users."""

TYPO_SITES = [
    ("depth_mbv3_unet", "trainer.callback"),
    ("depth_mbv3_unet", "trainer.default_root"),
    ("depth_mbv3_unet", "model.decoder_args.encoder_channel"),
    ("depth_mbv3_unet", "model.head_args.in_channel"),
    ("depth_mbv3_unet", "data.args.roots"),
    ("seg_mbv3_unet", "task.loss_args.dice.modes"),
    ("seg_mbv3_smp_fpn", "model.head_args.in_channel"),
    ("gan_dcgan", "model.generator_args.image_sizes"),
    ("gan_dcgan", "model.discriminator_args.in_channel"),
    ("gan_pix2pix_rgb2depth", "model.discriminator_args.in_channel"),
]


def _offered(message: str) -> set[str]:
    """The names a message offers: its 'Did you mean' and 'Valid keys' lists."""
    offered = set(re.findall(r"'(\w+)'", message.split("Did you mean", 1)[-1].split("?")[0]))
    valid = re.search(r"Valid keys: ([^.(]*)", message)
    return offered | ({k.strip() for k in valid.group(1).split(",")} if valid else set())


def _load_and_build(name: str, overrides: list[str]) -> None:
    config = load_config(CONFIGS / f"{name}.yaml", overrides)
    TASKS.get(config.task_name)(config)


@pytest.mark.parametrize(("config", "key"), TYPO_SITES, ids=lambda v: str(v))
def test_valid_key_lists_offer_no_internal_names(config: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load_and_build(config, [f"{key}=1"])
    message = str(err.value)
    assert "Valid keys:" in message, message
    assert not _offered(message) & INTERNAL, message


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ("depth_mbv3_unet", "model.decoder_args.encoder_channels"),
        ("depth_mbv3_unet", "model.head_args.in_channels"),
        ("seg_mbv3_unet", "task.loss_args.dice.ignore_index"),
        ("gan_dcgan", "model.generator_args.image_size"),
        ("gan_pix2pix_rgb2depth", "model.discriminator_args.in_channels"),
    ],
)
def test_internal_keys_are_refused_by_name(config: str, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"{re.escape(key)} is set by densepred"):
        _load_and_build(config, [f"{key}=3"])


def test_build_passes_internal_arguments_and_checks_only_the_others() -> None:
    registry: Registry = Registry("thing")

    @registry.register("pair")
    def pair(size: int, scale: float = 1.0) -> tuple[int, float]:
        return size, scale

    assert registry.build("pair", internal={"size": 3}, scale=2.0) == (3, 2.0)
    with pytest.raises(ConfigError, match=r"thing.args: Unknown key 'sise'. Valid keys: scale\."):
        registry.build("pair", where="thing.args", internal={"size": 3}, sise=2)
    with pytest.raises(ConfigError, match="thing.args.size is set by densepred"):
        check_kwargs(pair, {"size": 4}, "thing.args", internal=["size"])
