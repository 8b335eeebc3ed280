"""The ranking's uncertainty: intervals against known distributions, separability, fronts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from densepred.ablation.score import ScoreSettings
from densepred.ablation.uncertainty import (
    PointSamples,
    competition_ranks,
    front_mask,
    median_interval,
    not_separable_sets,
    rank_points,
)

SCORE = ScoreSettings()


@pytest.mark.parametrize(("level", "low", "high"), [(0.95, 0.88, 0.99), (0.5, 0.38, 0.62)])
def test_median_interval_covers_a_known_median_at_about_its_level(
    level: float, low: float, high: float
) -> None:
    """Samples of Exp(1), whose median is ln 2: the bootstrap interval of the median of 41
    samples covers it in about ``level`` of 300 repetitions (fixed seed; the bounds fail an
    interval that is much too narrow or too wide, e.g. the 50 % one for the 95 % one)."""
    rng = np.random.default_rng(7)
    hits = 0
    for i in range(300):
        lo, hi = median_interval(rng.exponential(1.0, 41), level=level, resamples=1000, seed=i)
        hits += lo <= math.log(2) <= hi
    assert low <= hits / 300 <= high


def _null_separation_rate(method: str, pairs: int = 400, seeds: int = 3) -> float:
    """How often two points whose seed values come from one normal distribution (same runtime)
    are called separable."""
    rng = np.random.default_rng(11)
    runtime = [50.0] * 5
    calls = 0
    for i in range(pairs):
        a, b = rng.normal(0.3, 0.01, seeds), rng.normal(0.3, 0.01, seeds)
        if method == "t":
            ranking = rank_points(
                [PointSamples(a, runtime), PointSamples(b, runtime)], SCORE, resamples=1000, seed=i
            )
            calls += ranking.separable(0, 1)
        else:  # the plain bootstrap of the seeds, which the ranking does not use
            picks = rng.integers(0, seeds, (1000, seeds))
            ahead = (a[picks].mean(axis=1) < b[picks].mean(axis=1)).mean()
            calls += max(ahead, 1 - ahead) >= 0.95
    return calls / pairs


def test_identical_points_are_rarely_called_separable_with_three_seeds() -> None:
    """At the 95 % level two equal points are in a 'known order' in about 5 % of cases; the plain
    bootstrap of 3 seeds does it far more often, which is why the seed mean is drawn from t(n-1)."""
    assert _null_separation_rate("t") <= 0.10
    assert _null_separation_rate("bootstrap") >= 0.15


def test_two_identical_points_are_not_separable_and_share_first_place() -> None:
    rng = np.random.default_rng(3)
    rounds = rng.lognormal(np.log(50.0), 0.05, 10)
    twin = PointSamples([0.30, 0.31, 0.29], rounds)
    ranking = rank_points([twin, twin], SCORE, resamples=2000)
    assert not ranking.separable(0, 1)
    assert ranking.sets == [[0, 1]]
    assert ranking.p_ahead[0, 1] == pytest.approx(0.5, abs=0.05)
    assert ranking.p_best.sum() >= 1.0 and ranking.p_best == pytest.approx([0.5, 0.5], abs=0.05)
    assert list(ranking.rank_interval[0]) == [1, 2]


def test_clear_differences_are_separable_and_ordered() -> None:
    rng = np.random.default_rng(4)

    def point(metric: float, latency: float) -> PointSamples:
        return PointSamples(metric + rng.normal(0, 0.002, 3), latency * rng.lognormal(0, 0.02, 12))

    # point 1 beats point 0 on both axes; 2 is the most accurate, 3 the fastest (both on the front)
    points = [point(0.31, 100.0), point(0.30, 50.0), point(0.25, 200.0), point(0.32, 48.0)]
    ranking = rank_points(points, SCORE, resamples=2000)
    assert ranking.separable(1, 0) and ranking.p_ahead[1, 0] > 0.99
    assert ranking.p_best[1] > 0.9
    assert ranking.rank_interval[0].tolist() == [4, 4]  # scores 1.4e-4, 3.1e-4, 1.6e-4, 2.5e-4
    assert ranking.p_front[0] < 0.05  # dominated by point 1 in every resample
    assert ranking.p_front[2] > 0.95 and ranking.p_front[3] > 0.95
    assert (ranking.score_interval[:, 0] <= ranking.score).all()
    assert (ranking.score <= ranking.score_interval[:, 1]).all()
    assert ranking.runtime[1] == pytest.approx(np.median(points[1].runtime))
    assert ranking.metric[2] == pytest.approx(np.mean(points[2].metric))


def test_one_seed_has_no_seed_spread_and_wall_times_are_drawn_per_seed() -> None:
    one = rank_points([PointSamples([0.3], [50.0] * 4), PointSamples([0.3], [50.0] * 4)], SCORE)
    assert (one.metric_interval == 0.3).all() and not one.separable(0, 1)
    per_seed = rank_points(
        [PointSamples([0.3, 0.31], [60.0, 62.0], paired=False), PointSamples([0.3], [90.0], False)],
        ScoreSettings(runtime="train_s"),
    )
    assert per_seed.runtime.tolist() == [61.0, 90.0]
    assert per_seed.runtime_interval[1].tolist() == [90.0, 90.0]


def test_paired_timings_need_the_same_rounds() -> None:
    with pytest.raises(ValueError, match="same number of rounds"):
        rank_points([PointSamples([0.3], [1.0, 2.0]), PointSamples([0.3], [1.0])], SCORE)


def test_ranks_fronts_and_groups_on_small_cases() -> None:
    scores = np.array([[3.0, 1.0, 3.0, 2.0]])
    assert competition_ranks(scores).tolist() == [[1, 4, 1, 3]]
    x = np.array([[1.0, 2.0, 2.0, 3.0]])
    y = np.array([[3.0, 1.0, 2.0, 1.0]])
    assert front_mask(x, y).tolist() == [[True, True, False, False]]
    p = np.array(  # 0 ~ 1 and 1 ~ 2, but 0 is ahead of 2; 3 is behind all
        [[0.0, 0.6, 0.97, 1.0], [0.4, 0.0, 0.7, 1.0], [0.03, 0.3, 0.0, 0.99], [0.0, 0.0, 0.01, 0.0]]
    )
    assert not_separable_sets(p, 0.95) == [[0, 1], [1, 2], [3]]
    everyone = np.full((4, 4), 0.5)
    assert not_separable_sets(everyone, 0.95) == [[0, 1, 2, 3]]
    # a pair is not separable exactly when it shares a set
    rng = np.random.default_rng(5)
    ahead = rng.uniform(0.0, 1.0, (7, 7))
    ahead = np.triu(ahead, 1) + np.tril(1.0 - ahead.T, -1)
    sets = not_separable_sets(ahead, 0.8)
    for i in range(7):
        for j in range(i + 1, 7):
            shared = any(i in s and j in s for s in sets)
            assert shared == (max(ahead[i, j], ahead[j, i]) < 0.8)
