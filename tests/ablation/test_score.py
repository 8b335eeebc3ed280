"""The configurable challenge score."""

from __future__ import annotations

import math

import pytest

from densepred.ablation.score import ScoreSettings, challenge_score


def test_default_is_the_challenge_form() -> None:
    record = {"mai_si_rmse": 0.311, "latency_ms_640x480": 37.0}
    assert challenge_score(record, ScoreSettings()) == pytest.approx(2 ** (-20 * 0.311) / 37.0)


def test_every_part_is_configurable() -> None:
    settings = ScoreSettings(
        metric="rmse", runtime="latency_ms_train", base=math.e, alpha=2.0, C=4.0, runtime_power=0.5
    )
    record = {"rmse": 0.5, "latency_ms_train": 16.0}
    assert challenge_score(record, settings) == pytest.approx(math.exp(-1.0) / (4.0 * 4.0))


def test_runtime_power_zero_ranks_by_fidelity_alone() -> None:
    settings = ScoreSettings(runtime_power=0.0)
    fast_bad = {"mai_si_rmse": 0.4, "latency_ms_640x480": 1.0}
    slow_good = {"mai_si_rmse": 0.3, "latency_ms_640x480": 1000.0}
    assert challenge_score(slow_good, settings) > challenge_score(fast_bad, settings)
    assert challenge_score(fast_bad, ScoreSettings()) > challenge_score(slow_good, ScoreSettings())


@pytest.mark.parametrize(
    "record",
    [
        {},
        {"mai_si_rmse": 0.3},
        {"mai_si_rmse": float("nan"), "latency_ms_640x480": 10.0},
        {"mai_si_rmse": 0.3, "latency_ms_640x480": 0.0},
        {"mai_si_rmse": "0.3", "latency_ms_640x480": 10.0},
    ],
)
def test_missing_or_invalid_values_give_no_score(record: dict) -> None:
    assert challenge_score(record, ScoreSettings()) is None


def test_settings_reject_unknown_keys_and_bad_constants() -> None:
    with pytest.raises(ValueError, match="extra"):
        ScoreSettings.model_validate({"c": 1.0})
    with pytest.raises(ValueError, match="greater than 0"):
        ScoreSettings(C=0.0)
