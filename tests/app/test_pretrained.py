"""Model folders from trained checkpoints (full or weights-only): the card holds the run's metrics,
and predict, evaluate and export take the folder as they take the checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import densepred
from densepred.app.config import load_config
from densepred.app.inference import evaluate_checkpoint, load_task
from densepred.cli.main import main
from densepred.portable.spec import ModelFolderError
from densepred.tasks.checkpoint import read_checkpoint


@pytest.fixture(scope="module")
def folder(trained_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return densepred.save_pretrained(trained_checkpoint, tmp_path_factory.mktemp("saved") / "model")


def test_card_holds_the_runs_metrics_and_protocol(folder: Path, trained_checkpoint: Path) -> None:
    run = trained_checkpoint.parent.parent
    record = json.loads((run / "metrics.json").read_text())
    training = json.loads((folder / "config.json").read_text())["training"]
    assert training["metrics"] == record["val"] and training["source"] == str(trained_checkpoint)
    assert training["command"] == f"python tools/train.py {run / 'config.yaml'}"
    card = (folder / "README.md").read_text()
    assert f"| val/mai_si_rmse | {record['val']['val/mai_si_rmse']:.4f} |" in card
    assert "Protocol: split 'val'" in card and "native resolution" in card
    assert f"python tools/train.py {run / 'config.yaml'}" in card
    assert "```yaml" in card and "depth_mbv3_unet" in card


def test_last_checkpoint_gets_no_metrics_of_another(
    trained_checkpoint: Path, tmp_path: Path
) -> None:
    last = trained_checkpoint.with_name("last.ckpt")
    out = densepred.save_pretrained(last, tmp_path / "last")
    training = json.loads((out / "config.json").read_text())["training"]
    assert "metrics" not in training and "not 'last.ckpt'" in training["metrics_note"]


def test_weights_only_checkpoint_saves_the_same_folder(
    trained_checkpoint: Path, folder: Path, tmp_path: Path
) -> None:
    ckpt = read_checkpoint(trained_checkpoint)
    slim = tmp_path / "weights_only.ckpt"
    torch.save({k: ckpt[k] for k in ("state_dict", "hyper_parameters")}, slim)
    out = densepred.save_pretrained(slim, tmp_path / "from_slim")
    assert (out / "model.safetensors").read_bytes() == (folder / "model.safetensors").read_bytes()
    full, weights_only = load_task(trained_checkpoint), load_task(slim)  # predict/evaluate/export
    assert all(
        torch.equal(a, b)
        for a, b in zip(full.state_dict().values(), weights_only.state_dict().values(), strict=True)
    )


def test_predict_takes_the_folder_like_the_checkpoint(
    trained_checkpoint: Path, folder: Path, tmp_path: Path
) -> None:
    image = tmp_path / "x.png"
    import cv2

    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 255, (37, 53, 3), np.uint8))
    for name, source in (("ckpt", trained_checkpoint), ("folder", folder)):
        args = [str(source), str(image), "--out", str(tmp_path / name), "--format", "npy"]
        assert main(["predict", *args, "--no-progress"]) == 0
    assert np.allclose(
        np.load(tmp_path / "ckpt" / "x_depth.npy"),
        np.load(tmp_path / "folder" / "x_depth.npy"),
        atol=1e-6,
    )


def test_evaluate_takes_the_folder_like_the_checkpoint(
    trained_checkpoint: Path, folder: Path, tmp_path: Path
) -> None:
    config = load_config(trained_checkpoint.parent.parent / "config.yaml")
    from_ckpt = evaluate_checkpoint(config, trained_checkpoint, tmp_path / "a.json")
    from_folder = evaluate_checkpoint(config, folder, tmp_path / "b.json")
    assert from_ckpt.keys() == from_folder.keys()
    for key, value in from_ckpt.items():
        assert from_folder[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key


def test_export_writes_a_checked_folder(trained_checkpoint: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "exported"
    assert (
        main(["export", str(trained_checkpoint), "--format", "pretrained", "--out", str(out)]) == 0
    )
    report = json.loads((tmp_path / "exported.json").read_text())
    assert report["passed"] and report["runtime"] == "torch"  # the folder, loaded afresh
    assert report["parity"]["max_rel_diff"] < 1e-5  # the same network (trained channels-last)
    assert set(report["parity_free_axes"]) == {"batch4", "other_size"}
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
    ]
    assert main(["export", str(trained_checkpoint), "--format", "pretrained", "--nhwc"]) == 2
    assert "--nhwc do not apply to --format pretrained" in capsys.readouterr().err


def test_a_folder_exports_again(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "again"
    assert main(["export", str(folder), "--format", "pretrained", "--out", str(out)]) == 0
    assert (out / "model.safetensors").read_bytes() == (folder / "model.safetensors").read_bytes()
    assert json.loads((tmp_path / "again.json").read_text())["passed"]


def test_gan_folders_are_for_predict_only(tmp_path: Path) -> None:
    from densepred.app.config import config_from_dict
    from densepred.app.tasks import TASKS

    raw = {
        "task": {"name": "gan"},
        "model": {"encoder": "mobilenet_v3_small"},
        "data": {"image_size": [32, 32]},
    }
    config = config_from_dict(raw)
    out = densepred.save_pretrained(TASKS.get("gan")(config), tmp_path / "gan")
    with pytest.raises(ModelFolderError, match="holds a GAN generator only"):
        load_task(out)
