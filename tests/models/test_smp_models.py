"""smp architectures by name on densepred encoders: any input size, config wiring, weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import timm
import torch

from densepred.app.config import config_from_dict
from densepred.config.model import DenseModelConfig
from densepred.core.errors import ConfigError
from densepred.models.config import build_dense_model
from densepred.models.smp_models import SMP_ARCHITECTURES, SmpModel, create_smp_model

ENCODER = "mobilenet_v3_small"


@pytest.mark.parametrize(
    ("name", "stride"),
    [("smp.FPN", 32), ("smp.Unet", 32), ("smp.DeepLabV3Plus", 16), ("smp.DeepLabV3", 8)],
)
def test_any_input_size_gives_class_logits_at_input_size(name: str, stride: int) -> None:
    model = create_smp_model(name, ENCODER, num_classes=4, output_stride=stride).eval()
    assert model.output_stride == stride
    with torch.no_grad():
        assert model(torch.randn(1, 3, 37, 53)).shape == (1, 4, 37, 53)


def test_every_smp_architecture_is_selectable() -> None:
    assert {"smp.FPN", "smp.DeepLabV3Plus", "smp.Unet", "smp.PSPNet"} <= set(SMP_ARCHITECTURES)


def test_config_accepts_smp_names_and_dispatches() -> None:
    cfg = DenseModelConfig(
        encoder=ENCODER, decoder="smp.FPN", decoder_args={"decoder_segmentation_channels": 32}
    )
    model = build_dense_model(cfg, head="segmentation", num_classes=3)
    assert isinstance(model, SmpModel) and model.net.decoder is not None
    with pytest.raises(ConfigError, match="Did you mean 'smp.FPN'"):
        config_from_dict({"model": {"decoder": "smp.FNP"}, "task": {"name": "segmentation"}})


@pytest.mark.parametrize("name", ["smp.Unet", "smp.FPN", "smp.DeepLabV3Plus"])
@pytest.mark.parametrize(
    ("head", "defaults", "channels"),
    [
        ("depth", {"min_depth": 0.5, "max_depth": 4.0}, 1),
        ("image", {"out_channels": 3}, 3),
        ("segmentation", {"num_classes": 5}, 5),
    ],
)
def test_densepred_heads_replace_smp_head(
    name: str, head: str, defaults: dict, channels: int
) -> None:
    stride = 16 if name == "smp.DeepLabV3Plus" else 32
    cfg = DenseModelConfig(encoder=ENCODER, decoder=name, output_stride=stride)
    model = build_dense_model(cfg, head=head, **defaults)
    x = torch.randn(2, 3, 45, 61, requires_grad=True)
    y = model(x)
    assert y.shape == (2, channels, 45, 61)
    if head == "depth":
        assert 0.5 <= float(y.min()) and float(y.max()) <= 4.0
    y.mean().backward()
    assert x.grad is not None and model.net.encoder.model.conv_stem.weight.grad is not None


def test_wrong_head_stride_and_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"model.head_args: Unknown key 'max_dept'"):
        build_dense_model(
            DenseModelConfig(encoder=ENCODER, decoder="smp.FPN", head_args={"max_dept": 3.0}),
            head="depth",
            max_depth=10.0,
        )
    with pytest.raises(ConfigError, match="smp.FPN needs an undilated encoder"):
        create_smp_model("smp.FPN", ENCODER, 2, output_stride=16)
    with pytest.raises(
        ConfigError, match=r"smp.DeepLabV3Plus .*model.output_stride=32: .*output stride 8 or 16"
    ):
        create_smp_model("smp.DeepLabV3Plus", ENCODER, 2, output_stride=32)
    with pytest.raises(ConfigError, match=r"Unknown key 'decoder_chanels'.*'decoder_channels'"):
        create_smp_model("smp.Unet", ENCODER, 2, decoder_args={"decoder_chanels": [8, 8, 8, 8, 8]})
    with pytest.raises(ConfigError, match="Unknown key 'classes'"):
        create_smp_model("smp.Unet", ENCODER, 2, decoder_args={"classes": 3})


def test_local_classifier_weights_load_into_the_encoder(tmp_path: Path) -> None:
    torch.manual_seed(0)
    classifier = timm.create_model("mobilenetv3_small_100")
    torch.save(classifier.state_dict(), tmp_path / "w.pth")
    model = create_smp_model("smp.FPN", ENCODER, 2, pretrained=str(tmp_path / "w.pth"))
    stem = model.net.encoder.model.conv_stem.weight
    assert torch.equal(stem, classifier.conv_stem.weight)


def test_encoder_args_and_in_channels_reach_timm() -> None:
    model = create_smp_model(
        "smp.FPN", ENCODER, 2, in_channels=1, encoder_args={"drop_path_rate": 0.1}
    )
    assert model.net.encoder.model.conv_stem.in_channels == 1
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 2, 32, 32)
