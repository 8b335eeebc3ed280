"""Parameter, MAC and latency measurement, table writers and the benchmark CLI."""

from __future__ import annotations

import csv
import io

import pytest
import torch
from torch import nn

from densepred.core.benchmark import (
    benchmark_module,
    count_macs,
    count_parameters,
    csv_table,
    markdown_table,
    measure_latency,
)
from densepred.encoders.benchmark import benchmark_encoders


def test_count_parameters_of_a_conv() -> None:
    conv = nn.Conv2d(3, 8, kernel_size=3)
    assert count_parameters(conv) == 8 * 3 * 3 * 3 + 8
    conv.bias.requires_grad_(False)
    assert count_parameters(conv, trainable_only=True) == 8 * 3 * 3 * 3


@pytest.mark.parametrize(
    ("conv", "macs"),
    [
        # out 8 x 16 x 16, each output: 3 x 3 x 3 multiply-accumulates
        (nn.Conv2d(3, 8, 3, stride=2, padding=1), 8 * 16 * 16 * 3 * 3 * 3),
        # depthwise: each of the 16 outputs sees one input channel
        (nn.Conv2d(16, 16, 3, padding=1, groups=16), 16 * 32 * 32 * 3 * 3),
        # transposed 2x2 stride 2: every input pixel feeds 4 output pixels of 8 channels
        (nn.ConvTranspose2d(16, 8, 2, stride=2), 16 * 32 * 32 * 8 * 2 * 2),
    ],
)
def test_count_macs_matches_hand_count(conv: nn.Module, macs: int) -> None:
    assert count_macs(conv, (1, conv.in_channels, 32, 32)) == macs


def test_count_macs_restores_training_mode() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4)).train()
    assert count_macs(model, (2, 3, 8, 8)) == 2 * 4 * 8 * 8 * 3
    assert model.training


def test_measure_latency_sets_and_restores_threads() -> None:
    before = torch.get_num_threads()
    seen: list[int] = []
    model = nn.Conv2d(3, 4, 3)
    model.register_forward_hook(lambda *_: seen.append(torch.get_num_threads()))
    result = measure_latency(model, (1, 3, 16, 16), warmup=2, repeats=5, threads=1)
    assert torch.get_num_threads() == before
    assert seen == [1] * 7  # warm-up runs included in the calls, not in the timings
    assert result["threads"] == 1 and result["repeats"] == 5
    assert 0 < result["min_ms"] <= result["median_ms"] <= result["p90_ms"]


def test_benchmark_rows() -> None:
    row = benchmark_module("conv", nn.Conv2d(1, 2, 1), (4, 6), in_channels=1, warmup=0, repeats=1)
    assert row["name"] == "conv" and row["input"] == "4x6"
    assert row["params_m"] == pytest.approx(4e-6)
    assert row["macs_g"] == pytest.approx(2 * 4 * 6 * 1e-9)
    (enc,) = benchmark_encoders(["mobilenet_v3_small"], (32, 32), warmup=0, repeats=1, threads=1)
    (cls,) = benchmark_encoders(
        ["mobilenet_v3_small"], (32, 32), include_top=True, warmup=0, repeats=1, threads=1
    )
    assert 0 < enc["params_m"] < cls["params_m"]


ROWS = [{"name": "a", "ms": 1.23456, "n": 3}, {"name": "b", "ms": 2.0, "extra": "x"}]


def test_markdown_table() -> None:
    assert markdown_table(ROWS) == (
        "| name | ms | n | extra |\n|---|---|---|---|\n| a | 1.23 | 3 |  |\n| b | 2.00 |  | x |\n"
    )
    assert (
        markdown_table(ROWS, columns=["ms"], floatfmt=".1f") == "| ms |\n|---|\n| 1.2 |\n| 2.0 |\n"
    )


def test_csv_table_round_trips() -> None:
    parsed = list(csv.DictReader(io.StringIO(csv_table(ROWS))))
    assert parsed[0] == {"name": "a", "ms": "1.23456", "n": "3", "extra": ""}
    assert parsed[1]["extra"] == "x"
