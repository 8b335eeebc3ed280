"""``densepred real-photos`` on a tiny MAI-layout set: native-resolution scores and the picture."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from densepred.cli.main import main
from densepred.data.io import read_depth

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "configs" / "depth_mbv3_unet.yaml"


@pytest.fixture(scope="module")
def checkpoint_and_photos(tmp_path_factory: pytest.TempPathFactory, make_tiny) -> tuple[Path, Path]:
    """A 2-step main-job checkpoint, and its tiny generated set (MAI layout) as the 'photos'."""
    tmp = tmp_path_factory.mktemp("demo")
    assert main(["train", str(MAIN), *make_tiny(tmp, max_steps=2)]) == 0
    ckpt = tmp / "runs" / "depth_mbv3_unet" / "checkpoints" / "last.ckpt"
    (photos,) = (tmp / "data").glob("v*")
    return ckpt, photos


def test_scores_at_native_resolution_and_draws(
    checkpoint_and_photos: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt, photos = checkpoint_and_photos
    out = tmp_path / "demo.png"
    assert (
        main(["real-photos", str(ckpt), "--root", str(photos), "--split", "val", "--out", str(out)])
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    names = sorted(p.stem for p in (photos / "val" / "rgb").glob("*.png"))
    assert len(lines) == 2 + len(names) + 1 and lines[-1].startswith(f"| mean of {len(names)} |")
    for line, name in zip(lines[2:], names, strict=False):
        cells = [c.strip() for c in line.strip("|").split("|")]
        depth = read_depth(photos / "val" / "depth" / f"{name}.png", 1000.0)
        log = np.log(depth[depth > 0])
        assert cells[0] == name
        assert float(cells[2]) == pytest.approx(log.std(), abs=2e-3)  # the constant's si-RMSE
    picture = cv2.imread(str(out))
    assert picture.shape[1] == 3 * 320 and out.stat().st_size < 300_000


def test_unknown_image_is_a_clear_error(
    checkpoint_and_photos: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt, photos = checkpoint_and_photos
    assert main(["real-photos", str(ckpt), "--root", str(photos), "--image", "nope"]) == 2
    assert "--image 'nope' is not in" in capsys.readouterr().err
