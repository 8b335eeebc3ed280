"""Tiny sweep files: a few training steps on tiny synthetic data, tiny benchmark sizes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
TINY_BENCHMARK = {
    "sizes": [[48, 64]],
    "include_train_size": True,
    "threads": 1,
    "warmup": 0,
    "repeats": 1,
    "rounds": 2,
}


@pytest.fixture
def tiny_sweep(tmp_path: Path, make_tiny: Callable[..., list[str]]) -> Callable[..., Path]:
    """Write a sweep over ``model.encoder`` (more axes in ``extra_grid``, optional ``seeds``) with
    one-step trials; return the sweep file."""

    def write(
        encoders: list[str], seeds: list[int] | None = None, extra_grid: dict | None = None
    ) -> Path:
        content = {
            "base": str(CONFIGS / "depth_mbv3_unet.yaml"),
            "base_overrides": [*make_tiny(tmp_path, max_steps=1), "trainer.limit_val_batches=1"],
            "grid": {"model.encoder": encoders, **(extra_grid or {})},
            **({"seeds": seeds} if seeds is not None else {}),
            "benchmark": TINY_BENCHMARK,
            "score": {"runtime": "latency_ms_64x48"},
            "output_dir": str(tmp_path / "sweep"),
        }
        path = tmp_path / "sweep.yaml"
        path.write_text(yaml.safe_dump(content, sort_keys=False))
        return path

    return write
