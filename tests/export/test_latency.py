"""Latency in the deployment runtimes, and sweeps that measure in them."""

from __future__ import annotations

import pytest

from densepred.ablation.sweep import BenchmarkSettings
from densepred.ablation.trial import measure_model
from densepred.export.diagnose import ExportError
from densepred.export.latency import format_for, runtime_latency
from densepred.export.runtimes import RUNTIMES


@pytest.mark.parametrize(
    "runtime",
    [pytest.param(r, marks=pytest.mark.slow) if r == "tflite" else r for r in RUNTIMES.names()],
)  # TFLite conversion is slow; its parity test runs by default (test_formats)
def test_every_runtime_times_each_thread_count(build_task, runtime: str) -> None:
    fmt = format_for(runtime)
    if fmt is not None:
        from densepred.export.formats import EXPORT_FORMATS

        for module in EXPORT_FORMATS.get(fmt).requires:
            pytest.importorskip(module, reason='needs the export extra: pip install -e ".[export]"')
    rows = runtime_latency(
        build_task([]).model, (1, 3, 64, 80), runtime, [1, 2], warmup=0, repeats=2
    )
    assert [r["threads"] for r in rows] == [1, 2]
    assert all(r["runtime"] == runtime and r["median_ms"] > 0 for r in rows)


def test_unknown_runtime_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="Unknown runtime 'tfl'"):
        BenchmarkSettings(runtime="tfl")


def test_sweep_mai_latency_in_onnxruntime(tiny_config) -> None:
    for module in ("onnxruntime", "onnxscript"):
        pytest.importorskip(module, reason='needs the export extra: pip install -e ".[export]"')
    bench = BenchmarkSettings(
        sizes=[(96, 128)], threads=1, warmup=0, repeats=1, runtime="onnxruntime", mai=True
    )
    out = measure_model(tiny_config([]), bench)
    assert out["latency_runtime"] == "onnxruntime (MAI contract)"
    assert (
        out["latency_ms_128x96"] > 0 and out["latency_ms_train"] > 0 and "export_error" not in out
    )


def test_failed_export_keeps_the_trial_and_records_the_error(tiny_config, monkeypatch) -> None:
    import densepred.export.latency as latency

    def fail(*args, **kwargs):
        raise ExportError("cannot export to tflite: layer 'x' (ConvTranspose2d): ...")

    monkeypatch.setattr(latency, "convert", fail)
    monkeypatch.setattr("densepred.export.formats.require", lambda module: None)  # extra or not
    bench = BenchmarkSettings(sizes=[(96, 128)], threads=1, warmup=0, repeats=1, runtime="tflite")
    out = measure_model(tiny_config([]), bench)
    assert "layer 'x'" in out["export_error"]
    assert "latency_ms_128x96" not in out and out["macs_g_128x96"] > 0 and out["params_m"] > 0
