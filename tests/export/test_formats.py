"""Every export format, every decoder and the mission's encoder families convert and match PyTorch.

Parametrized over :data:`EXPORT_FORMATS` and :func:`decoder_variants` (every registered decoder,
unet once per upsampling mode, and smp architectures), so a new format or decoder is tested
automatically. One combination per format runs by default; the rest behind ``-m slow``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from densepred.export.formats import EXPORT_FORMATS
from densepred.export.matrix import MATRIX_ENCODERS, decoder_variants
from densepred.export.pipeline import ExportOptions, export_task

REPRESENTATIVE = {"onnx": "unet-transposed", "tflite": "unet-transposed", "pretrained": "smp.FPN"}


def skip_without(fmt: str) -> None:
    """Skip unless the packages of ``fmt`` (the export extra) are installed."""
    for module in EXPORT_FORMATS.get(fmt).requires:
        pytest.importorskip(module, reason='needs the export extra: pip install -e ".[export]"')


def _check(build_task, overrides: list[str], fmt: str, tmp_path: Path) -> None:
    skip_without(fmt)
    out = tmp_path / f"model{EXPORT_FORMATS.get(fmt).suffix}"
    report = export_task(build_task(overrides), ExportOptions(format=fmt), out)
    assert out.exists() and report["passed"]
    saved = json.loads((tmp_path / f"{out.name}.json").read_text())
    assert saved["parity"]["max_rel_diff"] <= 1e-3 and saved["parity"]["si_rmse"] <= 1e-3
    assert saved["parity"]["inputs"] == 5  # 4 validation images + 1 noise input
    assert saved["input_shape"] == [1, 3, 64, 80] and saved["output_shape"] == [1, 1, 64, 80]
    free = ["batch", "height", "width"] if fmt in ("onnx", "pretrained") else []
    assert saved["dynamic_axes"] == free
    for check in saved["parity_free_axes"].values():  # batch of 4, another size
        assert check["max_rel_diff"] <= 1e-3 and check["si_rmse"] <= 1e-3
    assert len(saved["parity_free_axes"]) == (2 if free else 0)
    if fmt == "onnx":
        assert isinstance(saved["opset"], int)


def _cases(fmt: str) -> list:
    return [
        pytest.param(
            fmt,
            label,
            marks=() if label == REPRESENTATIVE[fmt] else pytest.mark.slow,
            id=f"{fmt}-{label}",
        )
        for label in decoder_variants()
    ]


@pytest.mark.parametrize(
    ("fmt", "label"), [c for fmt in EXPORT_FORMATS.names() for c in _cases(fmt)]
)
def test_decoder_exports_match_pytorch(build_task, fmt: str, label: str, tmp_path: Path) -> None:
    _check(build_task, decoder_variants()[label], fmt, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", EXPORT_FORMATS.names())
@pytest.mark.parametrize("encoder", MATRIX_ENCODERS)
def test_encoder_exports_match_pytorch(build_task, fmt: str, encoder: str, tmp_path: Path) -> None:
    _check(build_task, [f"model.encoder={encoder}"], fmt, tmp_path)


def test_onnx_runs_any_batch_and_size_and_carries_metadata(build_task, tmp_path: Path) -> None:
    """The file takes batch 4 and another height and width; its metadata says how to feed it."""
    skip_without("onnx")
    import numpy as np
    import onnxruntime as ort
    import torch

    task = build_task(["model.decoder=unet"])
    out = tmp_path / "model.onnx"
    export_task(task, ExportOptions(format="onnx"), out)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == ["batch", 3, "height", "width"]
    x = np.random.default_rng(0).standard_normal((4, 3, 48, 96)).astype(np.float32)
    with torch.inference_mode():
        expected = task.model(torch.from_numpy(x)).numpy()
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert got.shape == (4, 1, 48, 96) and np.allclose(got, expected, rtol=1e-4, atol=1e-4)
    meta = session.get_modelmeta().custom_metadata_map
    norm = task.config.data.normalize
    assert meta["task"] == "depth" and meta["units"] == "m" and meta["input_layout"] == "NCHW"
    assert json.loads(meta["mean"]) == list(norm.mean) and json.loads(meta["std"]) == list(norm.std)
    assert json.loads(meta["input_size"]) == [64, 80] and json.loads(meta["max_depth"]) == 10.0
