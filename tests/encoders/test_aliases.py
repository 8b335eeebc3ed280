"""Friendly names, timm names and the unknown-name error."""

from __future__ import annotations

import pytest
import timm

from densepred.core.errors import ConfigError
from densepred.encoders import ENCODER_ALIASES, list_encoders, resolve_encoder_name


def test_list_encoders_is_sorted_and_complete() -> None:
    names = list_encoders()
    assert names == sorted(ENCODER_ALIASES)
    for required in (
        "mobilenet_v1",
        "mobilenet_v3_small_minimal",
        "efficientnet_b7",
        "efficientnetv2_l",
        "resnet101",
        "mixnet_l",
    ):
        assert required in names


@pytest.mark.parametrize("name", list_encoders())
def test_friendly_names_map_to_timm_models(name: str) -> None:
    assert timm.is_model(resolve_encoder_name(name))


def test_published_aliases() -> None:
    assert resolve_encoder_name("mobilenet_v3_large") == "mobilenetv3_large_100"
    assert resolve_encoder_name("mobilenet_v3_small_minimal") == "tf_mobilenetv3_small_minimal_100"


@pytest.mark.parametrize("name", ["convnext_atto", "resnet18.a1_in1k"])
def test_timm_names_pass_through(name: str) -> None:
    assert resolve_encoder_name(name) == name


@pytest.mark.parametrize(
    ("typo", "hint"),
    [
        ("mobilenet_v3_larg", "'mobilenet_v3_large'"),
        ("mobilenetv3_large_10", "'mobilenetv3_large_100'"),
        ("resnet19", "'resnet18'"),
    ],
)
def test_unknown_name_suggests_friendly_and_timm_names(typo: str, hint: str) -> None:
    with pytest.raises(ConfigError, match=f"Unknown encoder '{typo}'") as err:
        resolve_encoder_name(typo)
    assert "Did you mean" in str(err.value)
    assert hint in str(err.value).split("Valid")[0]
    assert "timm.list_models()" in str(err.value)
    listed = str(err.value).split("Valid encoders: ")[1].split(". Any")[0].split(", ")
    assert len(listed) == len(set(listed)), "each valid name is listed once"
