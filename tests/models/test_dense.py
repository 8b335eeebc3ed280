"""DenseModel: real encoders x every decoder, any input size, padding and error messages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from densepred.core.errors import ConfigError
from densepred.decoders import DECODERS
from densepred.models import DenseModel

ENCODERS = ["mobilenet_v3_large", "resnet18", "efficientnet_b0", "mobilenet_v1", "mixnet_s"]
CASES = [(encoder, 32) for encoder in ENCODERS] + [
    (encoder, output_stride) for encoder in ENCODERS[:2] for output_stride in (16, 8)
]


@pytest.fixture(autouse=True, scope="module")
def single_thread() -> Iterator[None]:
    """One intra-op thread: on the shared 2-core test machines a second one mostly spin-waits
    for a core (this module ran 10x slower with two)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def check_forward_backward(model: DenseModel, size: tuple[int, int]) -> None:
    """Output has the input's size and the loss's gradient reaches the encoder's stem."""
    model.zero_grad()
    out = model(torch.randn(2, 3, *size))
    assert out.shape == (2, 1, *size)
    out.log().mean().backward()
    stem = next(model.encoder.parameters())
    assert stem.grad is not None and stem.grad.abs().sum() > 0


@pytest.mark.parametrize("decoder", DECODERS.names())
@pytest.mark.parametrize(("encoder", "output_stride"), CASES, ids=[f"{e}-os{s}" for e, s in CASES])
def test_encoder_decoder_matrix(encoder: str, output_stride: int, decoder: str) -> None:
    model = DenseModel(encoder, decoder, encoder_args={"output_stride": output_stride})
    assert model.output_stride == output_stride
    check_forward_backward(model, (64, 64))
    check_forward_backward(model, (65, 97))


@pytest.fixture(scope="module")
def model() -> DenseModel:
    return DenseModel("mobilenet_v3_large", "unet", decoder_args={"channels": (32, 24, 16, 8, 8)})


@pytest.mark.parametrize("size", [(33, 200), (1, 1), (31, 33), (128, 160)])
def test_any_input_size(model: DenseModel, size: tuple[int, int]) -> None:
    with torch.no_grad():
        assert model(torch.randn(2, 3, *size)).shape == (2, 1, *size)


def test_pads_bottom_right_with_replicate(model: DenseModel) -> None:
    """An odd input gives the same prediction as its replicate-padded version, cropped."""
    model.eval()
    x = torch.randn(1, 3, 45, 70)
    padded = F.pad(x, (0, 26, 0, 19), mode="replicate")  # 64 x 96, a multiple of 32
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(padded)[..., :45, :70])


def test_parts_and_head_args() -> None:
    model = DenseModel(
        "mobilenet_v3_large",
        "aspp",
        "segmentation",
        encoder_args={"output_stride": 16},
        decoder_args={"channels": 32, "separable": True},
        head_args={"num_classes": 4},
    )
    assert model.decoder.out_reduction == 4 and model.head.out_channels == 4
    assert model.encoder.channels == [16, 24, 40, 112, 960]
    with torch.no_grad():
        assert model(torch.randn(2, 3, 50, 70)).shape == (2, 4, 50, 70)


class ToyEncoder(nn.Module):
    """Two strided convs, with the feature contract of densepred encoders."""

    channels = [4, 8]
    reductions = [2, 4]

    def __init__(self) -> None:
        super().__init__()
        self.down1 = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.down2 = nn.Conv2d(4, 8, 3, stride=2, padding=1)

    def forward(self, x: Tensor) -> list[Tensor]:
        f1 = self.down1(x)
        return [f1, self.down2(f1)]


def test_encoder_module() -> None:
    model = DenseModel(ToyEncoder(), "unet", decoder_args={"channels": (8, 4)})
    assert model.output_stride == 4
    assert model(torch.randn(2, 3, 13, 17)).shape == (2, 1, 13, 17)


def test_encoder_module_without_channels() -> None:
    with pytest.raises(ConfigError, match="has no `channels` and `reductions`"):
        DenseModel(nn.Conv2d(3, 8, 3))


def test_encoder_args_need_an_encoder_name() -> None:
    with pytest.raises(ConfigError, match="only apply to an encoder given by name"):
        DenseModel(ToyEncoder(), encoder_args={"output_stride": 16})


def test_unknown_decoder_name() -> None:
    with pytest.raises(ConfigError, match="Unknown decoder 'fastdeph'. Did you mean 'fastdepth'"):
        DenseModel(ToyEncoder(), "fastdeph")


def test_unknown_decoder_option() -> None:
    with pytest.raises(ConfigError, match="model.decoder_args: Unknown key 'chanels'.*channels"):
        DenseModel(ToyEncoder(), "unet", decoder_args={"chanels": (8, 4)})


def test_unknown_head_option() -> None:
    with pytest.raises(ConfigError, match="model.head_args: Unknown key 'num_class'"):
        DenseModel(
            ToyEncoder(),
            "unet",
            "segmentation",
            decoder_args={"channels": (8, 4)},
            head_args={"num_class": 3},
        )
