"""``densepred benchmark``: tables of parameters, MACs and latency of encoders and configs' models."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from densepred.cli.main import main
from densepred.export.wrappers import MAI_RESIZES


def test_cli_prints_and_writes_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
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
    assert main(["benchmark", *args, "--csv", str(csv_path), "--md", str(md_path)]) == 0
    out = capsys.readouterr().out
    assert "| name | input | params_m | macs_g | runtime | median_ms | p90_ms | threads |" in out
    assert "| mobilenet_v3_small | 32x48 |" in out and "| torch |" in out
    assert md_path.read_text() in out
    assert next(csv.DictReader(csv_path.open()))["threads"] == "1"
    assert main(["benchmark", "--encoders", "mobilenet_v3_larg", "--size", "32", "32"]) == 2
    assert "Did you mean 'mobilenet_v3_large'" in capsys.readouterr().err


def test_cli_compares_config_models_in_one_table(capsys: pytest.CaptureFixture[str]) -> None:
    """The default depth model, an smp.Unet variant of it and their encoder alone, one row each."""
    config = str(Path(__file__).resolve().parents[2] / "configs" / "depth_mbv3_unet.yaml")
    small = ["model.encoder=mobilenet_v3_small"]
    args = ["--size", "64", "64", "--threads", "1", "--warmup", "0", "--repeats", "1"]
    variant = ["--variant", "model.decoder=smp.Unet 'model.decoder_args={}'"]
    encoder = ["--encoders", "mobilenet_v3_small", "--channels-last", "--rounds", "2"]
    assert main(["benchmark", *args, "--config", config, *small, *variant, *encoder]) == 0
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
    assert main(["benchmark", *args, *runtimes, "--config", config, "data.image_size=[32, 48]"]) == 0
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
