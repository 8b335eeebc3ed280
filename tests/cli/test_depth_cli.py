"""The main job's entry points end to end on tiny data: train, resume, evaluate, predict."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from densepred.app.config import load_config
from densepred.app.inference import load_task
from densepred.app.train import run_training
from densepred.cli.main import main
from densepred.tasks import NonFiniteLossError
from densepred.tasks.checkpoint import read_checkpoint

MAIN = Path(__file__).resolve().parents[2] / "configs" / "depth_mbv3_unet.yaml"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, make_tiny) -> tuple[Path, list[str]]:
    """One tiny run of the main config through tools/train.py's entry point."""
    tmp = tmp_path_factory.mktemp("depth")
    overrides = make_tiny(tmp, max_steps=3)
    assert main(["train", str(MAIN), *overrides]) == 0
    return tmp / "runs" / "depth_mbv3_unet", overrides


def test_run_folder_has_everything(trained: tuple[Path, list[str]]) -> None:
    run, _ = trained
    assert (run / "config.yaml").is_file()
    assert load_config(run / "config.yaml").to_dict()["model"]["encoder"] == "mobilenet_v3_large"
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert (run / "checkpoints" / "best.ckpt").is_file()
    record = json.loads((run / "metrics.json").read_text())
    assert record["checkpoint"].endswith("best.ckpt")
    for key in ("val/mai_si_rmse", "val/mai_rmse", "val/abs_rel", "val/delta1", "val/silog"):
        assert np.isfinite(record["val"][key]), key
    assert list((run / "logs").rglob("metrics.csv"))
    assert list((run / "tensorboard").rglob("events.out.tfevents.*"))
    picture = cv2.imread(str(run / "predictions.png"))
    assert picture is not None and picture.shape[0] > 32 and picture.shape[1] > 3 * 48


def test_initial_validation_is_recorded(trained: tuple[Path, list[str]]) -> None:
    """The model is scored before its first step, so a run shows what training gained."""
    run, _ = trained
    record = json.loads((run / "metrics.json").read_text())
    assert set(record["initial_val"]) == set(record["val"])
    assert record["initial_val"]["val/mai_si_rmse"] != record["val"]["val/mai_si_rmse"]
    samples = sorted(p.name for p in (run / "samples").iterdir())
    epochs = [f"val_epoch{i:03d}.png" for i in range(record["epochs"])]
    assert samples == sorted(["val_init.png", "val_best.png", *epochs])  # no extra epoch


def test_checkpoint_loads_without_pickled_code(trained: tuple[Path, list[str]]) -> None:
    run, _ = trained
    ckpt = read_checkpoint(run / "checkpoints" / "best.ckpt")  # weights_only=True inside
    assert ckpt["hyper_parameters"]["config"]["task"]["name"] == "depth"
    task = load_task(run / "checkpoints" / "best.ckpt")
    assert not task.training


