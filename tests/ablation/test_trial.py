"""A trial validates its config once: the task and the measurement reuse the typed Config."""

from __future__ import annotations

from pathlib import Path

import pytest

from densepred.ablation.sweep import BenchmarkSettings, Trial
from densepred.ablation.trial import run_trial
from densepred.config.loader import apply_overrides, read_yaml
from densepred.config.task import DepthTaskConfig

MAIN = Path(__file__).resolve().parents[2] / "configs" / "depth_mbv3_unet.yaml"


def test_a_trial_validates_its_config_once(
    tmp_path: Path, make_tiny, monkeypatch: pytest.MonkeyPatch
) -> None:
    overrides = [*make_tiny(tmp_path, max_steps=1), "model.encoder=mobilenet_v3_small"]
    raw = apply_overrides(read_yaml(MAIN), overrides)
    calls: list[int] = []
    validate = DepthTaskConfig.model_validate

    def counting(obj, *args, **kwargs):
        calls.append(1)
        return validate(obj, *args, **kwargs)

    monkeypatch.setattr(DepthTaskConfig, "model_validate", counting)
    trial = Trial(trial_id="t", values={}, overrides=overrides, config=raw)
    bench = BenchmarkSettings(sizes=[(32, 48)], include_train_size=False, warmup=0, repeats=1)
    record = run_trial(trial, tmp_path / "run", bench)
    assert record["status"] == "ok", record["error"]
    assert len(calls) == 2  # one load: the keys-and-types pass, then the references pass
