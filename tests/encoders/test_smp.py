"""densepred encoders inside segmentation-models-pytorch models."""

from __future__ import annotations

import pytest
import segmentation_models_pytorch as smp
import torch

from densepred.encoders import SMP_PREFIX, list_encoders, register_smp_encoders
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


def test_encoder_weights_must_be_none() -> None:
    with pytest.raises(KeyError, match="Wrong pretrained weights `imagenet`"):
        smp.Unet(encoder_name=SMP_PREFIX + "resnet18", encoder_weights="imagenet")
