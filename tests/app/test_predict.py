"""predict that scales: batches of mixed sizes give batch-1 answers, npy in metres, the PNG scale
of the training data, per-image colour ranges, sub-folders, probabilities, devices."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from densepred.app.config import config_from_dict
from densepred.app.predict import expand_images, predict_files, resolve_device
from densepred.app.pretrained import save_pretrained
from densepred.app.tasks import TASKS
from densepred.cli.main import main
from densepred.core.errors import ConfigError
from densepred.data.io import write_image

ENCODER = "mobilenet_v3_small"


def _folder(raw: dict, out: Path) -> Path:
    config = config_from_dict(raw)
    torch.manual_seed(0)
    return save_pretrained(TASKS.get(config.task_name)(config).eval(), out)


@pytest.fixture(scope="module")
def depth_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A depth model at 32x48 whose training data stored depth in 1/256 m (KITTI style)."""
    raw = {
        "task": {"name": "depth", "min_depth": 0.5, "max_depth": 80.0},
        "model": {"encoder": ENCODER, "decoder": "unet"},
        "data": {"image_size": [32, 48], "depth_scale": 256.0},
    }
    return _folder(raw, tmp_path_factory.mktemp("depth") / "model")


@pytest.fixture(scope="module")
def native_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A depth model that runs at each image's own size."""
    raw = {"task": {"name": "depth"}, "model": {"encoder": ENCODER}, "data": {"image_size": None}}
    return _folder(raw, tmp_path_factory.mktemp("native") / "model")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seven pictures of four sizes, two in a sub-folder."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    sizes = [(30, 40), (45, 61), (30, 40), (64, 48), (45, 61), (30, 40), (33, 33)]
    for i, size in enumerate(sizes):
        folder = root / "sub" if i >= 5 else root
        write_image(folder / f"im{i}.png", rng.integers(0, 256, (*size, 3), dtype=np.uint8))
    return root


def _npy(folder: Path, suffix: str = "_depth.npy") -> dict[str, np.ndarray]:
    return {p.name: np.load(p) for p in sorted(folder.glob(f"*{suffix}"))}


@pytest.mark.parametrize("model", ["depth_model", "native_model"])
def test_batches_of_mixed_sizes_equal_batch_one(
    model: str, images: Path, tmp_path: Path, request
) -> None:
    folder = request.getfixturevalue(model)
    one = predict_files(folder, [images], tmp_path / "b1", "cpu", 1, True, "npy", progress=False)
    four = predict_files(folder, [images], tmp_path / "b4", "cpu", 4, True, "npy", progress=False)
    assert one.images == four.images == 7 and four.batch_size > 1
    a, b = _npy(tmp_path / "b1"), _npy(tmp_path / "b4")
    assert a.keys() == b.keys() and len(a) == 7
    for name in a:
        assert a[name].shape == b[name].shape
        assert np.allclose(a[name], b[name], rtol=1e-5, atol=1e-5), name


def test_npy_holds_metres_and_png_the_training_scale(
    depth_model: Path, images: Path, tmp_path: Path
) -> None:
    from densepred import from_pretrained

    result = predict_files(
        depth_model, [images / "im1.png"], tmp_path, "cpu", fmt="both", progress=False
    )
    names = sorted(p.name for p in result.written)
    assert names == ["im1_depth.npy", "im1_depth.png", "im1_depth_color.png"]
    metres = np.load(tmp_path / "im1_depth.npy")
    assert metres.dtype == np.float32 and metres.shape == (45, 61)
    picture = cv2.cvtColor(cv2.imread(str(images / "im1.png")), cv2.COLOR_BGR2RGB)
    assert np.allclose(metres, from_pretrained(depth_model).predict([picture])[0], atol=1e-6)
    assert 0.5 <= metres.min() and metres.max() <= 80.0
    png = cv2.imread(str(tmp_path / "im1_depth.png"), cv2.IMREAD_UNCHANGED)
    assert png.dtype == np.uint16 and np.array_equal(
        png, np.clip(np.rint(metres * 256.0), 1, 65535)
    )
    color = cv2.imread(str(tmp_path / "im1_depth_color.png"))
    assert color.shape[0] > 45 and color.shape[1] == 61  # the range is written below the picture


def test_pngs_clipped_at_the_uint16_range_are_reported(tmp_path: Path, images: Path) -> None:
    raw = {
        "task": {"name": "depth", "min_depth": 70.0, "max_depth": 200.0},
        "model": {"encoder": ENCODER},
        "data": {"image_size": [32, 32], "depth_scale": 1000.0},
    }
    folder = _folder(raw, tmp_path / "far")
    result = predict_files(folder, [images / "im0.png"], tmp_path / "out", "cpu", progress=False)
    assert result.warnings and "--format npy keeps them" in result.warnings[0]


def test_folders_recursive_and_images_per_second(
    images: Path, depth_model: Path, tmp_path: Path, capsys
) -> None:
    assert len(expand_images([images])) == 5
    assert len(expand_images([images], recursive=True)) == 7
    args = [
        str(depth_model),
        str(images),
        "--out",
        str(tmp_path),
        "--recursive",
        "--batch-size",
        "3",
    ]
    assert main(["predict", *args, "--no-progress", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "7 images in" in printed and "images/s (batch size 3, cpu)" in printed
    assert len(list(tmp_path.glob("*_depth.png"))) == 7


def test_segmentation_probabilities(tmp_path: Path, images: Path) -> None:
    raw = {
        "task": {"name": "segmentation"},
        "model": {"encoder": ENCODER, "decoder": "smp.Unet"},
        "data": {"image_size": [64, 64], "classes": ["a", "b", "c"]},
    }
    folder = _folder(raw, tmp_path / "seg")
    out = tmp_path / "out"
    result = predict_files(
        folder, [images], out, "cpu", 2, False, "both", save_probs=True, progress=False
    )
    assert result.images == 5
    probs, mask = np.load(out / "im1_probs.npy"), np.load(out / "im1_mask.npy")
    assert probs.shape == (3, 45, 61) and probs.dtype == np.float32
    assert np.allclose(probs.sum(0), 1, atol=1e-5) and np.array_equal(probs.argmax(0), mask)
    assert np.array_equal(cv2.imread(str(out / "im1_mask.png"), cv2.IMREAD_UNCHANGED), mask)


def test_devices() -> None:
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(ConfigError, match="unknown device 'tpu9'"):
        resolve_device("tpu9")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            resolve_device("cuda")
