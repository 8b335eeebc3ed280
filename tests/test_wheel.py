"""The installed tool, not the checkout: build the wheel, install it into a fresh virtual
environment outside the repository, and run the README's commands from an empty folder."""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "data.args={num_train: 6, num_val: 4, size: [48, 64], seed: 0}",
    "data.image_size=[32, 48]",
    "data.batch_size=2",
    "data.num_workers=0",
    "trainer.max_steps=3",
    "trainer.max_epochs=1",
    "trainer.limit_val_batches=2",
    "trainer.enable_progress_bar=false",
    "trainer.accelerator=cpu",
]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_the_wheel_runs_the_readme_commands_from_an_empty_folder(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = wheels.glob("densepred-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "-q", str(wheel)],
        check=True, capture_output=True,
    )
    # The dependencies (torch, timm, ...) come from this environment: a .pth file adds its
    # site-packages after the new environment's own, so densepred itself is the wheel's.
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    (Path(purelib) / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    work = tmp_path / "empty"
    work.mkdir()
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    where = _run([str(python), "-c", "import densepred; print(densepred.__file__)"], work, env)
    assert where.startswith(purelib), where  # not the checkout

    assert "depth_mbv3_unet" in _run(["densepred", "configs"], work, env)
    _run(["densepred", "train", "depth_mbv3_unet", *TINY], work, env)
    ckpt = work / "runs" / "depth_mbv3_unet" / "checkpoints" / "best.ckpt"
    assert ckpt.is_file() and (work / "datasets" / "synthetic").is_dir()  # data under the cwd
    assert "val/mai_si_rmse" in _run(["densepred", "evaluate", str(ckpt)], work, env)
    images = sorted((work / "datasets" / "synthetic").glob("*/val/rgb/*.png"))[:2]
    _run(["densepred", "predict", str(ckpt), *map(str, images), "--out", "preds"], work, env)
    assert len(list((work / "preds").glob("*_depth.png"))) == 2
    try:
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        pytest.skip('export needs the onnx extra: pip install -e ".[onnx]"')
    _run(["densepred", "export", str(ckpt), "--format", "onnx", "--out", "model.onnx"], work, env)
    assert (work / "model.onnx").stat().st_size > 1e6
