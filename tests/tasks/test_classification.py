"""Classification: metric and loss wiring, then cls_mbv2 end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from densepred.app.config import load_config
from densepred.app.inference import load_task
from densepred.cli.main import main
from densepred.tasks.classification import ClassificationTask

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "cls_mbv2.yaml"


def test_label_smoothing_reaches_the_loss(tmp_path: Path) -> None:
    overrides = [f"data.root={tmp_path}", "data.args={num_train: 3, num_val: 3, size: [32, 40]}"]
    config = load_config(CONFIG, [*overrides, "task.label_smoothing=0.3"])
    task = ClassificationTask(config.to_dict())
    logits, labels = torch.randn(4, 3), torch.tensor([0, 1, 2, 1])
    expected = torch.nn.functional.cross_entropy(logits, labels, label_smoothing=0.3)
    assert torch.allclose(task.loss(logits, labels), expected)
    assert task(torch.randn(2, 3, 40, 56)).shape == (2, 3)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, make_tiny) -> tuple[Path, list[str]]:
    """One tiny run of cls_mbv2 through tools/train.py's entry point."""
    tmp = tmp_path_factory.mktemp("cls")
    overrides = make_tiny(tmp, max_steps=3)
    assert main(["train", str(CONFIG), *overrides]) == 0
    return tmp / "runs" / "cls_mbv2", overrides


def test_run_folder_and_checkpoint(trained: tuple[Path, list[str]]) -> None:
    run, _ = trained
    assert (run / "config.yaml").is_file() and (run / "checkpoints" / "last.ckpt").is_file()
    record = json.loads((run / "metrics.json").read_text())
    assert 0 <= record["val"]["val/acc1"] <= 1
    task = load_task(run / "checkpoints" / "last.ckpt")
    assert task.classes == ["box", "sphere", "cylinder"]


def test_evaluate_reports_accuracy(trained: tuple[Path, list[str]], tmp_path: Path) -> None:
    run, overrides = trained
    out = tmp_path / "eval.json"
    data = [o for o in overrides if o.startswith("data.")]
    assert (
        main(["evaluate", str(CONFIG), str(run / "checkpoints" / "last.ckpt"), *data, "--out", str(out)]
        )
        == 0
    )
    assert "val/acc1" in json.loads(out.read_text())["metrics"]


def test_predict_writes_and_prints_top_classes(
    trained: tuple[Path, list[str]], tmp_path: Path, capsys
) -> None:
    run, _ = trained
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (50, 31, 4), dtype=np.uint8), "RGBA").save(
        tmp_path / "rgba.png"
    )
    Image.fromarray(rng.integers(0, 255, (20, 70), dtype=np.uint8), "L").save(tmp_path / "grey.png")
    out = tmp_path / "pred"
    assert (
        main(["predict", str(run / "checkpoints" / "last.ckpt"), str(tmp_path), "--out", str(out)])
        == 0
    )
    lines = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [r["image"] for r in lines] == ["grey", "rgba"]
    for record in lines:
        probs = [t["prob"] for t in record["top"]]
        assert len(probs) == 3 and probs == sorted(probs, reverse=True)
        assert sum(probs) == pytest.approx(1.0, abs=1e-5)
        assert {t["class"] for t in record["top"]} == {"box", "sphere", "cylinder"}
    printed = capsys.readouterr().out  # the answers go to stdout, progress and warnings to stderr
    assert "grey: " in printed and "rgba: " in printed


def test_imagefolder_needs_only_a_data_change(tmp_path: Path, make_tiny) -> None:
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for cls, value in (("dark", 30), ("light", 220)):
            for i in range(3):
                pixels = np.clip(rng.normal(value, 10, (24 + i, 30, 3)), 0, 255).astype(np.uint8)
                (tmp_path / "folders" / split / cls).mkdir(parents=True, exist_ok=True)
                Image.fromarray(pixels).save(tmp_path / "folders" / split / cls / f"{i}.jpg")
    overrides = [o for o in make_tiny(tmp_path) if not o.startswith("data.args")]
    overrides += ["data.format=imagefolder", f"data.root={tmp_path / 'folders'}", "data.args={}"]
    assert main(["train", str(CONFIG), *overrides]) == 0
    task = load_task(tmp_path / "runs" / "cls_mbv2" / "checkpoints" / "last.ckpt")
    assert task.classes == ["dark", "light"]
