"""``densepred prepare-data`` and ``densepred benchmark-data``: errors as exit code 2 with the
message, a prepared cache named in the output (``--help`` without torch: test_import_cost.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from densepred.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "configs" / "depth_mbv3_unet.yaml"


def test_prepare_without_an_output_is_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prepare-data", str(MAIN)]) == 2
    assert "--out DIR or data.cache" in capsys.readouterr().err


def test_prepare_refuses_a_task_without_dense_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prepare-data", str(ROOT / "configs" / "cls_mbv2.yaml"), "--out", "x"]) == 2
    assert "dense tasks" in capsys.readouterr().err


def test_prepare_writes_a_cache_and_says_how_to_train_from_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("litdata")
    overrides = [
        f"data.root={tmp_path / 'data'}",
        "data.args={num_train: 2, num_val: 2, size: [48, 64], seed: 0}",
        "data.image_size=[32, 48]",
    ]
    cache = tmp_path / "cache"
    assert main(["prepare-data", str(MAIN), *overrides, "--out", str(cache), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert f"data.cache={cache}" in out and (cache / "densepred_cache.json").is_file()


def test_benchmark_of_a_missing_cache_is_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("litdata")
    overrides = [
        f"data.root={tmp_path / 'data'}",
        "data.args={num_train: 2, num_val: 2, size: [48, 64], seed: 0}",
        f"data.cache={tmp_path / 'nothing'}",
    ]
    assert main(["benchmark-data", str(MAIN), *overrides, "--steps", "0"]) == 2
    assert "holds no complete cache" in capsys.readouterr().err
