"""How sure a sweep's ranking is: the score and the Pareto front recomputed on resamples.

Every resample redraws, for each grid point, the mean of its fidelity metric over seeds and
its latency, recomputes the challenge score and the Pareto front of all points, and ranks them.
From the resamples come each point's intervals (score, metric, runtime, rank), the probability
that it ranks first and that it is on the front, and for each pair the probability that one
ranks ahead of the other.

- Timing rounds (:func:`~densepred.core.benchmark.time_interleaved`) are resampled with
  replacement, the same round indices for every point (round ``r`` of all points was timed in
  the same stretch of time, so their comparison keeps what the rounds share); a point's
  latency in a resample is the median of its drawn rounds.
- Seeds are few (3 by default), and resampling 3 values with replacement gives an interval
  of the mean that is too narrow: two points with the same true mean came out separable in
  over a third of simulated cases, against 3 % for the draws below and at most 10 % for a
  calibrated procedure (``tests/ablation/test_uncertainty.py``). So the seed
  mean is drawn from its sampling distribution under normal seed noise instead, ``mean + sd /
  sqrt(n) * t(n - 1)`` (a parametric bootstrap of the seeds); with one seed it is fixed.
- Runtimes that are per-seed wall times (``train_s``) are drawn like the metric.

Two points are *separable* when one ranks ahead of the other (a strictly higher score; equal
scores count half) in at least ``level`` of the resamples. The not-separable pairs are shown as
sets (:func:`not_separable_sets`): two points share a set exactly when they are not separable, so
within a set the order is not established, and two points with no set in common are in a known
order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from densepred.ablation.score import ScoreSettings


@dataclass
class PointSamples:
    """What the ranking knows about one grid point.

    Attributes:
        metric: The fidelity metric of each finished seed (lower is better).
        runtime: Per timing round (``paired``) or per seed: the runtime values.
        paired: ``runtime`` holds timing rounds shared with the other points (resampled with
            the same indices); else per-seed values drawn like the metric.
    """

    metric: Sequence[float]
    runtime: Sequence[float]
    paired: bool = True


@dataclass
class Ranking:
    """Resampled ranking of the points (index order as given; arrays of length n).

    Attributes:
        score: Point estimate (mean metric over seeds, median runtime).
        metric: Mean metric over seeds.
        runtime: Median runtime (rounds) or mean runtime (seeds).
        score_interval, metric_interval, runtime_interval: ``(n, 2)`` percentile intervals.
        rank_interval: ``(n, 2)`` integer interval of the rank (1 = best).
        p_best: Probability of rank 1 (ties share it).
        p_front: Probability of being on the Pareto front of metric against runtime.
        p_ahead: ``(n, n)``: probability that point i ranks ahead of point j.
        sets: The maximal sets of mutually not separable points (:func:`not_separable_sets`).
        level: The level of the intervals and of separability.
    """

    score: np.ndarray
    metric: np.ndarray
    runtime: np.ndarray
    score_interval: np.ndarray
    metric_interval: np.ndarray
    runtime_interval: np.ndarray
    rank_interval: np.ndarray
    p_best: np.ndarray
    p_front: np.ndarray
    p_ahead: np.ndarray
    sets: list[list[int]] = field(default_factory=list)
    level: float = 0.95

    def separable(self, i: int, j: int) -> bool:
        """Whether points ``i`` and ``j`` are in a known order."""
        return bool(max(self.p_ahead[i, j], self.p_ahead[j, i]) >= self.level)


def percentile_interval(draws: np.ndarray, level: float, axis: int = 0) -> np.ndarray:
    """The central ``level`` interval of ``draws`` along ``axis`` (last dimension: low, high)."""
    tail = (1.0 - level) / 2.0
    return np.moveaxis(np.quantile(draws, [tail, 1.0 - tail], axis=axis), 0, -1)


def rank_interval(ranks: np.ndarray, level: float) -> np.ndarray:
    """Per column of ``ranks`` (resamples x points), the central ``level`` interval, widened to
    whole ranks: ``(n, 2)`` integers."""
    tail = (1.0 - level) / 2.0
    low = np.quantile(ranks, tail, axis=0, method="lower")
    high = np.quantile(ranks, 1.0 - tail, axis=0, method="higher")
    return np.stack([low, high], axis=1).astype(int)


def median_interval(
    samples: Sequence[float], level: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the median of ``samples``."""
    values = np.asarray(samples, dtype=float)
    rng = np.random.default_rng(seed)
    draws = np.median(values[rng.integers(0, len(values), (resamples, len(values)))], axis=1)
    low, high = percentile_interval(draws, level)
    return float(low), float(high)


