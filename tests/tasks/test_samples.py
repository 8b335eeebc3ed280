"""Sample grids take evenly spaced validation items, not the first batch."""

from __future__ import annotations

import pytest
import torch

from densepred.tasks.samples import SpreadSamples, spread_indices


@pytest.mark.parametrize(
    ("total", "n", "expected"),
    [(10, 4, [0, 3, 6, 9]), (3, 5, [0, 1, 2]), (7, 0, []), (0, 4, []), (100, 1, [0])],
)
def test_spread_indices(total: int, n: int, expected: list[int]) -> None:
    assert spread_indices(total, n) == expected


def test_spread_samples_keep_rows_across_batches() -> None:
    keeper = SpreadSamples(total=10, n=4)
    for start in range(0, 10, 4):  # batches of 4, 4, 2
        rows = torch.arange(start, min(start + 4, 10))
        keeper.add(rows, rows * 10)
    kept, tens = keeper.result()
    assert kept.tolist() == [0, 3, 6, 9] and tens.tolist() == [0, 30, 60, 90]
    assert SpreadSamples(total=5, n=0).result() is None