def test_evaluate_prints_and_saves(
    trained: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    run, overrides = trained
    out = run / "eval.json"
    data_overrides = [o for o in overrides if o.startswith("data.")]
    assert (
        main(["evaluate", str(MAIN), str(run / "checkpoints" / "best.ckpt"), *data_overrides, "--out", str(out)]
        )
        == 0
    )
    metrics = json.loads(out.read_text())["metrics"]
    assert "val/mai_si_rmse" in metrics
    assert "val/mai_si_rmse" in capsys.readouterr().out
    grid = cv2.imread(str(out.with_suffix(".png")))  # the evaluated samples, beside the JSON
    assert grid is not None and grid.shape[1] > 3 * 48
    assert not (run / "checkpoints" / "samples").exists()


def test_evaluate_on_a_test_split_draws_its_samples_too(trained: tuple[Path, list[str]]) -> None:
    run, overrides = trained
    out = run / "test_eval.json"
    data_overrides = [o for o in overrides if o.startswith("data.")] + ["data.test_split=val"]
    checkpoint = str(run / "checkpoints" / "best.ckpt")
    assert main(["evaluate", str(MAIN), checkpoint, *data_overrides, "--out", str(out)]) == 0
    assert "test/mai_si_rmse" in json.loads(out.read_text())["metrics"]
    grid = cv2.imread(str(out.with_suffix(".png")))
    assert grid is not None and grid.shape[1] > 3 * 48


def test_predict_any_size_writes_uint16_millimetres(
    trained: tuple[Path, list[str]], tmp_path: Path
) -> None:
    run, _ = trained
    image = np.random.default_rng(0).integers(0, 255, (37, 53, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "odd.png"), image)
    out = tmp_path / "pred"
    assert (
        main(["predict", str(run / "checkpoints" / "best.ckpt"), str(tmp_path / "odd.png"), "--out", str(out)]
        )
        == 0
    )
    depth = cv2.imread(str(out / "odd_depth.png"), cv2.IMREAD_UNCHANGED)
    assert depth.dtype == np.uint16 and depth.shape == (37, 53)
    assert 0 < depth.max() <= 10_000  # millimetres, within max_depth
    color = cv2.imread(str(out / "odd_depth_color.png"))
    assert color.shape[1:] == (53, 3) and color.shape[0] > 37  # the colour range written below


def test_resume_continues_from_last(trained: tuple[Path, list[str]], make_tiny) -> None:
    run, overrides = trained
    before = read_checkpoint(run / "checkpoints" / "last.ckpt")["global_step"]
    more = [o for o in overrides if not o.startswith("trainer.max_")] + [
        "trainer.max_steps=5",
        "trainer.max_epochs=5",
    ]
    assert main(["train", str(MAIN), *more, "--resume"]) == 0
    after = read_checkpoint(run / "checkpoints" / "last.ckpt")["global_step"]
    assert before == 3 and after == 5


def test_second_run_gets_a_new_folder(trained: tuple[Path, list[str]]) -> None:
    run, overrides = trained
    assert main(["train", str(MAIN), *overrides, "trainer.max_steps=1"]) == 0
    assert (run.parent / f"{run.name}_1" / "checkpoints" / "last.ckpt").is_file()


def test_resume_without_checkpoint_is_a_clear_error(tmp_path: Path, make_tiny, capsys) -> None:
    assert main(["train", str(MAIN), *make_tiny(tmp_path), "--resume"]) == 2
    assert "no checkpoint at" in capsys.readouterr().err


def test_config_typo_exits_with_message(tmp_path: Path, make_tiny, capsys) -> None:
    assert main(["train", str(MAIN), *make_tiny(tmp_path), "model.decodr=unet"]) == 2
    err = capsys.readouterr().err
    assert "model.decodr" in err and "'decoder'" in err


def test_nan_loss_stops_and_keeps_last_good_checkpoint(
    tmp_path: Path, make_tiny, monkeypatch
) -> None:
    from densepred.losses.depth import DepthLoss

    real_forward = DepthLoss.forward
    calls = {"n": 0}

    def flaky(self, pred, gt):
        calls["n"] += 1
        total, parts = real_forward(self, pred, gt)
        return (total * float("nan") if calls["n"] > 3 else total), parts

    monkeypatch.setattr(DepthLoss, "forward", flaky)
    overrides = [o for o in make_tiny(tmp_path) if not o.startswith("trainer.max_")]
    overrides += [
        "trainer.max_epochs=10",
        "trainer.limit_train_batches=1",
        "trainer.limit_val_batches=1",
    ]
    cfg = load_config(MAIN, overrides)
    with pytest.raises(NonFiniteLossError, match="newest checkpoint with finite weights is"):
        run_training(cfg)
    last = tmp_path / "runs" / "depth_mbv3_unet" / "checkpoints" / "last.ckpt"
    state = read_checkpoint(last)["state_dict"]
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


@pytest.fixture
def poisoned(trained: tuple[Path, list[str]], tmp_path: Path) -> Path:
    """A copy of the best checkpoint with one weight set to infinity."""
    run, _ = trained
    ckpt = read_checkpoint(run / "checkpoints" / "best.ckpt")
    name = next(k for k, v in ckpt["state_dict"].items() if v.is_floating_point())
    weight = ckpt["state_dict"][name]
    weight[(0,) * weight.dim()] = float("inf")  # in place, whatever its memory format
    path = tmp_path / "poisoned.ckpt"
    torch.save(ckpt, path)
    return path


def test_evaluate_and_predict_refuse_non_finite_weights(
    trained: tuple[Path, list[str]], poisoned: Path, tmp_path: Path, capsys
) -> None:
    """Issue 12, case 2: no NaN metrics or all-zero depth from a poisoned checkpoint."""
    _, overrides = trained
    data = [o for o in overrides if o.startswith("data.")]
    assert main(["evaluate", str(MAIN), str(poisoned), *data, "--out", str(tmp_path / "e.json")]) == 2
    err = capsys.readouterr().err
    assert f"checkpoint '{poisoned}' holds NaN or infinite weights" in err
    image = tmp_path / "x.png"
    cv2.imwrite(str(image), np.zeros((20, 30, 3), np.uint8))
    assert main(["predict", str(poisoned), str(image), "--out", str(tmp_path / "pred")]) == 2
    assert "holds NaN or infinite weights" in capsys.readouterr().err
    assert not (tmp_path / "pred" / "x_depth.png").exists()


def test_predict_same_stems_get_distinct_outputs(
    trained: tuple[Path, list[str]], tmp_path: Path, capsys
) -> None:
    """Issue 12, case 5: A/x.png, A/x.jpg and B/x.png never overwrite each other."""
    run, _ = trained
    rng = np.random.default_rng(0)
    inputs = [
        tmp_path / "in" / "A" / "x.png",
        tmp_path / "in" / "A" / "x.jpg",
        tmp_path / "in" / "B" / "x.png",
    ]
    for path in inputs:
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), rng.integers(0, 255, (24, 32, 3), dtype=np.uint8))
    out = tmp_path / "pred"
    ckpt = str(run / "checkpoints" / "best.ckpt")
    assert main(["predict", ckpt, str(tmp_path / "in" / "A"), str(inputs[2]), "--out", str(out)]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert [f for f in files if f.endswith("_depth.png")] == [
        "A_x_jpg_depth.png",
        "A_x_png_depth.png",
        "B_x_png_depth.png",
    ]
    assert f"wrote {len(files)} files to {out}" in capsys.readouterr().out


def test_bad_file_met_in_a_loader_worker_is_one_line(
    trained: tuple[Path, list[str]], tmp_path: Path, make_tiny, capsys
) -> None:
    """Issue 12 (truncated image): a PNG whose header is intact but whose data is cut short passes
    data.check=quick and is met by a DataLoader worker; the user still reads the worker's one-line
    message, not 'Caught DataError in DataLoader worker process 0' and its traceback."""
    _, overrides = trained
    source = Path(next(o for o in overrides if o.startswith("data.root=")).split("=", 1)[1])
    data = Path(shutil.copytree(source, tmp_path / "data"))
    image = sorted(data.glob("*/train/rgb/*.png"))[0]
    image.write_bytes(image.read_bytes()[:-40])
    assert main(["train", str(MAIN), *make_tiny(tmp_path), "data.num_workers=1"]) == 2
    err = capsys.readouterr().err
    expected = f"error: image file '{image}' is empty, truncated or not an image OpenCV can decode."
    assert [line for line in err.splitlines() if "error" in line.lower()] == [expected]
    assert "DataLoader worker" not in err and "Traceback" not in err


def test_resume_from_a_truncated_last_exits_2(
    trained: tuple[Path, list[str]], tmp_path: Path, capsys
) -> None:
    """Issue 12, case 9: one line naming the file and what to do, exit code 2."""
    run, overrides = trained
    copy = Path(shutil.copytree(run, tmp_path / "run"))
    last = copy / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:1000])
    assert main(["train", str(MAIN), *overrides, "--resume", "--run-dir", str(copy)]) == 2
    err = capsys.readouterr().err
    assert f"error: checkpoint '{last}' is corrupt or truncated" in err
    assert "best.ckpt" in err and "without --resume" in err


