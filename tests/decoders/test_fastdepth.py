"""FastDepth (NNConv5) decoder options: skip modes, projections, channels."""

from __future__ import annotations

import pytest
from torch import nn

from densepred.core.errors import ConfigError
from densepred.decoders import FastDepthDecoder

CHANNELS = [8, 12, 16, 24, 40]
REDUCTIONS = [2, 4, 8, 16, 32]
SMALL = (24, 16, 12, 8, 4)


@pytest.mark.parametrize("skip", ["add", "concat", "none"])
def test_fastdepth_skip_modes(skip: str, make_features) -> None:
    decoder = FastDepthDecoder(CHANNELS, REDUCTIONS, SMALL, skip=skip)
    features = make_features(CHANNELS, REDUCTIONS, (32, 64))
    out = decoder(features)
    assert out.shape == (2, decoder.out_channels, 32, 64) and decoder.out_reduction == 1
    assert decoder.out_channels == 4
    out.mean().backward()
    reached = [f.grad is not None for f in features[:-1]]
    assert reached == [skip != "none"] * 4


def test_fastdepth_add_projects_only_when_channels_differ() -> None:
    # Skips at strides 16, 8, 4, 2 have 24, 16, 12, 8 channels; the blocks give 24, 16, 16, 16.
    decoder = FastDepthDecoder(CHANNELS, REDUCTIONS, (24, 16, 16, 16, 4), skip="add")
    projected = [not isinstance(block.proj, nn.Identity) for block in decoder.blocks]
    assert projected == [False, False, True, True, False]


def test_fastdepth_concat_widens_next_block() -> None:
    decoder = FastDepthDecoder(CHANNELS, REDUCTIONS, SMALL, skip="concat")
    widths = [block.out_channels for block in decoder.blocks]
    assert widths == [24 + 24, 16 + 16, 12 + 12, 8 + 8, 4]


def test_fastdepth_blocks_are_depthwise_5x5() -> None:
    decoder = FastDepthDecoder(CHANNELS, REDUCTIONS, SMALL)
    depthwise = [m for m in decoder.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert len(depthwise) == 5
    assert all(m.kernel_size == (5, 5) and m.groups == m.in_channels for m in depthwise)


def test_fastdepth_dilated_encoder(make_features) -> None:
    reductions = [2, 4, 8, 16, 16]
    decoder = FastDepthDecoder(CHANNELS, reductions, SMALL)
    assert [block.up.factor for block in decoder.blocks] == [1, 2, 2, 2, 2]
    assert decoder(make_features(CHANNELS, reductions, (32, 48))).shape == (2, 4, 32, 48)


def test_fastdepth_errors() -> None:
    with pytest.raises(ConfigError, match="Valid fastdepth skip modes: add, concat, none"):
        FastDepthDecoder(CHANNELS, REDUCTIONS, skip="sum")
    with pytest.raises(ConfigError, match="fastdepth decoder: channels"):
        FastDepthDecoder(CHANNELS, REDUCTIONS, channels=(64, 32))
