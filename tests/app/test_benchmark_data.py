"""benchmark-data: every stage and loader of both sources is measured, the model's step and the
GPU estimate come with their inputs, and the report sizes the workers from them."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("litdata")

from densepred.app.benchmark_data import (  # noqa: E402
    PUBLISHED_TRAIN,
    benchmark_data,
    gpu_estimate,
    report,  # noqa: E402
)
from densepred.app.config import load_config  # noqa: E402
from densepred.app.prepare_data import prepare_data  # noqa: E402

MAIN = Path(__file__).resolve().parents[2] / "configs" / "depth_mbv3_unet.yaml"


def test_both_sources_are_measured_stage_by_stage_and_by_loader(tmp_path: Path) -> None:
    overrides = [
        f"data.root={tmp_path / 'data'}",
        "data.args={num_train: 4, num_val: 2, size: [48, 64], seed: 0}",
        "data.image_size=[32, 48]",
        "data.batch_size=2",
    ]
    prepare_data(load_config(MAIN, overrides), out=str(tmp_path / "cache"), workers=1)
    config = load_config(MAIN, [*overrides, f"data.cache={tmp_path / 'cache'}"])
    result = benchmark_data(config, workers=(1,), images=4, epochs=1, rounds=1, steps=1)
    assert result["stages"].keys() == result["loaders"].keys() == {"files", "cache"}
    for times in result["stages"].values():
        assert set(times) == {"read", "resize", "augment", "collate", "total"}
        assert all(value > 0 for value in times.values())
        assert times["total"] == pytest.approx(sum(v for k, v in times.items() if k != "total"))
    assert all(rates[1] > 0 for rates in result["loaders"].values())
    assert result["model"]["images_per_s"] > 0 and result["model"]["forward_macs_per_image"] > 0
    text = report(result, batch=2)
    assert "files: workers to feed the current GPU" in text and PUBLISHED_TRAIN.source in text


def test_the_gpu_estimate_scales_the_published_rate_by_macs() -> None:
    estimate = gpu_estimate(forward_macs=10**8)
    expected = PUBLISHED_TRAIN.images_per_s * estimate["reference_macs"] / 10**8
    assert estimate["rtx3090_images_per_s"] == pytest.approx(expected)
    assert 2e8 < estimate["reference_macs"] < 2.4e8  # MobileNetV3-Large at 224: 0.22 GMACs
    assert estimate["current_gpu_images_per_s"] > estimate["rtx3090_images_per_s"]
