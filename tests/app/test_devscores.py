"""The dev protocol: seeds beating the constant everywhere, leave-one-scene-out verdicts, the tool."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from densepred.app.devscores import all_scene_wins, leave_one_scene_out, report
from densepred.cli.main import main as densepred

ROOT = Path(__file__).resolve().parents[2]


def group(**scenes: tuple[list[float], float]) -> dict:
    return {
        "runs": ["a", "b", "c"],
        "synthetic_val": [0.2, None, 0.3],
        "scenes": {s: {"model": m, "constant": c} for s, (m, c) in scenes.items()},
    }


REF = group(
    room=([0.30, 0.30, 0.30], 0.25), desk=([0.20, 0.22, 0.18], 0.21), hall=([0.5, 0.5, 0.5], 0.55)
)


def test_seeds_must_beat_the_constant_on_every_scene() -> None:
    assert all_scene_wins(REF) == 0
    better = group(
        room=([0.2, 0.3, 0.2], 0.25), desk=([0.2, 0.2, 0.2], 0.21), hall=([0.5, 0.5, 0.6], 0.55)
    )
    assert all_scene_wins(better) == 1  # seed a only: b loses on room, c on hall


def test_a_change_that_helps_one_scene_and_hurts_another_is_no_gain() -> None:
    mixed = group(room=([0.20] * 3, 0.25), desk=([0.25] * 3, 0.21), hall=([0.45] * 3, 0.55))
    loso = leave_one_scene_out(mixed, REF)
    assert loso["delta"]["room"] == pytest.approx(-0.10)
    assert loso["delta"]["desk"] == pytest.approx(0.05)
    # leaving out desk, room and hall improve: adopted, and desk says that was wrong
    assert loso["adopted"]["desk"] and not loso["right"]["desk"]
    assert not loso["gain"]
    everywhere = group(room=([0.28] * 3, 0.25), desk=([0.19] * 3, 0.21), hall=([0.45] * 3, 0.55))
    assert leave_one_scene_out(everywhere, REF)["gain"]


def test_report_lists_each_seed_and_the_verdicts() -> None:
    new = group(room=([0.2] * 3, 0.25), desk=([0.19] * 3, 0.21), hall=([0.4] * 3, 0.55))
    text = report({"main": REF, "new": new}, "main")
    assert "| constant | - | - | 0.250 | 0.210 | 0.550 | - |" in text
    assert (
        "| main | 3 | 0.250 | 0.300 (0.300 / 0.300 / 0.300) | 0.200 (0.200 / 0.220 / 0.180) |"
        in text
    )
    assert "| new | -0.100 adopt (ok) | -0.010 adopt (ok) | -0.100 adopt (ok) | yes |" in text


def test_tool_scores_runs_once_and_caches(tmp_path: Path, make_tiny, capsys) -> None:
    assert (
        densepred(["train", str(ROOT / "configs" / "depth_mbv3_unet.yaml"), *make_tiny(tmp_path)])
        == 0
    )
    run = tmp_path / "runs" / "depth_mbv3_unet"
    shutil.copy(run / "checkpoints" / "last.ckpt", run / "checkpoints" / "best.ckpt")
    (photos,) = (tmp_path / "data").glob("v*")
    out = tmp_path / "scores.json"
    argv = ["dev-scores", "--roots", str(photos), "--group", "tiny", str(run), "--out", str(out)]
    assert densepred(argv) == 0
    assert "| tiny | 1 |" in capsys.readouterr().out
    cached = json.loads((run / "dev_scores.json").read_text())
    assert len(cached["rows"]) == 4  # the tiny set's validation images
    (run / "checkpoints" / "best.ckpt").unlink()  # the second call reads the cache
    assert densepred(argv) == 0
    assert json.loads(out.read_text())["groups"]["tiny"]["runs"] == [str(run)]
    assert (
        densepred(["dev-scores", "--roots", str(photos), "--group", "x", str(tmp_path / "nope*")])
        == 2
    )
    assert "no run folder matches" in capsys.readouterr().err
    assert densepred([*argv, "--scenes", "kitchen"]) == 2
    assert "--scenes ['kitchen'] are not among" in capsys.readouterr().err
