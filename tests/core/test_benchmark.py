"""Parameter, MAC and latency measurement, table writers and the benchmark CLI."""

from __future__ import annotations

import csv
import io
import runpy
from pathlib import Path

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
from densepred.export.wrappers import MAI_RESIZES

TOOL = Path(__file__).resolve().parents[2] / "tools" / "benchmark.py"


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


def test_cli_prints_and_writes_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = runpy.run_path(str(TOOL))["main"]
    csv_path, md_path = tmp_path / "b.csv", tmp_path / "b.md"
    args = [
        "--encoders",
        "mobilenet_v3_small",
        "--size",
        "32",
        "48",
        "--threads",
        "1",
        "--warmup",
        "0",
        "--repeats",
        "1",
    ]
    assert main([*args, "--csv", str(csv_path), "--md", str(md_path)]) == 0
    out = capsys.readouterr().out
    assert "| name | input | params_m | macs_g | runtime | median_ms | p90_ms | threads |" in out
    assert "| mobilenet_v3_small | 32x48 |" in out and "| torch |" in out
    assert md_path.read_text() in out
    assert next(csv.DictReader(csv_path.open()))["threads"] == "1"
    assert main(["--encoders", "mobilenet_v3_larg", "--size", "32", "32"]) == 2
    assert "Did you mean 'mobilenet_v3_large'" in capsys.readouterr().err


def test_cli_compares_config_models_in_one_table(capsys: pytest.CaptureFixture[str]) -> None:
    """The default depth model, an smp.Unet variant of it and their encoder alone, one row each."""
    main = runpy.run_path(str(TOOL))["main"]
    config = str(Path(__file__).resolve().parents[2] / "configs" / "depth_mbv3_unet.yaml")
    small = ["model.encoder=mobilenet_v3_small"]
    args = ["--size", "64", "64", "--threads", "1", "--warmup", "0", "--repeats", "1"]
    smp_args = ["model.decoder=smp.Unet", "model.decoder_args={}"]
    encoder = ["--encoders", "mobilenet_v3_small", "--channels-last", "--rounds", "2"]
    assert (
        main([*args, "--config", config, *small, "--config", config, *small, *smp_args, *encoder])
        == 0
    )
    out = capsys.readouterr().out
    assert "| mobilenet_v3_small | 64x64 |" in out  # the encoder alone, beside the models
    rows = [line for line in out.splitlines() if "| depth_mbv3_unet" in line]
    assert len(rows) == 2
    assert "model.decoder=smp.Unet" in rows[1] and "smp" not in rows[0]
    macs = [float(row.split("|")[4]) for row in rows]
    assert macs[0] < macs[1]  # the default decoder is the lighter one


@pytest.mark.parametrize("resize", list(MAI_RESIZES))
def test_cli_times_the_mai_contract_in_each_runtime_and_thread_count(
    resize: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--mai: RGB at --size in, the network at the training size; one row per runtime and thread count."""
    pytest.importorskip("onnxruntime", reason='needs the export extra: pip install -e ".[export]"')
    pytest.importorskip("onnxscript", reason='needs the export extra: pip install -e ".[export]"')
    main = runpy.run_path(str(TOOL))["main"]
    config = str(Path(__file__).resolve().parents[2] / "configs" / "depth_mbv3_unet.yaml")
    args = [
        "--size",
        "96",
        "128",
        "--warmup",
        "0",
        "--repeats",
        "1",
        "--mai",
        "--mai-resize",
        resize,
    ]
    runtimes = ["--runtime", "torch", "onnxruntime", "--threads", "1", "2"]
    assert main([*args, *runtimes, "--config", config, "data.image_size=[32, 48]"]) == 0
    rows = [
        line.split("|")
        for line in capsys.readouterr().out.splitlines()
        if f"(MAI 96x128 -> 32x48, {resize})" in line
    ]
    assert [(r[5].strip(), r[8].strip()) for r in rows] == [
        ("torch", "1"),
        ("torch", "2"),
        ("onnxruntime", "1"),
        ("onnxruntime", "2"),
    ]
    assert len({r[4] for r in rows}) == 1  # the same graph: the same MACs
