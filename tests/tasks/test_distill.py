"""Knowledge distillation through task.distill: teacher loading and freezing, the task terms, and
a distilled student's checkpoint without its teacher."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from densepred.app.config import config_from_dict, load_config
from densepred.app.inference import load_task
from densepred.app.tasks import TASKS
from densepred.cli.main import main
from densepred.core.errors import ConfigError, WeightsError
from densepred.data.io import write_image
from densepred.tasks.depth import DepthTask

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
MODEL = {"encoder": "mobilenet_v3_small", "decoder_args": {"channels": [16, 16, 8, 8, 8]}}
DATA = {
    "depth": {"format": "folder", "root": "unused", "image_size": [32, 48]},
    "segmentation": {
        "format": "folder",
        "root": "unused",
        "classes": ["a", "b", "c"],
        "image_size": [32, 48],
    },
}
DATA["classification"] = {**DATA["segmentation"], "format": "synthetic"}
TASK_NAMES = tuple(DATA)
FEATURES = {"depth": [2, 4], "segmentation": [2, 4], "classification": []}  # no dense encoder


def _raw(task_name: str, model: dict | None = None, **task) -> dict:
    if task_name == "classification":
        model = {"encoder": "mobilenet_v3_small"}
    return {
        "model": model or MODEL,
        "data": dict(DATA[task_name]),
        "task": {"name": task_name, **task},
    }


def _save_teacher(path: Path, task_name: str, model: dict | None = None) -> Path:
    """A checkpoint of a freshly built task, in the layout tools/train.py writes."""
    torch.manual_seed(1)
    task = TASKS.get(task_name)(config_from_dict(_raw(task_name, model)))
    torch.save({"hyper_parameters": dict(task.hparams), "state_dict": task.state_dict()}, path)
    return path


def _student(task_name: str, teacher: Path, **distill):
    raw = _raw(task_name, task=None)
    raw["task"] = {"name": task_name, "distill": {"teacher": str(teacher), **distill}}
    return TASKS.get(task_name)(config_from_dict(raw))


def _batch(task_name: str) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    batch = {"image": torch.randn(2, 3, 32, 48)}
    if task_name == "depth":
        batch["depth"] = torch.rand(2, 1, 32, 48) * 5 + 0.5
    elif task_name == "classification":
        batch["label"] = torch.tensor([0, 2])
    else:
        batch["mask"] = torch.randint(0, 3, (2, 32, 48))
    return batch


@pytest.mark.parametrize("task_name", TASK_NAMES)
def test_loss_is_zero_when_the_student_equals_the_teacher(task_name: str, tmp_path: Path) -> None:
    teacher = _save_teacher(tmp_path / "t.ckpt", task_name)
    student = _student(task_name, teacher, features=FEATURES[task_name])
    student.model.load_state_dict(student.distiller.teacher.task.model.state_dict())
    student.eval()
    image = _batch(task_name)["image"]
    _, total, parts = student.distill(image, student(image), torch.zeros(1))
    assert set(parts) == {"distill"} | ({"distill_features"} if FEATURES[task_name] else set())
    assert float(total.detach()) == pytest.approx(0.0, abs=1e-4)
    # a different student scores above zero
    with torch.no_grad():
        for p in student.model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    _, total, _ = student.distill(image, student(image), torch.zeros(1))
    assert float(total.detach()) > 1e-3


@pytest.mark.parametrize("task_name", TASK_NAMES)
def test_teacher_stays_frozen_and_outside_the_student(task_name: str, tmp_path: Path) -> None:
    teacher_path = _save_teacher(tmp_path / "t.ckpt", task_name)
    student = _student(task_name, teacher_path, features=FEATURES[task_name][:1], weight=2.0)
    teacher = student.distiller.teacher.task
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student.train()
    assert not teacher.training
    optimizer = torch.optim.SGD(student.parameters(), lr=0.5)
    teacher_params = {id(p) for p in teacher.parameters()}
    assert not teacher_params & {id(p) for p in student.parameters()}
    batch = _batch(task_name)
    student.log = student.log_dict = student.log_train_losses = lambda *a, **k: None  # no Trainer
    for _ in range(2):
        optimizer.zero_grad()
        loss = student.training_step(batch, 0)
        loss.backward()
        optimizer.step()
    assert "train/loss_distill" not in before  # sanity: comparing weights, not logs
    for key, value in teacher.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(not p.requires_grad and p.grad is None for p in teacher.parameters())
    assert not any(k.startswith("distiller.teacher") for k in student.state_dict())


def test_fill_invalid_targets_only_where_ground_truth_is_invalid(tmp_path: Path) -> None:
    teacher = _save_teacher(tmp_path / "t.ckpt", "depth")
    image = _batch("depth")["image"]
    gt = torch.full((2, 1, 32, 48), 2.0)
    gt[:, :, :5] = 0.0
    filling = _student("depth", teacher, fill_invalid=True).eval()
    target, _, _ = filling.distill(image, filling(image), gt)
    teacher_depth = filling.distiller.teacher(image)
    assert torch.equal(target[:, :, :5], teacher_depth[:, :, :5])
    assert torch.equal(target[:, :, 5:], gt[:, :, 5:])
    plain = _student("depth", teacher).eval()
    assert torch.equal(plain.distill(image, plain(image), gt)[0], gt)


def test_teacher_of_another_size_and_encoder_answers_at_the_students_size(tmp_path: Path) -> None:
    model = {"encoder": "resnet18", "decoder_args": {"channels": [16, 16, 8, 8, 8]}}
    teacher = _save_teacher(tmp_path / "t.ckpt", "depth", model=model)
    student = _student("depth", teacher, features=[4], loss="l1_log").eval()
    image = torch.randn(1, 3, 40, 56)  # the teacher was configured for 32x48
    _, total, parts = student.distill(image, student(image), torch.zeros(1))
    assert student.distiller.teacher(image).shape == (1, 1, 40, 56)
    assert torch.isfinite(total) and float(parts["distill_features"]) > 0


def test_missing_or_wrong_task_teacher_fails_at_config_load(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"task.distill.teacher.*does not exist"):
        config_from_dict(_raw("depth", distill={"teacher": str(tmp_path / "none.ckpt")}))
    seg = _save_teacher(tmp_path / "seg.ckpt", "segmentation")
    with pytest.raises(ConfigError, match="is a segmentation checkpoint; a depth student"):
        config_from_dict(_raw("depth", distill={"teacher": str(seg)}))
    raw = _raw("segmentation", distill={"teacher": str(seg)})
    raw["data"]["classes"] = ["x", "y", "z", "w"]
    with pytest.raises(ConfigError, match="data.classes"):
        config_from_dict(raw)
    raw = _raw("depth")
    raw["data"]["unlabeled_root"] = str(tmp_path)
    with pytest.raises(ConfigError, match="data.unlabeled_root needs task.distill"):
        config_from_dict(raw)
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="junk.ckpt"):
        config_from_dict(_raw("depth", distill={"teacher": str(junk)}))


def test_distilled_student_checkpoint_works_without_its_teacher(tmp_path: Path, make_tiny) -> None:
    overrides = make_tiny(tmp_path, max_steps=2)
    config = str(CONFIGS / "depth_mbv3_unet.yaml")
    small = ["model.encoder=mobilenet_v3_small", "model.decoder_args.channels=[16,16,8,8]"]
    assert main(["train", config, *overrides, *small, "--run-dir", str(tmp_path / "teacher")]) == 0
    teacher = tmp_path / "teacher.ckpt"
    (tmp_path / "teacher" / "checkpoints" / "last.ckpt").rename(teacher)
    distill = [
        f"task.distill.teacher={teacher}",
        "task.distill.features=[4]",
        "task.distill.fill_invalid=true",
        "model.encoder=mobilenet_v3_small_minimal",
    ]
    unlabeled = tmp_path / "unlabeled"
    for i in range(3):
        write_image(unlabeled / f"{i}.jpg", np.full((40, 50, 3), 60 * i, np.uint8))
    distill.append(f"data.unlabeled_root={unlabeled}")
    student_config = load_config(config, [*overrides, *distill])
    datamodule = DepthTask.build_datamodule(student_config)
    datamodule.setup("fit")
    train_set = datamodule.datasets["train"]
    assert len(train_set) == 6 + 3  # the tiny labelled split and the unlabelled images
    assert not train_set[8]["depth"].any()  # all invalid: the teacher gives the targets
    run = tmp_path / "student"
    assert main(["train", config, *overrides, *distill, "--run-dir", str(run)]) == 0
    teacher.unlink()
    shutil.rmtree(unlabeled)
    ckpt = run / "checkpoints" / "last.ckpt"
    saved = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert not any("teacher" in k or "distiller" in k for k in saved["state_dict"])
    assert saved["distiller_state"]  # the adapters, kept for --resume
    assert saved["hyper_parameters"]["config"]["task"]["distill"]["teacher"] == str(teacher)
    task = load_task(ckpt)
    assert task.distiller is None
    assert task.predict_array(np.zeros((20, 30, 3), np.uint8)).shape == (20, 30)
    out = tmp_path / "eval.json"
    data = [o for o in overrides if o.startswith("data.")]
    assert main(["evaluate", config, str(ckpt), *data, "--out", str(out)]) == 0
    assert "val/mai_si_rmse" in json.loads(out.read_text())["metrics"]
    image = tmp_path / "img.png"
    write_image(image, np.zeros((20, 30, 3), np.uint8))
    assert main(["predict", str(ckpt), str(image), "--out", str(tmp_path / "pred")]) == 0
