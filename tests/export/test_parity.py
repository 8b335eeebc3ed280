"""Output comparison and tolerances."""

from __future__ import annotations

import numpy as np

from densepred.export.parity import (
    FLOAT_TOLERANCE,
    INT8_TOLERANCE,
    compare_outputs,
    metric_failures,
)


def _depth(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.5, 10.0, (1, 1, 8, 8)).astype(np.float32)


def test_identical_outputs_pass() -> None:
    ref = [_depth(0), _depth(1)]
    parity = compare_outputs([r.copy() for r in ref], ref, depth_scale=1.0)
    assert parity.max_abs_diff == 0 and parity.si_rmse < 1e-6
    assert parity.failures(FLOAT_TOLERANCE) == []


def test_scale_only_error_is_caught_by_max_diff_not_si_rmse() -> None:
    ref = [_depth(0)]
    parity = compare_outputs([ref[0] * 1.1], ref, depth_scale=1.0)
    assert parity.si_rmse < 1e-5  # scale-invariant
    assert parity.max_rel_diff > 0.05
    assert any("max relative" in f for f in parity.failures(FLOAT_TOLERANCE))


def test_nan_output_fails() -> None:
    ref = [_depth(0)]
    broken = ref[0].copy()
    broken[0, 0, 0, 0] = np.nan
    assert compare_outputs([broken], ref, depth_scale=None).failures(FLOAT_TOLERANCE)


def test_int8_checks_the_metric_not_the_outputs() -> None:
    ref = [_depth(0)]
    parity = compare_outputs([ref[0] * 1.5], ref, depth_scale=1.0)
    assert parity.failures(INT8_TOLERANCE) == []
    assert metric_failures(0.30, 0.31, INT8_TOLERANCE) == []
    assert metric_failures(0.30, 0.40, INT8_TOLERANCE)
