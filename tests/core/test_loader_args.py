"""refuse_loader_args: encoder options that choose weights or a file are refused by name."""

from __future__ import annotations

import pytest

from densepred.core.errors import ConfigError
from densepred.core.loader_args import loader_keys, refuse_loader_args

TIMM_LOADERS = [
    "pretrained",
    "pretrained_cfg",
    "pretrained_cfg_overlay",
    "checkpoint_path",
    "cache_dir",
]


@pytest.mark.parametrize(
    "key", [*TIMM_LOADERS, "encoder_weights", "hf_hub_id", "file", "weights_url"]
)
def test_keys_that_load_are_refused_by_name(key: str) -> None:
    with pytest.raises(ConfigError) as info:
        refuse_loader_args({"drop_rate": 0.1, key: "x"}, "model.encoder_args")
    assert str(info.value).startswith(f"model.encoder_args.{key} is refused")
    assert "Set model.pretrained" in str(info.value)


def test_architecture_options_pass() -> None:
    args = {"drop_rate": 0.1, "drop_path_rate": 0.2, "act_layer": "relu", "global_pool": "avg"}
    assert refuse_loader_args(args, "model.encoder_args") == args


def test_densepred_own_keys_may_be_allowed() -> None:
    assert loader_keys(
        {"pretrained": "w.pth", "checkpoint_path": "x"}, allowed=("pretrained",)
    ) == ["checkpoint_path"]
    with pytest.raises(ConfigError, match="Set model.discriminator_args.pretrained"):
        refuse_loader_args({"cache_dir": "x"}, "model.discriminator_args", allowed=("pretrained",))


def test_every_path_argument_of_timm_create_model_is_covered() -> None:
    """A timm release that adds a loading argument to create_model must be added here."""
    import inspect

    import timm

    names = [
        p
        for p in inspect.signature(timm.create_model).parameters
        if p not in ("model_name", "kwargs")
    ]
    loading = [n for n in names if n not in ("scriptable", "exportable", "no_jit")]
    assert loader_keys(dict.fromkeys(loading)) == loading
