"""Issue 24 through the command lines: a checkpoint or config never chooses a file to load, no
command writes over its own input, and the unclear cases are one-line errors before any folder
is claimed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from densepred.cli.main import main
from densepred.tasks.checkpoint import read_checkpoint

MAIN = Path(__file__).resolve().parents[2] / "configs" / "depth_mbv3_unet.yaml"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, make_tiny) -> tuple[Path, list[str]]:
    """One tiny run of the main config (one epoch of three steps): its folder and overrides."""
    tmp = tmp_path_factory.mktemp("rel")
    overrides = make_tiny(tmp, max_steps=3)
    assert train_main([str(MAIN), *overrides]) == 0
    return tmp / "runs" / "depth_mbv3_unet", overrides


def train_main(argv: list[str]) -> int:
    return main(["train", *argv])


def evaluate_main(argv: list[str]) -> int:
    return main(["evaluate", *argv])


def predict_main(argv: list[str]) -> int:
    return main(["predict", *argv])


def export_main(argv: list[str]) -> int:
    return main(["export", *argv])


def data_args(overrides: list[str]) -> list[str]:
    return [o for o in overrides if o.startswith("data.")]


def export_ready() -> None:
    pytest.importorskip("onnxruntime", reason="needs the export extra")
    pytest.importorskip("onnxscript", reason="needs the export extra")


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), np.full((20, 30, 3), 120, np.uint8))
    return path


class Payload:
    """Unpickled (``weights_only=False``), it creates ``marker``: code run from a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


LOADER_CASES = [
    "predict",
    "evaluate",
    "export",
    "resume_checkpoint",
    "resume_config",
    "pretrained",
    "teacher",
]


@pytest.mark.parametrize("where", LOADER_CASES)
def test_checkpoint_and_config_never_choose_a_file_to_load(
    trained: tuple[Path, list[str]], tmp_path: Path, image: Path, capsys, where: str
) -> None:
    """Wrong case 2: encoder_args that make timm load a pickle (pretrained_cfg_overlay.file),
    saved in a checkpoint or set in a config, are refused by name; model.pretrained naming the
    pickle is read by densepred's weights-only reader and refused. The pickle never runs."""
    run, overrides = trained
    marker, payload = tmp_path / "pwned", tmp_path / "weights.pth"
    torch.save(Payload(marker), payload)
    evil_args = {"pretrained": True, "pretrained_cfg_overlay": {"file": str(payload)}}

    def poisoned(name: str) -> Path:
        ckpt = read_checkpoint(run / "checkpoints" / f"{name}.ckpt")
        ckpt["hyper_parameters"]["config"]["model"]["encoder_args"] = evil_args
        path = tmp_path / f"poisoned_{name}.ckpt"
        torch.save(ckpt, path)
        return path

    copy = Path(shutil.copytree(run, tmp_path / "run"))
    more = [o for o in overrides if not o.startswith("trainer.max_")] + ["trainer.max_steps=5"]

    def resume(*extra: str) -> list[str]:
        return [str(MAIN), *more, *extra, "--resume", "--run-dir", str(copy)]

    named = "model.encoder_args.pretrained is refused"
    if where == "predict":
        code = predict_main([str(poisoned("best")), str(image), "--out", str(tmp_path / "p")])
    elif where == "evaluate":
        args = [str(MAIN), str(poisoned("best")), *data_args(overrides)]
        code = evaluate_main([*args, "--out", str(tmp_path / "e.json")])
    elif where == "export":
        export_ready()
        code = export_main(
            [str(poisoned("best")), "--format", "onnx", "--out", str(tmp_path / "m.onnx")]
        )
    elif where == "resume_checkpoint":
        shutil.copy(poisoned("last"), copy / "checkpoints" / "last.ckpt")
        code = train_main(resume())
    elif where == "resume_config":
        inline = f"{{pretrained: true, pretrained_cfg_overlay: {{file: '{payload}'}}}}"
        code = train_main(resume(f"model.encoder_args={inline}"))
    elif where == "pretrained":
        code = train_main([str(MAIN), *overrides, f"model.pretrained={payload}"])
        named = f"weights file '{payload}' could not be read"
    else:
        code = train_main(
            [str(MAIN), *overrides, f"task.distill={{teacher: '{poisoned('best')}'}}"]
        )
    err = capsys.readouterr().err
    assert code == 2, err
    assert named in err and "Traceback" not in err
    assert not marker.exists()


def test_evaluate_never_writes_over_its_inputs(
    trained: tuple[Path, list[str]], tmp_path: Path, capsys
) -> None:
    """Wrong case 6: --out the checkpoint or the config is refused (it replaced the checkpoint
    with a 559-byte JSON); --out m.png is not a JSON file; a name without an extension gets .json."""
    run, overrides = trained
    ckpt = Path(shutil.copy(run / "checkpoints" / "best.ckpt", tmp_path / "best.ckpt"))
    config = Path(shutil.copy(MAIN, tmp_path / "config.yaml"))
    before = ckpt.read_bytes(), config.read_bytes()
    args = [str(config), str(ckpt), *data_args(overrides)]
    for out, said in [
        (ckpt, f"would overwrite the checkpoint '{ckpt}'"),
        (config, f"would overwrite the config '{config}'"),
        (tmp_path / "m.png", "ends in '.png' but the file written is .json"),
    ]:
        assert evaluate_main([*args, "--out", str(out)]) == 2
        assert said in capsys.readouterr().err
    assert (ckpt.read_bytes(), config.read_bytes()) == before
    assert not (tmp_path / "m.png").exists()
    assert evaluate_main([*args, "--out", str(tmp_path / "metrics")]) == 0
    assert "metrics" in json.loads((tmp_path / "metrics.json").read_text())


