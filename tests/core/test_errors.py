"""Error messages as users read them."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from densepred.core.errors import DataError, user_message


class Broken(Dataset):
    """A dataset whose one sample raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> torch.Tensor:
        raise self.error


@pytest.mark.parametrize(
    "error", [DataError("image file 'x.png' is truncated.\nSecond line."), ValueError("bad value")]
)
def test_error_from_a_loader_worker_reads_as_the_worker_raised_it(error: Exception) -> None:
    with pytest.raises(type(error)) as info:
        next(iter(DataLoader(Broken(error), num_workers=1)))
    assert str(info.value).startswith(f"Caught {type(error).__name__} in DataLoader worker")
    assert user_message(info.value) == str(error)
    assert user_message(error) == str(error)  # raised in this process: unchanged