def test_ctrl_c_exits_130(tmp_path: Path, make_tiny, monkeypatch, capsys) -> None:
    """Issue 12, case 10: the CLI's promise, not Lightning's SystemExit(1)."""
    from densepred.losses.depth import DepthLoss

    def ctrl_c(self, pred, gt):
        raise KeyboardInterrupt

    handler = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(DepthLoss, "forward", ctrl_c)
    try:
        code = main(["train", str(MAIN), *make_tiny(tmp_path)])
    finally:
        signal.signal(signal.SIGINT, handler)
    assert code == 130
    assert "interrupted: finished checkpoints and results are kept." in capsys.readouterr().err


def test_output_folder_that_is_a_file_exits_2(
    trained: tuple[Path, list[str]], tmp_path: Path, make_tiny, capsys
) -> None:
    """Issue 12, case 12: train's output_dir and predict's --out under a file."""
    run, _ = trained
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    assert main(["train", str(MAIN), *make_tiny(tmp_path), f"output_dir={blocker / 'runs'}"]) == 2
    assert f"'{blocker}' is a file, not a folder" in capsys.readouterr().err
    image = tmp_path / "x.png"
    cv2.imwrite(str(image), np.zeros((20, 30, 3), np.uint8))
    ckpt = str(run / "checkpoints" / "best.ckpt")
    assert main(["predict", ckpt, str(image), "--out", str(blocker / "pred")]) == 2
    assert f"output folder '{blocker / 'pred'}' cannot be created" in capsys.readouterr().err


