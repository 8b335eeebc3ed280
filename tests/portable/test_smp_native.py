"""Networks with an smp decoder save folders that segmentation_models_pytorch loads by itself, where
smp's head computes what densepred's does; elsewhere the folder says why not."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from densepred.config.model import DenseModelConfig
from densepred.models.config import dense_recipe
from densepred.models.smp_models import padded_forward
from densepred.portable.model import from_pretrained
from densepred.portable.smp_native import SmpForm, smp_native_form
from densepred.portable.spec import ModelFolderError

SMP_LOADER = """
import sys
import numpy as np, segmentation_models_pytorch as smp, torch

torch.set_num_threads(1)
model = smp.from_pretrained(sys.argv[1]).eval()
with torch.inference_mode():
    np.save(sys.argv[3], model(torch.from_numpy(np.load(sys.argv[2]))).numpy())
print("DENSEPRED:" + str(any(m.startswith("densepred") for m in sys.modules)))
"""


def test_smp_loads_the_folder_without_densepred(saved_folders, tmp_path: Path) -> None:
    task, folder = saved_folders["segmentation-smp"]
    config = json.loads((folder / "config.json").read_text())
    assert config["_model_class"] == "Unet" and config["encoder_name"] == "tu-mobilenetv3_small_100"
    assert config["encoder_weights"] is None and config["classes"] == 3
    x = torch.randn(2, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    np.save(tmp_path / "x.npy", x.numpy())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SMP_LOADER,
            str(folder),
            str(tmp_path / "x.npy"),
            str(tmp_path / "y.npy"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "DENSEPRED:False" in done.stdout
    with torch.inference_mode():
        expected = task.deploy_network()(x).numpy()
    got = np.load(tmp_path / "y.npy")
    assert np.allclose(got, expected, rtol=1e-5, atol=1e-5), float(np.abs(got - expected).max())
    assert "segmentation_models_pytorch.from_pretrained" in (folder / "README.md").read_text()


def _form(decoder: str, head: str, head_args: dict | None = None, **defaults) -> tuple:
    cfg = DenseModelConfig(encoder="mobilenet_v3_small", decoder=decoder, head_args=head_args or {})
    recipe = dense_recipe(cfg, head, **defaults)
    network = recipe.build().eval()
    return smp_native_form(recipe, network), network


@pytest.mark.parametrize(
    ("decoder", "head", "head_args", "defaults"),
    [
        ("smp.Unet", "segmentation", {}, {"num_classes": 4}),
        ("smp.FPN", "segmentation", {"kernel_size": 1}, {"num_classes": 1}),
        ("smp.PSPNet", "segmentation", {}, {"num_classes": 2}),
        ("smp.Unet", "image", {}, {"out_channels": 3}),  # tanh, no upsampling after the head
        ("smp.FPN", "image", {"kernel_size": 1, "activation": "identity"}, {"out_channels": 3}),
    ],
)
def test_smp_form_gives_the_same_outputs(
    decoder: str, head: str, head_args: dict, defaults: dict
) -> None:
    form, network = _form(decoder, head, head_args, **defaults)
    assert isinstance(form, SmpForm), form
    native = form.recipe.build()
    native.load_state_dict(form.state)
    x = torch.randn(1, 3, 45, 70)  # not a multiple of the stride: padded as densepred pads
    with torch.inference_mode():
        assert torch.allclose(
            padded_forward(native.eval(), x, form.pad_multiple), network(x), atol=1e-5
        )


@pytest.mark.parametrize(
    ("decoder", "head", "head_args", "defaults", "reason"),
    [
        ("smp.FPN", "segmentation", {}, {"num_classes": 2}, r"1x1 convolution .*kernel_size: 1"),
        ("smp.DeepLabV3Plus", "segmentation", {}, {"num_classes": 2}, "1x1 convolution"),
        ("smp.Unet", "depth", {}, {"max_depth": 10.0}, "no equivalent of densepred's depth head"),
        (
            "smp.FPN",
            "image",
            {"kernel_size": 1},
            {"out_channels": 3},
            "after its head's upsampling",
        ),
        (
            "unet",
            "depth",
            {},
            {"max_depth": 10.0},
            "not a segmentation-models-pytorch architecture",
        ),
    ],
)
def test_where_smp_cannot_hold_the_network_the_reason_is_given(
    decoder: str, head: str, head_args: dict, defaults: dict, reason: str
) -> None:
    if decoder == "smp.DeepLabV3Plus":
        cfg = DenseModelConfig(encoder="mobilenet_v3_small", decoder=decoder, output_stride=16)
        recipe = dense_recipe(cfg, head, **defaults)
        form = smp_native_form(recipe, recipe.build())
    else:
        form, _ = _form(decoder, head, head_args, **defaults)
    assert isinstance(form, str)
    assert re.search(reason, form), form


def test_an_edited_smp_config_is_refused(saved_folders, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    for f in saved_folders["segmentation-smp"][1].iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "classes": 5}))
    with pytest.raises(ModelFolderError, match="edited"):
        from_pretrained(folder)