def test_export_never_writes_over_its_input_or_under_another_format(
    trained: tuple[Path, list[str]], tmp_path: Path, capsys
) -> None:
    """Wrong cases 6 and 7 and unclear case 'export --out <existing folder>': the checkpoint is
    never replaced, ONNX bytes never go under a .tflite name, a folder is named as one; a name
    without an extension gets the format's."""
    export_ready()
    run, _ = trained
    ckpt = Path(shutil.copy(run / "checkpoints" / "best.ckpt", tmp_path / "best.ckpt"))
    before = ckpt.read_bytes()
    folder = tmp_path / "exports"
    folder.mkdir()
    for out, said in [
        (ckpt, f"would overwrite the checkpoint '{ckpt}'"),
        (tmp_path / "model.tflite", "ends in '.tflite' but the file written is .onnx"),
        (folder, f"--out '{folder}' is an existing folder; it must name the file to write"),
    ]:
        assert export_main([str(ckpt), "--format", "onnx", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert said in err and err.count("\n") == 1, err
    assert ckpt.read_bytes() == before and not (tmp_path / "model.tflite").exists()
    assert list(folder.iterdir()) == []
    assert export_main([str(ckpt), "--format", "onnx", "--out", str(tmp_path / "model")]) == 0
    assert (tmp_path / "model.onnx").is_file() and (tmp_path / "model.onnx.json").is_file()


def test_predict_never_writes_into_its_inputs(
    trained: tuple[Path, list[str]], tmp_path: Path, image: Path, capsys
) -> None:
    """No command writes over its own input: predict's --out is not an input image or folder."""
    run, _ = trained
    ckpt = run / "checkpoints" / "best.ckpt"
    before = image.read_bytes()
    assert predict_main([str(ckpt), str(image), "--out", str(image)]) == 2
    assert f"would overwrite the input '{image}'" in capsys.readouterr().err
    assert predict_main([str(ckpt), str(image.parent), "--out", str(image.parent)]) == 2
    assert f"would overwrite the input '{image.parent}'" in capsys.readouterr().err
    assert image.read_bytes() == before and sorted(image.parent.iterdir()) == [image]


def test_bad_image_size_fails_before_a_run_folder_is_claimed(
    tmp_path: Path, make_tiny, capsys
) -> None:
    """Unclear case: data.image_size=[0,-4] was an albumentations traceback after the run
    folder was made."""
    assert train_main([str(MAIN), *make_tiny(tmp_path), "data.image_size=[0, -4]"]) == 2
    err = capsys.readouterr().err
    assert "data.image_size: not an image size: give [H, W] in pixels, both at least 1" in err
    assert "Traceback" not in err and not (tmp_path / "runs").exists()


def test_predict_without_inputs_says_so(
    trained: tuple[Path, list[str]], tmp_path: Path, capsys
) -> None:
    """Unclear case: 'predict CKPT --out X' said 'pass either ... not both'."""
    run, _ = trained
    assert predict_main([str(run / "checkpoints" / "best.ckpt"), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no inputs: pass image files or folders") and "not both" not in err
    assert not (tmp_path / "x").exists()


def test_predict_refuses_an_input_over_the_pixel_budget(
    trained: tuple[Path, list[str]], tmp_path: Path, image: Path, capsys
) -> None:
    """Unclear case: a 10000x10000 input ran out of memory in cv2; inputs over --max-pixels
    are refused before any work, with the number that would be needed."""
    run, _ = trained
    out = tmp_path / "pred"
    args = [str(run / "checkpoints" / "best.ckpt"), str(image), "--out", str(out)]
    assert predict_main([*args, "--max-pixels", "599"]) == 2
    err = capsys.readouterr().err
    assert f"input '{image}' is 30x20 = 600 pixels, over the budget of --max-pixels 599" in err
    assert "pass --max-pixels 600" in err and not out.exists()
    assert predict_main([*args, "--max-pixels", "600"]) == 0


def test_export_renders_no_synthetic_data_into_a_real_data_path(
    trained: tuple[Path, list[str]], tmp_path: Path, capsys
) -> None:
    """Also found: 'export CKPT data.root=/real/data' on a synthetic-data checkpoint generated a
    synthetic set in the folder the user named for real data."""
    export_ready()
    run, _ = trained
    real = tmp_path / "real_data"
    args = [str(run / "checkpoints" / "best.ckpt"), f"data.root={real}", "--format", "onnx"]
    assert export_main([*args, "--out", str(tmp_path / "m.onnx")]) == 2
    assert "the checkpoint was trained on synthetic data" in capsys.readouterr().err
    assert not real.exists()


def test_export_reports_the_calibration_images_it_used(
    trained: tuple[Path, list[str]], tmp_path: Path, capsys
) -> None:
    """Also found: '--int8 full --calibration 32' with 6 training images silently used 6."""
    export_ready()
    run, _ = trained
    out = tmp_path / "q.onnx"
    args = [str(run / "checkpoints" / "best.ckpt"), "--format", "onnx", "--int8", "full"]
    assert export_main([*args, "--calibration", "32", "--out", str(out)]) == 0
    report = json.loads(out.with_name("q.onnx.json").read_text())
    assert report["calibration_images"] == {"requested": 32, "used": 6, "split": "train"}
    assert "int8 calibration on 6 image(s) of 'train' (32 requested)" in capsys.readouterr().out