def seed_mean_draws(
    values: Sequence[float], resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Draws of the mean of ``values`` over seeds: ``mean + sd / sqrt(n) * t(n - 1)``.

    One value (or values without spread) gives the mean itself in every draw.
    """
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return np.full(resamples, float(x.mean()))
    scale = float(x.std(ddof=1)) / np.sqrt(len(x))
    return x.mean() + scale * rng.standard_t(len(x) - 1, resamples)


def log_score(metric: np.ndarray, runtime: np.ndarray, settings: ScoreSettings) -> np.ndarray:
    """The natural log of the challenge score (:func:`~densepred.ablation.score.challenge_score`)
    on arrays: the same order, and no overflow for the far tails of the draws."""
    return (
        -settings.alpha * metric * np.log(settings.base)
        - np.log(settings.C)
        - settings.runtime_power * np.log(runtime)
    )


def competition_ranks(scores: np.ndarray) -> np.ndarray:
    """Rank of each column in each row: 1 + the number of strictly higher scores."""
    return 1 + (scores[:, None, :] > scores[:, :, None]).sum(axis=2)


def front_mask(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per row, which points no other point dominates (lower is better on both axes)."""
    no_worse = (x[:, None, :] <= x[:, :, None]) & (y[:, None, :] <= y[:, :, None])
    better = (x[:, None, :] < x[:, :, None]) | (y[:, None, :] < y[:, :, None])
    return ~(no_worse & better).any(axis=2)


def not_separable_sets(p_ahead: np.ndarray, level: float) -> list[list[int]]:
    """The maximal sets of points no two of which are separable (maximal cliques of the
    not-separable pairs), each sorted, in order of their first index.

    Every not-separable pair lies in at least one set, and every two points of a set are not
    separable, so "share a set" is exactly "not separable"; a point separable from all others
    is a set of its own. The report gives each set a letter (a compact letter display).
    """
    n = len(p_ahead)
    close = [
        {j for j in range(n) if j != i and max(p_ahead[i, j], p_ahead[j, i]) < level}
        for i in range(n)
    ]
    sets: list[list[int]] = []

    def grow(chosen: set[int], candidates: set[int], excluded: set[int]) -> None:
        # Bron-Kerbosch with a pivot: every maximal clique once
        if not candidates and not excluded:
            sets.append(sorted(chosen))
            return
        pivot = max(candidates | excluded, key=lambda u: len(close[u] & candidates))
        for v in sorted(candidates - close[pivot]):
            grow(chosen | {v}, candidates & close[v], excluded & close[v])
            candidates = candidates - {v}
            excluded = excluded | {v}

    grow(set(), set(range(n)), set())
    return sorted(sets, key=lambda members: (members, len(members)))


def rank_points(
    points: Sequence[PointSamples],
    settings: ScoreSettings,
    resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> Ranking:
    """Resample seeds and timing rounds ``resamples`` times and summarise the ranking.

    Args:
        points: Each point's metric per seed and runtime samples (paired ones must all have
            the same number of rounds).
        settings: The score formula.
        resamples: Number of resamples.
        level: Level of the intervals and of separability.
        seed: Seed of the resampling.
    """
    rng = np.random.default_rng(seed)
    n = len(points)
    metric = np.stack([seed_mean_draws(p.metric, resamples, rng) for p in points], axis=1)
    rounds = {len(p.runtime) for p in points if p.paired}
    if len(rounds) > 1:
        raise ValueError(f"paired timings need the same number of rounds, got {sorted(rounds)}")
    count = rounds.pop() if rounds else 1
    picks = rng.integers(0, count, (resamples, count))
    runtime = np.empty((resamples, n))
    runtime_estimate = np.empty(n)
    for i, p in enumerate(points):
        values = np.asarray(p.runtime, dtype=float)
        if p.paired:
            runtime[:, i] = np.median(values[picks], axis=1)
            runtime_estimate[i] = np.median(values)
        else:
            runtime[:, i] = seed_mean_draws(values, resamples, rng)
            runtime_estimate[i] = values.mean()
    scores = log_score(metric, runtime, settings)
    ahead = (scores[:, :, None] > scores[:, None, :]).mean(axis=0)
    ahead += 0.5 * (scores[:, :, None] == scores[:, None, :]).mean(axis=0)
    np.fill_diagonal(ahead, 0.0)
    ranks = competition_ranks(scores)
    metric_estimate = np.array([np.mean(p.metric) for p in points], dtype=float)
    with np.errstate(over="ignore"):
        score = np.exp(log_score(metric_estimate, runtime_estimate, settings))
        score_interval = np.exp(percentile_interval(scores, level))
    return Ranking(
        score=score,
        metric=metric_estimate,
        runtime=runtime_estimate,
        score_interval=score_interval,
        metric_interval=percentile_interval(metric, level),
        runtime_interval=percentile_interval(runtime, level),
        rank_interval=rank_interval(ranks, level),
        p_best=(ranks == 1).mean(axis=0),
        p_front=front_mask(runtime, metric).mean(axis=0),
        p_ahead=ahead,
        sets=not_separable_sets(ahead, level),
        level=level,
    )
