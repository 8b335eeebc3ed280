"""Local pretrained weights: round trips into encoders and classifiers, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import safetensors.torch
import timm
import torch

from densepred.core.errors import WeightsError
from densepred.encoders import create_encoder

CASES = [("mobilenet_v3_large", "mobilenetv3_large_100"), ("resnet18", "resnet18")]


def source_model(timm_name: str) -> torch.nn.Module:
    """A timm classifier with non-default weights (so a silent random init cannot pass)."""
    torch.manual_seed(0)
    model = timm.create_model(timm_name).eval()
    with torch.no_grad():
        for buffer in model.buffers():
            if buffer.is_floating_point():
                buffer.uniform_(0.5, 1.5)
    return model


def save(state: dict[str, torch.Tensor], path: Path) -> Path:
    if path.suffix == ".safetensors":
        safetensors.torch.save_file(state, path)
    else:
        torch.save(state, path)
    return path


@pytest.mark.parametrize(("name", "timm_name"), CASES)
@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_round_trip(name: str, timm_name: str, suffix: str, tmp_path: Path) -> None:
    source = source_model(timm_name)
    path = save(source.state_dict(), tmp_path / f"weights{suffix}")
    x = torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        expected_logits = source(x)
        expected_features = source.forward_intermediates(x, intermediates_only=True)
        logits = create_encoder(name, include_top=True, pretrained=path).eval()(x)
        features = create_encoder(name, pretrained=str(path)).eval()(x)
    assert torch.equal(logits, expected_logits)
    assert len(features) == len(expected_features) == 5
    for got, want in zip(features, expected_features, strict=True):
        assert torch.equal(got, want)


def test_checkpoint_dict_new_head_and_other_channels(tmp_path: Path) -> None:
    source = source_model("resnet18")
    path = tmp_path / "checkpoint.pt"
    torch.save({"epoch": 3, "state_dict": source.state_dict()}, path)
    model = create_encoder(
        "resnet18", include_top=True, pretrained=path, num_classes=5, in_channels=1
    )
    assert model.fc.out_features == 5
    # timm sums the RGB filters of the pretrained first convolution for one input channel.
    assert torch.allclose(model.conv1.weight, source.conv1.weight.sum(1, keepdim=True))
    assert torch.equal(model.layer4[1].conv2.weight, source.layer4[1].conv2.weight)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.pth"
    with pytest.raises(WeightsError, match="nope.pth' does not exist"):
        create_encoder("resnet18", pretrained=path)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.pth"
    path.write_text("not a checkpoint")
    with pytest.raises(WeightsError, match="junk.pth' could not be read"):
        create_encoder("resnet18", pretrained=path)


class Unsafe:
    """An object a weights-only read must refuse."""


def test_torch_weights_are_read_weights_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12, case 7: a .pth weights file is read with weights_only=True whatever timm's
    default (timm 1.0.9, the floor in pyproject.toml, passes weights_only=False to torch.load)."""
    path = save(source_model("resnet18").state_dict(), tmp_path / "weights.pth")
    real_load = timm.models.load_state_dict
    asked: list[object] = []

    def load_state_dict(*args: object, **kwargs: object) -> dict[str, torch.Tensor]:
        asked.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(timm.models, "load_state_dict", load_state_dict)
    create_encoder("resnet18", pretrained=path)
    assert asked == [True]
    crafted = tmp_path / "crafted.pth"
    torch.save({"conv1.weight": Unsafe()}, crafted)
    with pytest.raises(WeightsError, match="crafted.pth' could not be read"):
        create_encoder("resnet18", pretrained=crafted)


@pytest.mark.parametrize("include_top", [False, True])
def test_timm_never_opens_the_weights_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, include_top: bool
) -> None:
    """Issue 24, case 2: densepred's weights-only reader is the only one to open the file; timm
    gets the tensors (and adapts them to 4 input channels) and keeps no copy of them."""
    source = source_model("resnet18")
    path = save(source.state_dict(), tmp_path / "weights.pth")
    real_load = torch.load
    reads: list[object] = []

    def load(file: object, *args: object, **kwargs: object) -> object:
        if Path(str(file)) == path:
            reads.append(kwargs.get("weights_only"))
        return real_load(file, *args, **kwargs)

    monkeypatch.setattr(torch, "load", load)
    model = create_encoder("resnet18", include_top=include_top, pretrained=path, in_channels=4)
    assert reads == [True]
    first = model.conv1 if include_top else model.model.conv1
    expected = source.conv1.weight.repeat(1, 2, 1, 1)[:, :4] * 3 / 4  # timm's in_chans adaptation
    torch.testing.assert_close(first.weight, expected)
    assert all("state_dict" not in getattr(m, "pretrained_cfg", {}) for m in model.modules())


def test_encoder_options_that_load_files_are_refused(tmp_path: Path) -> None:
    """Issue 24, case 2: a caller's timm option cannot name a file behind densepred's back."""
    from densepred.core.errors import ConfigError

    with pytest.raises(ConfigError, match="encoder_args.pretrained_cfg_overlay is refused"):
        create_encoder("resnet18", pretrained_cfg_overlay={"file": str(tmp_path / "x.pth")})
    with pytest.raises(ConfigError, match="encoder_args.checkpoint_path is refused"):
        create_encoder("resnet18", checkpoint_path=str(tmp_path / "x.pth"))


def test_mismatched_file_lists_keys(tmp_path: Path) -> None:
    with torch.device("meta"):
        other = timm.create_model("resnet34")
    path = save(
        {k: torch.zeros(v.shape) for k, v in other.state_dict().items()}, tmp_path / "resnet34.pth"
    )
    with pytest.raises(WeightsError) as err:
        create_encoder("resnet18", pretrained=path)
    message = str(err.value)
    assert str(path) in message and "'resnet18'" in message
    assert "unexpected keys" in message and "layer1.2.conv1.weight" in message


def test_shape_mismatch_is_listed(tmp_path: Path) -> None:
    state = timm.create_model("mobilenetv3_small_100").state_dict()
    state["conv_stem.weight"] = torch.zeros(8, 3, 3, 3)
    del state["blocks.0.0.bn1.bias"]
    path = save(state, tmp_path / "broken.pth")
    with pytest.raises(WeightsError) as err:
        create_encoder("mobilenet_v3_small", pretrained=path)
    message = str(err.value)
    assert "missing keys (1): blocks.0.0.bn1.bias" in message
    assert "conv_stem.weight (8, 3, 3, 3) != (16, 3, 3, 3)" in message
