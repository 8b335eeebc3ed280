"""In-order conversion of another library's state dict to timm key names."""

from __future__ import annotations

from pathlib import Path

import pytest
import timm
import torch

from densepred.core.errors import WeightsError
from densepred.encoders import create_encoder
from densepred.encoders.convert import convert_file, convert_in_order

NAME = "mobilenetv3_small_050"


def _foreign(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's tensors under other names (as another library would store them)."""
    return {f"_layer{i}.t": v.clone() for i, v in enumerate(model.state_dict().values())}


def test_foreign_names_convert_back_and_load_as_pretrained(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = timm.create_model(NAME)
    torch.save(_foreign(model), tmp_path / "foreign.pth")
    out = convert_file(tmp_path / "foreign.pth", NAME, tmp_path / "w.safetensors")
    loaded = create_encoder(NAME, include_top=True, pretrained=str(out)).state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in model.state_dict().items())


def test_wrong_order_or_count_is_a_weights_error() -> None:
    state = _foreign(timm.create_model(NAME))
    keys = list(state)
    swapped = {keys[1]: state[keys[1]], keys[0]: state[keys[0]], **state}
    with pytest.raises(WeightsError, match="shapes differ"):
        convert_in_order(swapped, NAME)
    with pytest.raises(WeightsError, match=f"holds {len(keys) - 1} tensors"):
        convert_in_order(dict(list(state.items())[:-1]), NAME)