@pytest.mark.slow
def test_sigint_on_tools_train_exits_130(tmp_path: Path, make_tiny) -> None:
    """Issue 12, case 10, with a real Ctrl-C: SIGINT to tools/train.py once it has a checkpoint."""
    root = Path(__file__).resolve().parents[2]
    overrides = [o for o in make_tiny(tmp_path) if not o.startswith("trainer.max_")]
    proc = subprocess.Popen(
        [sys.executable, str(root / "tools" / "train.py"), str(MAIN), *overrides]
        + ["trainer.max_steps=1000", "trainer.max_epochs=1000"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    last = tmp_path / "runs" / "depth_mbv3_unet" / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 300
    while not last.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted: finished checkpoints and results are kept." in err
    assert read_checkpoint(last)["global_step"] > 0


class Payload:
    """Unpickling this would create a file: what a crafted checkpoint could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


def test_crafted_checkpoint_runs_nothing(
    trained: tuple[Path, list[str]], tmp_path: Path, capsys
) -> None:
    """Issue 12, a case that already passed: evaluate and predict read weights only."""
    _, overrides = trained
    marker, crafted = tmp_path / "pwned", tmp_path / "crafted.ckpt"
    torch.save({"state_dict": {}, "payload": Payload(marker)}, crafted)
    image = tmp_path / "x.png"
    cv2.imwrite(str(image), np.zeros((20, 30, 3), np.uint8))
    data = [o for o in overrides if o.startswith("data.")]
    assert main(["evaluate", str(MAIN), str(crafted), *data]) == 2
    assert main(["predict", str(crafted), str(image), "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert err.count(f"checkpoint '{crafted}' holds objects other than tensors") == 2
    assert not marker.exists()


def _mai_val_only(root: Path, depth_mm: int = 2000) -> list[Path]:
    """An evaluation-only MAI layout (``val/`` only, no ``train/``) of three 24x32 pairs."""
    rng = np.random.default_rng(0)
    images = []
    for i in range(3):
        for sub in ("rgb", "depth"):
            (root / "val" / sub).mkdir(parents=True, exist_ok=True)
        image = root / "val" / "rgb" / f"{i:05d}.png"
        cv2.imwrite(str(image), rng.integers(0, 255, (24, 32, 3), dtype=np.uint8))
        depth = np.full((24, 32), depth_mm * (i + 1), dtype=np.uint16)
        cv2.imwrite(str(root / "val" / "depth" / f"{i:05d}.png"), depth)
        images.append(image)
    return images


def _evaluate_on(run: Path, root: Path, out: Path) -> int:
    data = ["data.format=mai", f"data.root={root}", "data.args={}", "data.num_workers=0"]
    ckpt = str(run / "checkpoints" / "best.ckpt")
    return main(["evaluate", str(MAIN), ckpt, *data, "--out", str(out)])


def test_evaluate_checks_only_the_evaluated_split_before_work(
    trained: tuple[Path, list[str]], tmp_path: Path, capsys
) -> None:
    """Issue 12, case 15: evaluate reads only the evaluated split, and reports all its bad files
    at once before any work (here a truncated image and an 8-bit depth map)."""
    run, _ = trained
    images = _mai_val_only(tmp_path / "mai")
    assert _evaluate_on(run, tmp_path / "mai", tmp_path / "good.json") == 0
    images[0].write_bytes(images[0].read_bytes()[:40])
    eight_bit = tmp_path / "mai" / "val" / "depth" / "00002.png"
    cv2.imwrite(str(eight_bit), np.full((24, 32), 7, dtype=np.uint8))
    capsys.readouterr()
    assert _evaluate_on(run, tmp_path / "mai", tmp_path / "bad.json") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data check (quick) found 2 problem(s) in 3 record(s)")
    assert f"split 'val': image file '{images[0]}'" in err
    assert f"split 'val': depth file '{eight_bit}' is a L image" in err
    assert not (tmp_path / "bad.json").exists()


def test_evaluate_on_depth_without_valid_pixels_exits_2(
    trained: tuple[Path, list[str]], tmp_path: Path, capsys
) -> None:
    """Issue 12, case 6: evaluation data whose depth is all out of range is an error naming the
    split and the settings, not NaN metrics with exit 0."""
    run, _ = trained
    _mai_val_only(tmp_path / "mai", depth_mm=0)
    assert _evaluate_on(run, tmp_path / "mai", tmp_path / "m.json") == 2
    err = capsys.readouterr().err
    assert "error: split 'val' has 0 valid depth pixels in 3 of 3 depth files" in err
    assert "Check data.depth_scale, task.min_depth / task.max_depth" in err


def test_predict_skip_bad_goes_on_past_undecodable_files(
    trained: tuple[Path, list[str]], tmp_path: Path, capsys
) -> None:
    """Issue 12, case 15: by default an undecodable file in a folder stops predict with an error
    naming it and --skip-bad; with --skip-bad the others are predicted and the bad one listed."""
    run, _ = trained
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.png", "c.png"):
        cv2.imwrite(str(folder / name), rng.integers(0, 255, (24, 32, 3), dtype=np.uint8))
    (folder / "b.png").write_bytes(b"not an image")
    ckpt = str(run / "checkpoints" / "best.ckpt")
    assert main(["predict", ckpt, str(folder), "--out", str(tmp_path / "stop")]) == 2
    err = capsys.readouterr().err
    assert f"image file '{folder / 'b.png'}' is empty, truncated or not an image" in err
    assert "--skip-bad" in err
    out = tmp_path / "pred"
    assert main(["predict", ckpt, str(folder), "--out", str(out), "--skip-bad"]) == 0
    captured = capsys.readouterr()
    assert sorted(p.name for p in out.glob("*_depth.png")) == ["a_depth.png", "c_depth.png"]
    assert f"skipped 1 unreadable file(s):\n  {folder / 'b.png'}: image file" in captured.err
    assert f"wrote 4 files to {out}" in captured.out
