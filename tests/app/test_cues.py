"""The cue probes find the shortcut a model is built to use, and the edits do what they say."""

from __future__ import annotations

import numpy as np
import pytest

from densepred.app.cues import (
    EDITS,
    Sample,
    paste,
    probe,
    rank_correlation,
    report,
    si_rmse,
    summarise,
)


def photo(seed: int = 0) -> Sample:
    """A 60x80 random image whose true depth grows towards the top (1.5 .. 4 m)."""
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    depth = np.broadcast_to(np.linspace(4.0, 1.5, 60)[:, None], (60, 80)).astype(np.float32)
    return Sample("scene", rgb, depth.copy())


def row_model(rgb: np.ndarray) -> np.ndarray:
    """A model that reads depth off the pixel row alone."""
    h, w = rgb.shape[:2]
    return np.broadcast_to(np.linspace(4.0, 1.5, h)[:, None], (h, w)).astype(np.float32).copy()


def brightness_model(rgb: np.ndarray) -> np.ndarray:
    """A model that reads depth off brightness alone (brighter = farther)."""
    return np.exp(rgb.astype(np.float32).mean(axis=2) / 40).astype(np.float32)


@pytest.mark.parametrize("name", EDITS.names())
def test_edits_keep_shape_and_type_and_change_the_image(name: str) -> None:
    rgb = photo().rgb
    out = EDITS.get(name)(rgb, np.random.default_rng(0))
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert not np.array_equal(out, rgb)


def test_paste_copies_the_patch_a_quarter_higher() -> None:
    rgb = photo().rgb
    out, old, new = paste(rgb)
    assert np.array_equal(out[new], rgb[old])
    assert new[0].start == old[0].start - 15
    untouched = np.ones(rgb.shape[:2], bool)
    untouched[new] = False
    assert np.array_equal(out[untouched], rgb[untouched])


def test_rank_correlation_and_si_rmse_hand_values() -> None:
    a = np.arange(10.0)
    assert rank_correlation(a, a**3) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert rank_correlation(np.array([0, 0, 1, 1.0]), np.array([1, 1, 2, 2.0])) == pytest.approx(
        1.0
    )
    depth = np.linspace(1, 3, 12).reshape(3, 4)
    valid = np.ones_like(depth, bool)
    assert si_rmse(2.5 * depth, depth, valid) == pytest.approx(0.0, abs=1e-6)
    expected = np.std(np.log(depth**2) - np.log(depth))
    assert si_rmse(depth**2, depth, valid) == pytest.approx(expected)


def test_a_row_model_is_caught_by_the_flip_and_the_paste() -> None:
    out = probe(row_model, photo())
    assert out["none"]["gt"] == pytest.approx(0.0, abs=1e-6)
    assert out["vflip"]["gt"] > 0.3  # upside down it still puts the top far
    assert out["brighter"]["moved"] == pytest.approx(0.0, abs=1e-6)
    assert out["paste"]["patch"] == pytest.approx(out["paste"]["position"], rel=1e-6)
    assert out["corr_pred"]["row"] == pytest.approx(-1.0, abs=1e-6)


def test_a_brightness_model_moves_with_the_light_and_correlates_with_it() -> None:
    out = probe(brightness_model, photo())
    assert out["corr_pred"]["brightness"] == pytest.approx(1.0, abs=1e-6)
    assert out["brighter"]["moved"] > 0.05 and out["darker"]["moved"] > 0.05
    assert abs(out["corr_gt"]["brightness"]) < 0.1  # the scene itself has no such cue


def test_summary_averages_per_group_and_reports_every_edit() -> None:
    results = [probe(row_model, photo(s), seed=s) for s in range(2)]
    results.append({**probe(row_model, photo(2)), "group": "other"})
    summary = summarise(results)
    assert summary["scene"]["images"] == 2 and summary["other"]["images"] == 1
    text = report(summary)
    for name in ("none", *EDITS.names(), "patch / position", "row, model"):
        assert f"| {name} |" in text


def test_tool_probes_a_checkpoint_on_dev_photos_and_synthetic_images(
    tmp_path, make_tiny, capsys
) -> None:
    import json
    import shutil
    from pathlib import Path

    from densepred.cli.main import main as densepred

    config = Path(__file__).resolve().parents[2] / "configs" / "depth_mbv3_unet.yaml"
    assert densepred(["train", str(config), *make_tiny(tmp_path)]) == 0
    ckpt = tmp_path / "runs" / "depth_mbv3_unet" / "checkpoints" / "last.ckpt"
    (photos,) = (tmp_path / "data").glob("v*")
    dev = tmp_path / "dev" / "val"
    shutil.copytree(photos / "val" / "rgb", dev / "rgb")
    shutil.copytree(photos / "val" / "depth", dev / "depth")
    out = tmp_path / "cues.json"
    argv = [
        "depth-cues",
        str(ckpt),
        "--roots",
        str(dev.parent),
        "--synthetic",
        "2",
        "--out",
        str(out),
    ]
    assert densepred(argv) == 0
    assert "| patch / position |" in capsys.readouterr().out
    summary = json.loads(out.read_text())["summary"]
    assert summary["synthetic val"]["images"] == 2
    assert sum(v["images"] for v in summary.values()) == 2 + 4  # and the 4 'dev photos'
    assert densepred(["depth-cues", str(ckpt), "--roots", str(tmp_path / "none")]) == 2
    assert "no images under" in capsys.readouterr().err
