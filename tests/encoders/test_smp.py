"""densepred encoders inside segmentation-models-pytorch models: registration, weights (a local
file; timm's hub weights), preprocessing parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import segmentation_models_pytorch as smp
import timm
import torch
from safetensors.torch import save_file

from densepred.core.errors import WeightsError
from densepred.encoders import (
    ENCODER_ALIASES,
    SMP_PREFIX,
    list_encoders,
    register_smp_encoders,
    smp_support,
)
from densepred.encoders.normalization import pretrained_normalization
from densepred.encoders.smp_support import SmpEncoder


@pytest.fixture(autouse=True)
def _registered() -> None:
    register_smp_encoders()


def test_every_friendly_name_is_registered() -> None:
    names = smp.encoders.get_encoder_names()
    assert all(SMP_PREFIX + name in names for name in list_encoders())


def test_registration_is_idempotent() -> None:
    before = dict(smp.encoders.encoders)
    assert register_smp_encoders() == register_smp_encoders()
    assert smp.encoders.encoders == before


@pytest.mark.parametrize(
    ("architecture", "name", "in_channels"),
    [
        (smp.Unet, "mobilenet_v3_large", 3),
        (smp.FPN, "resnet18", 1),
        (smp.DeepLabV3Plus, "mobilenet_v3_large", 3),
        (smp.DeepLabV3Plus, "mixnet_s", 4),
        (smp.Linknet, "efficientnet_b0", 3),
    ],
)
def test_forward_and_backward(architecture: type, name: str, in_channels: int) -> None:
    model = architecture(
        encoder_name=SMP_PREFIX + name, encoder_weights=None, in_channels=in_channels, classes=2
    )
    assert isinstance(model.encoder, SmpEncoder)
    out = model(torch.randn(2, in_channels, 64, 64))
    out.mean().backward()
    assert out.shape == (2, 2, 64, 64)
    assert all(p.grad is not None for p in model.encoder.parameters())


def test_deeplab_encoder_is_dilated_to_16() -> None:
    model = smp.DeepLabV3Plus(encoder_name=SMP_PREFIX + "resnet18", encoder_weights=None)
    features = model.encoder(torch.randn(1, 3, 64, 64))
    assert model.encoder.output_stride == 16
    assert [f.shape[-1] for f in features] == [64, 32, 16, 8, 4, 4]


@pytest.fixture(scope="module")
def classifier() -> torch.nn.Module:
    torch.manual_seed(0)
    return timm.create_model("mobilenetv3_small_100")


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_local_weights_file_loads_into_the_encoder(
    classifier: torch.nn.Module, suffix: str, tmp_path: Path
) -> None:
    path = tmp_path / f"w{suffix}"
    state = classifier.state_dict()
    torch.save(state, path) if suffix == ".pth" else save_file(state, str(path))
    model = smp.Unet(encoder_name=SMP_PREFIX + "mobilenet_v3_small", encoder_weights=str(path))
    assert torch.equal(model.encoder.model.conv_stem.weight, classifier.conv_stem.weight)
    assert torch.equal(
        model.encoder.model.blocks[3][0].conv_pw.weight, classifier.blocks[3][0].conv_pw.weight
    )
    grey = smp.FPN(
        encoder_name=SMP_PREFIX + "mobilenet_v3_small", encoder_weights=path, in_channels=1
    )
    summed = classifier.conv_stem.weight.sum(dim=1, keepdim=True)  # smp adapts the first conv
    assert torch.allclose(grey.encoder.model.conv_stem.weight, summed)


def test_bad_weights_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=r"weights file '.*missing.pth' does not exist"):
        smp.Unet(
            encoder_name=SMP_PREFIX + "mobilenet_v3_small",
            encoder_weights=str(tmp_path / "missing.pth"),
        )
    other = tmp_path / "resnet.pth"
    torch.save(timm.create_model("resnet18").state_dict(), other)
    with pytest.raises(
        WeightsError, match=r"'.*resnet.pth' does not match timm model 'mobilenetv3_small_100'"
    ):
        smp.Unet(encoder_name=SMP_PREFIX + "mobilenet_v3_small", encoder_weights=str(other))
    with pytest.raises(KeyError, match=r"Wrong pretrained weights `imagenet22k`.*\['imagenet'\]"):
        smp.Unet(encoder_name=SMP_PREFIX + "mobilenet_v3_small", encoder_weights="imagenet22k")


@pytest.mark.parametrize("weights", ["imagenet", True])
def test_imagenet_asks_timm_for_its_hub_weights(
    weights: object, classifier: torch.nn.Module, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The download itself is not exercised: timm's hub weights are replaced by a local model."""
    calls = []

    def hub_state_dict(name: str) -> dict[str, torch.Tensor]:
        calls.append(name)
        return classifier.state_dict()

    monkeypatch.setattr(smp_support, "hub_state_dict", hub_state_dict)
    model = smp.Unet(encoder_name=SMP_PREFIX + "mobilenet_v3_small", encoder_weights=weights)
    assert calls == ["mobilenetv3_small_100"]
    assert torch.equal(model.encoder.model.conv_stem.weight, classifier.conv_stem.weight)


@pytest.mark.parametrize("name", list_encoders())
def test_preprocessing_params_are_timms_offline(name: str) -> None:
    params = smp.encoders.get_preprocessing_params(SMP_PREFIX + name)
    mean, std = pretrained_normalization(name)
    assert params == {
        "input_space": "RGB",
        "input_range": [0, 1],
        "mean": list(mean),
        "std": list(std),
    }
    normalise = smp.encoders.get_preprocessing_fn(SMP_PREFIX + name)
    assert np.allclose(normalise(np.full((1, 1, 3), 0.5)), (0.5 - np.array(mean)) / np.array(std))


def test_other_encoders_reach_smp_unchanged() -> None:
    assert smp.encoders.get_preprocessing_params("tu-resnet18")["std"] == [0.229, 0.224, 0.225]
    with pytest.raises(ValueError, match="Available pretrained options"):
        smp.encoders.get_preprocessing_params("resnet18", pretrained="no-such-weights")


def test_every_friendly_encoder_takes_classifier_weights() -> None:
    """A timm classifier's keys cover each registered encoder's feature stages (meta device)."""
    for name, timm_name in ENCODER_ALIASES.items():
        with torch.device("meta"):
            encoder = SmpEncoder(timm_name)
            classifier_keys = set(timm.create_model(timm_name).state_dict())
        missing = [
            k for k in encoder.state_dict() if k.removeprefix("model.") not in classifier_keys
        ]
        assert not missing, (name, missing[:3])


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "resnet18"])
def test_alias_and_timm_universal_encoder_share_keys(name: str) -> None:
    """A densepred-<name> model and smp's tu-<timm name> model hold the same tensors."""
    with torch.device("meta"):
        ours = smp.Unet(encoder_name=SMP_PREFIX + name, encoder_weights=None).state_dict()
        theirs = smp.Unet(
            encoder_name="tu-" + ENCODER_ALIASES[name], encoder_weights=None
        ).state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}
