"""Every shipped config trains end to end on the embedded synthetic data (tiny and one step)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from densepred.config import load_config
from densepred.train import run_training

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
RUN_CONFIGS = sorted(
    p for p in CONFIGS.glob("*.yaml") if "task" in yaml.safe_load(p.read_text())
)


@pytest.mark.parametrize("path", RUN_CONFIGS, ids=lambda p: p.stem)
def test_shipped_config_trains_on_embedded_data(path: Path, tmp_path: Path, make_tiny) -> None:
    config = load_config(path, make_tiny(tmp_path, max_steps=1))
    assert config.data.format == "synthetic", "shipped configs run on the embedded data"
    result = run_training(config)
    record = json.loads((result.run_dir / "metrics.json").read_text())
    assert record["global_step"] >= 1
    values = record["val"]
    assert values and all(math.isfinite(v) for v in values.values()), values
