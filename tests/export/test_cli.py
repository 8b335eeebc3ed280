"""tools/export.py end to end on a tiny trained checkpoint: reports, --mai, --int8, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from densepred.cli.main import main
from densepred.export.deps import INSTALL_HINT, install_hint


def _report(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".json").read_text())


def test_mai_onnx_contract(trained_checkpoint: Path, tmp_path: Path, capsys) -> None:
    """One file a submission can use: 1x480x640x3 float RGB 0..255 in, 1x480x640x1 millimetres out."""
    ort = pytest.importorskip("onnxruntime", reason=f"needs the export extra: {INSTALL_HINT}")
    pytest.importorskip("onnxscript", reason=f"needs the export extra: {INSTALL_HINT}")
    out = tmp_path / "mai.onnx"
    assert (
        main(["export", str(trained_checkpoint), "--format", "onnx", "--mai", "--out", str(out)]) == 0
    )
    assert "report:" in capsys.readouterr().out
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (source,), (target,) = session.get_inputs(), session.get_outputs()
    assert source.shape == [1, 480, 640, 3] and source.type == "tensor(float)"
    assert target.shape == [1, 480, 640, 1] and target.type == "tensor(float)"
    report = _report(out)
    assert report["depth_units"] == "mm" and report["network_size"] == [64, 80] and report["passed"]
    # millimetres: the metre model's range (task.min_depth..max_depth) times 1000
    depth = session.run(None, {source.name: np.full((1, 480, 640, 3), 128, np.float32)})[0]
    assert 1.0 <= depth.min() and depth.max() <= 10_000.0 and depth.max() > 10.0


def test_int8_dynamic_onnx_is_smaller_and_scored(trained_checkpoint: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime", reason=f"needs the export extra: {INSTALL_HINT}")
    pytest.importorskip("onnxscript", reason=f"needs the export extra: {INSTALL_HINT}")
    out = tmp_path / "q.onnx"
    assert (
        main(["export", str(trained_checkpoint), "--format", "onnx", "--int8", "dynamic", "--out", str(out)]
        )
        == 0
    )
    check = _report(out)["int8_check"]
    assert check["int8_size_bytes"] == out.stat().st_size < check["float_size_bytes"] / 2
    assert check["metric"] == "mai_si_rmse" and np.isfinite(check["int8_value"])
    assert np.isfinite(check["float_value"])


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["dynamic", "full"])
def test_int8_tflite_is_smaller_and_scored(
    trained_checkpoint: Path, tmp_path: Path, mode: str
) -> None:
    pytest.importorskip("litert_torch", reason=f"needs the export extra: {INSTALL_HINT}")
    out = tmp_path / f"q-{mode}.tflite"
    args = [str(trained_checkpoint), "--format", "tflite", "--int8", mode, "--calibration", "4"]
    assert main(["export", *args, "--out", str(out)]) == 0
    check = _report(out)["int8_check"]
    assert check["int8_size_bytes"] < check["float_size_bytes"] / 2
    assert np.isfinite(check["int8_value"])


def test_parity_failure_exits_non_zero(trained_checkpoint: Path, tmp_path: Path, capsys) -> None:
    """A tolerance below float rounding must fail the command (and still write the report)."""
    pytest.importorskip("onnxruntime", reason=f"needs the export extra: {INSTALL_HINT}")
    pytest.importorskip("onnxscript", reason=f"needs the export extra: {INSTALL_HINT}")
    out = tmp_path / "strict.onnx"
    args = [str(trained_checkpoint), "--format", "onnx", "--out", str(out), "--max-rel-diff", "0"]
    assert main(["export", *args]) == 2
    assert "differs from PyTorch" in capsys.readouterr().err
    assert _report(out)["passed"] is False


def test_missing_extra_names_it(trained_checkpoint: Path, monkeypatch, capsys) -> None:
    """Without the extra the tool says which extra to install, before loading anything."""
    import densepred.export.deps as deps

    real = deps.importlib.import_module

    def fake(name: str, *a):
        if name.startswith(("litert_torch", "ai_edge_litert")):
            raise ImportError(f"No module named '{name}'")
        return real(name, *a)

    monkeypatch.setattr(deps.importlib, "import_module", fake)
    assert main(["export", str(trained_checkpoint), "--format", "tflite"]) == 2
    assert install_hint("tflite") in capsys.readouterr().err


def test_rejects_model_overrides(trained_checkpoint: Path, capsys) -> None:
    pytest.importorskip("onnxruntime", reason=f"needs the export extra: {INSTALL_HINT}")
    pytest.importorskip("onnxscript", reason=f"needs the export extra: {INSTALL_HINT}")
    assert main(["export", str(trained_checkpoint), "model.encoder=resnet18", "--format", "onnx"]) == 2
    assert "only the data section" in capsys.readouterr().err
