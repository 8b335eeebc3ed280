"""Contract every registered decoder must meet, on synthetic feature maps (no encoder)."""

from __future__ import annotations

import pytest
import torch

from densepred.core.errors import ConfigError
from densepred.decoders import DECODERS

CHANNELS = [8, 12, 16, 24, 40]
REDUCTIONS = {  # plain, and dilated encoders at output stride 16 and 8
    "os32": [2, 4, 8, 16, 32],
    "os16": [2, 4, 8, 16, 16],
    "os8": [2, 4, 8, 8, 8],
}


@pytest.mark.parametrize("reductions", list(REDUCTIONS), ids=list(REDUCTIONS))
@pytest.mark.parametrize("name", DECODERS.names())
def test_decoder_contract(name: str, reductions: str, make_features) -> None:
    red = REDUCTIONS[reductions]
    decoder = DECODERS.build(name, encoder_channels=CHANNELS, encoder_reductions=red)
    assert isinstance(decoder.out_channels, int) and isinstance(decoder.out_reduction, int)
    r = decoder.out_reduction
    with torch.no_grad():
        out = decoder(make_features(CHANNELS, red, (32, 160)))
    assert out.shape == (2, decoder.out_channels, 32 // r, 160 // r)
    features = make_features(CHANNELS, red, (64, 96))
    out = decoder(features)
    assert out.shape == (2, decoder.out_channels, 64 // r, 96 // r)
    out.square().mean().backward()
    assert features[-1].grad is not None and features[-1].grad.abs().sum() > 0
    unused = [n for n, p in decoder.named_parameters() if p.grad is None]
    assert not unused, f"parameters without gradient: {unused}"


@pytest.mark.parametrize("name", DECODERS.names())
def test_decoder_reads_only_channel_lists(name: str, make_features) -> None:
    """Any channel list works: nothing in a decoder assumes a backbone."""
    channels, red = [3, 5, 7, 11, 13], [2, 4, 8, 16, 32]
    decoder = DECODERS.build(name, encoder_channels=channels, encoder_reductions=red)
    out = decoder(make_features(channels, red, (32, 64)))
    assert out.shape[1] == decoder.out_channels


@pytest.mark.parametrize("name", DECODERS.names())
def test_decoder_eval_is_deterministic(name: str, make_features) -> None:
    decoder = DECODERS.build(name, encoder_channels=CHANNELS, encoder_reductions=REDUCTIONS["os32"])
    decoder.eval()
    features = make_features()
    with torch.no_grad():
        assert torch.equal(decoder(features), decoder(features))


@pytest.mark.parametrize("name", DECODERS.names())
def test_decoder_rejects_bad_reductions(name: str) -> None:
    with pytest.raises(ConfigError, match="encoder_reductions"):
        DECODERS.build(name, encoder_channels=CHANNELS, encoder_reductions=[2, 4, 6, 16, 32])
    with pytest.raises(ConfigError, match="same length"):
        DECODERS.build(name, encoder_channels=CHANNELS[:4], encoder_reductions=[2, 4, 8, 16, 32])
