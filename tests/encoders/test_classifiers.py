"""Classification mode (include_top=True) against published ImageNet model sizes."""

from __future__ import annotations

import pytest
import torch

from densepred.core.benchmark import count_macs, count_parameters
from densepred.encoders import create_encoder, list_encoders
from densepred.encoders.aliases import family_representatives

# Published parameter counts (millions) of the 1000-class ImageNet models, REFERENCE.md section 5:
# tf slim mobilenet_v1.md (V1), torchvision model tables (V2, V3, EfficientNet-B0, ResNets),
# tf slim mobilenet README (V3-Small), MixNet paper / tensorflow tpu repo (MixNet).
PUBLISHED_PARAMS_M = {
    "mobilenet_v1": 4.24,
    "mobilenet_v2": 3.50,
    "mobilenet_v3_large": 5.48,
    "mobilenet_v3_small": 2.54,
    "efficientnet_b0": 5.29,
    "resnet18": 11.69,
    "resnet50": 25.56,
    "mixnet_s": 4.1,
    "mixnet_m": 5.0,
    "mixnet_l": 7.3,
}

# Published MACs (millions) at 224x224, same sources; the MobileNets are almost all depthwise
# and pointwise convolutions, so they check that depthwise convolutions are counted correctly.
PUBLISHED_MACS_M = {"mobilenet_v1": 569, "mobilenet_v2": 300}


@pytest.mark.parametrize(("name", "published"), PUBLISHED_PARAMS_M.items())
def test_parameter_count_matches_published(name: str, published: float) -> None:
    with torch.device("meta"):
        model = create_encoder(name, include_top=True, num_classes=1000)
    assert count_parameters(model) / 1e6 == pytest.approx(published, rel=0.05)


@pytest.mark.parametrize(("name", "published"), PUBLISHED_MACS_M.items())
def test_mac_count_matches_published(name: str, published: int) -> None:
    model = create_encoder(name, include_top=True)
    assert count_macs(model, (1, 3, 224, 224)) / 1e6 == pytest.approx(published, rel=0.02)


@pytest.mark.parametrize(
    "name",
    [
        n if n in family_representatives() else pytest.param(n, marks=pytest.mark.slow)
        for n in list_encoders()
    ],
)
def test_new_classifier_layer_has_fan_in_init(name: str) -> None:
    """A freshly made classifier layer is drawn from U(+-1/sqrt(fan_in)), whatever the class count.

    timm's EfficientNet-family init uses U(+-1/sqrt(num_classes)): for 3 classes MobileNetV2
    started with logits about 6 wide (val loss 21) and its training stalled near chance.
    """
    model = create_encoder(name, include_top=True, num_classes=3)
    layer = model.get_classifier()
    assert layer.weight.abs().max() <= layer.in_features**-0.5


def test_few_class_classifier_starts_near_uniform() -> None:
    torch.manual_seed(0)
    model = create_encoder("mobilenet_v2", include_top=True, num_classes=3)
    logits = model(torch.randn(8, 3, 64, 64))
    loss = torch.nn.functional.cross_entropy(logits, torch.zeros(8, dtype=torch.long))
    assert loss.item() < 1.5  # ln 3 = 1.10; timm's own init gave 5-20
