"""Converter limits and failures become messages naming the layer and a working alternative."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from densepred.export.diagnose import ExportError, check_known_limits, converter_error


class Up(nn.Module):
    def __init__(self, **kwargs) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.decoder = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(4, 4, 3, stride=2, **kwargs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.stem(x))


@pytest.mark.parametrize("kwargs", [{"dilation": 2}, {"padding": 1, "output_padding": 1}])
def test_known_tflite_limits_name_layer_and_alternative(kwargs: dict) -> None:
    with pytest.raises(
        ExportError, match=r"layer 'decoder\.1' \(ConvTranspose2d\).*upsample=bilinear"
    ):
        check_known_limits(Up(**kwargs), "tflite")
    check_known_limits(Up(**kwargs), "onnx")  # ONNX has no such limit
    check_known_limits(Up(), "tflite")  # plain transposed conv converts


def test_converter_message_is_mapped_to_the_layer() -> None:
    """A converter error that mentions a graph node names the module that made the node."""
    model, x = Up().eval(), torch.randn(1, 3, 8, 8)
    nodes = [
        n.name for n in torch.export.export(model, (x,)).graph.nodes if "conv_transpose" in n.name
    ]
    error = converter_error(
        RuntimeError(f"failed to legalize operation at {nodes[0]}"), model, x, "tflite"
    )
    assert "layer 'decoder.1' (ConvTranspose2d)" in str(error) and "upsample=bilinear" in str(error)
    assert "Traceback" not in str(error)


def test_unmapped_converter_error_still_suggests_alternatives() -> None:
    model, x = Up().eval(), torch.randn(1, 3, 8, 8)
    error = converter_error(ValueError("something\ninternal broke"), model, x, "tflite")
    assert "internal broke" in str(error) and "--format onnx" in str(error)


@pytest.mark.slow
@pytest.mark.parametrize("kwargs", [{"dilation": 2}, {"padding": 1, "output_padding": 1}])
def test_known_limits_are_real_converter_failures(kwargs: dict, tmp_path) -> None:
    """The layers rejected up front do fail inside litert-torch (checked with 0.10): drop a limit
    from KNOWN_LIMITS when this starts to fail."""
    litert_torch = pytest.importorskip("litert_torch")
    with pytest.raises(Exception, match="mhlo.convolution"):
        litert_torch.convert(Up(**kwargs).eval(), (torch.randn(1, 3, 8, 8),))
