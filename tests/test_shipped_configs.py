"""Every shipped config trains end to end on the embedded synthetic data (tiny and one step).

The main config runs in the default suite; the others are slow (``-m slow``): each task's own
end-to-end test in ``tests/tasks`` already trains one config of that task by default.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from densepred.app.config import load_config
from densepred.app.train import run_training

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
RUN_CONFIGS = sorted(
    p for p in CONFIGS.glob("*.yaml") if "task" in yaml.safe_load(p.read_text())
)
FAST = "depth_mbv3_unet"


@pytest.mark.parametrize(
    "path",
    [p if p.stem == FAST else pytest.param(p, marks=pytest.mark.slow) for p in RUN_CONFIGS],
    ids=lambda p: p.stem,
)
def test_shipped_config_trains_on_embedded_data(path: Path, tmp_path: Path, make_tiny) -> None:
    config = load_config(path, make_tiny(tmp_path, max_steps=1))
    assert config.data.format == "synthetic", "shipped configs run on the embedded data"
    result = run_training(config)
    record = json.loads((result.run_dir / "metrics.json").read_text())
    assert record["global_step"] >= 1
    values = record["val"]
    assert values and all(math.isfinite(v) for v in values.values()), values
