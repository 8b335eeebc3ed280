"""Latency in the deployment runtimes, and sweeps that measure in them."""

from __future__ import annotations

import pytest

from densepred.ablation.sweep import BenchmarkSettings
from densepred.ablation.timing import time_points
from densepred.ablation.trial import model_cost
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
        sizes=[(96, 128)], threads=1, warmup=0, repeats=1, rounds=2, runtime="onnxruntime", mai=True
    )
    timing = time_points({"p": tiny_config([])}, bench, log=lambda _: None)
    assert timing["runtime"] == "onnxruntime (MAI contract)" and not timing["errors"]
    rounds = timing["points"]["p"]
    assert len(rounds["latency_ms_128x96"]) == 2 and min(rounds["latency_ms_train"]) > 0


def test_failed_export_keeps_the_other_points_and_records_the_error(
    tiny_config, monkeypatch
) -> None:
    import densepred.ablation.timing as timing_module

    calls: list[int] = []
    real = timing_module.runtime_source

    def fail_second_point(module, x, runtime, folder):
        calls.append(1)
        if len(calls) > 2:  # two sizes per point: the second point's export fails
            raise ExportError("cannot export to tflite: layer 'x' (ConvTranspose2d): ...")
        return real(module, x, runtime, folder)

    monkeypatch.setattr(timing_module, "runtime_source", fail_second_point)
    bench = BenchmarkSettings(sizes=[(96, 128)], threads=1, warmup=0, repeats=1, rounds=1)
    configs = {"ok": tiny_config([]), "broken": tiny_config(["model.encoder=mobilenet_v2"])}
    timing = time_points(configs, bench, log=lambda _: None)
    assert list(timing["points"]) == ["ok"] and "layer 'x'" in timing["errors"]["broken"]
    assert set(timing["points"]["ok"]) == {"latency_ms_128x96", "latency_ms_train"}
    cost = model_cost(configs["broken"], bench)  # the trial's own record keeps its cost
    assert cost["macs_g_128x96"] > 0 and cost["params_m"] > 0
