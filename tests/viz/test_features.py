"""Feature-map grids from the visualize_features tool."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from densepred.cli.main import main
from densepred.encoders import create_encoder
from densepred.viz.features import image_to_tensor, visualize_features


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "image.png"
    rng = np.random.default_rng(0)
    cv2.imwrite(str(path), rng.integers(0, 256, (40, 56, 3), dtype=np.uint8))
    return path


def test_image_to_tensor_normalises() -> None:
    # 255 x the ImageNet mean, rounded
    mean_pixel = np.broadcast_to(np.array([124, 116, 104], dtype=np.uint8), (2, 3, 3))
    white = np.full((2, 3, 3), 255, dtype=np.uint8)
    assert image_to_tensor(mean_pixel).shape == (1, 3, 2, 3)
    assert image_to_tensor(mean_pixel).abs().max() < 0.01
    assert image_to_tensor(white)[0, :, 0, 0].tolist() == pytest.approx(
        [2.249, 2.429, 2.640], abs=1e-3
    )


def test_tool_writes_one_png_per_stage(
    image: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "maps"
    assert main(["visualize-features", "mobilenet_v3_small", str(image), "--num", "4", "--out", str(out)]) == 0
    names = ["input.png", *(f"stage{i}_stride{2**i}.png" for i in range(1, 6))]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    assert capsys.readouterr().out.split() == [str(out / n) for n in names]
    for name in names:
        picture = cv2.imread(str(out / name))
        assert picture is not None and picture.std() > 0


def test_dilated_encoder_and_resize(image: Path, tmp_path: Path) -> None:
    encoder = create_encoder("resnet18", output_stride=16)
    written = visualize_features(encoder, image, tmp_path, num=2, size=(32, 48))
    assert written[-1].name == "stage5_stride16.png"
    assert cv2.imread(str(written[0])).shape == (32, 48, 3)


def test_unreadable_image_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    assert main(["visualize-features", "mobilenet_v3_small", str(bad), "--out", str(tmp_path)]) == 2
    assert str(bad) in capsys.readouterr().err
