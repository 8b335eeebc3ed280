"""Multi-process training (issue 15): one run folder shared by all ranks, rank-0-only files,
validation metrics synced over the whole validation set, ``--resume`` under DDP."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from lightning.pytorch.utilities import rank_zero_only

from densepred.app.config import load_config
from densepred.app.tasks import TASKS
from densepred.app.train import RUN_DIR_ENV, choose_run_dir, run_training
from densepred.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "configs" / "depth_mbv3_unet.yaml"
# Per-image means summed in another order (2 x 2 images instead of 4): float32 rounding only.
REL_TOL = 1e-5
# The validation loss is a mean of per-batch losses whose normalisation spans the batch (e.g.
# the scale-invariant log term); the DistributedSampler batches other images together
# (0 and 2 on rank 0, not 0 and 1), so it differs at about 1e-3 and is not compared.
BATCH_DEPENDENT = {"val/loss"}


def test_other_ranks_share_the_folder_rank_zero_claimed(
    tmp_path: Path, make_tiny, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rank started with $DENSEPRED_RUN_DIR uses that folder instead of claiming name_1."""
    config = load_config(MAIN, make_tiny(tmp_path))
    first = choose_run_dir(config, resume=False)
    monkeypatch.setenv(RUN_DIR_ENV, str(first))
    assert choose_run_dir(config, resume=False) == first
    assert sorted(p.name for p in first.parent.iterdir()) == [first.name]


def test_rank_without_shared_folder_is_an_error(
    tmp_path: Path, make_tiny, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(MAIN, make_tiny(tmp_path))
    monkeypatch.delenv(RUN_DIR_ENV, raising=False)
    monkeypatch.setattr(rank_zero_only, "rank", 1)
    with pytest.raises(ConfigError, match=RUN_DIR_ENV):
        choose_run_dir(config, resume=False)
    assert not (tmp_path / "runs").exists()


def test_run_training_hands_the_folder_to_ranks_only_while_it_trains(
    tmp_path: Path, make_tiny, monkeypatch: pytest.MonkeyPatch
) -> None:
    """During training the launcher's ranks inherit the folder; afterwards the next run of this
    process (a sweep's next trial) claims its own."""
    monkeypatch.delenv(RUN_DIR_ENV, raising=False)
    seen: list[str | None] = []

    class Spy(__import__("lightning").pytorch.callbacks.Callback):
        def on_train_start(self, trainer, module) -> None:  # noqa: ANN001
            seen.append(os.environ.get(RUN_DIR_ENV))

    config = load_config(MAIN, make_tiny(tmp_path, max_steps=1))
    first = run_training(config, callbacks=[Spy()])
    second = run_training(config)
    assert seen == [str(first.run_dir)]
    assert RUN_DIR_ENV not in os.environ and second.run_dir != first.run_dir


def _train_cli(
    tmp: Path, devices: int, *extra: str, config: Path = MAIN
) -> subprocess.CompletedProcess[str]:
    overrides = [
        f"output_dir={tmp / 'runs'}",
        f"data.root={tmp / 'data'}",
        # 8 training images, batch 2, 2 ranks: 2 steps per epoch. 4 validation images: divisible
        # by 2 ranks, so the DistributedSampler pads nothing (see docs/distributed.md).
        "data.args={num_train: 8, num_val: 4, size: [48, 64], seed: 0}",
        "data.image_size=[32, 48]",
        "data.batch_size=2",
        "data.num_workers=0",
        "trainer.enable_progress_bar=false",
        "trainer.enable_model_summary=false",
        "trainer.accelerator=cpu",
        "trainer.strategy=ddp",
        f"trainer.devices={devices}",
        "trainer.max_steps=-1",
        "name=ddp",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop(RUN_DIR_ENV, None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "train.py"), str(config), *overrides, *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _check_single_process_metrics(run: Path, record: dict, tmp: Path) -> None:
    """The best checkpoint evaluated by one process gives the multi-process validation metrics
    (the metrics' states are reduced over the ranks, not averaged per rank)."""
    from densepred.app.inference import evaluate_checkpoint

    config = load_config(run / "config.yaml", ["trainer.devices=1"])  # one process: no padding
    single = evaluate_checkpoint(config, record["checkpoint"], tmp / "eval.json")
    assert single.keys() == record["val"].keys()
    for key, value in record["val"].items():
        if key in BATCH_DEPENDENT:
            continue
        assert single[key] == pytest.approx(value, rel=REL_TOL, abs=1e-6, nan_ok=True), key


def _logged_epochs(run: Path, version: int) -> set[int]:
    with open(run / "logs" / f"version_{version}" / "metrics.csv", newline="") as f:
        return {int(row["epoch"]) for row in csv.DictReader(f)}


@pytest.mark.slow
def test_two_cpu_processes_train_evaluate_and_resume(tmp_path: Path) -> None:
    """2 gloo processes: one run folder and one metrics.json; the best checkpoint evaluated by one
    process gives the 2-process validation metrics; --resume continues at step 4 (epoch 2)."""
    from densepred.app.predict import predict_files

    done = _train_cli(tmp_path, 2, "trainer.max_epochs=2")
    runs = list((tmp_path / "runs").iterdir())
    assert [r.name for r in runs] == ["ddp"], runs
    run = runs[0]
    assert done.stdout.count("run folder:") == 1  # rank 1 prints nothing
    record = json.loads((run / "metrics.json").read_text())
    assert record["global_step"] == 4 and record["val"]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]

    _check_single_process_metrics(run, record, tmp_path)
    image = next((tmp_path / "data").rglob("*.png"))
    assert predict_files(record["checkpoint"], [image], tmp_path / "pred").written

    # Raise max_epochs, not max_steps: a run stopped by max_steps at an epoch's end resumes
    # without training further (Lightning's loop state; the same with one process).
    _train_cli(tmp_path, 2, "trainer.max_epochs=3", "--resume", "--run-dir", str(run))
    assert [r.name for r in (tmp_path / "runs").iterdir()] == ["ddp"]
    resumed = json.loads((run / "metrics.json").read_text())
    assert resumed["global_step"] == 6 and resumed["epochs"] == 3
    assert 0 in _logged_epochs(run, 0) and 0 not in _logged_epochs(run, 1)  # not from scratch


TASK_NAMES = TASKS.names()
RUN_CONFIGS = sorted(p for p in (ROOT / "configs").glob("*.yaml") if "ablation" not in p.stem)


@pytest.mark.parametrize("path", RUN_CONFIGS, ids=lambda p: p.stem)
def test_ddp_strategy_fits_the_task(path: Path, tmp_path: Path, make_tiny) -> None:
    """``trainer.strategy: ddp`` works for every task: GAN mode (a network idle in each
    optimizer's step) gets DDP with find_unused_parameters, the others plain DDP."""
    from densepred.app.train import build_trainer

    overrides = [*make_tiny(tmp_path), "trainer.strategy=ddp", "trainer.devices=2"]
    config = load_config(path, overrides)
    trainer = build_trainer(config, tmp_path / "run")
    expected = TASKS.get(config.task_name).ddp_unused_parameters
    assert trainer.strategy._ddp_kwargs.get("find_unused_parameters", False) is expected


def _first_config_of(task: str) -> Path:
    for path in RUN_CONFIGS:
        if yaml.safe_load(path.read_text())["task"]["name"] == task:
            return path
    raise AssertionError(f"no shipped config trains the registered task '{task}'; add one")


@pytest.mark.slow
@pytest.mark.parametrize("task", [t for t in TASK_NAMES if t != "depth"])
def test_two_cpu_processes_train_every_task(task: str, tmp_path: Path) -> None:
    """2 gloo processes train the first shipped config of each other registered task (depth has
    the test above): one run folder, rank-0 files only, the expected step count (each GAN
    optimizer step counts) and validation metrics equal to a one-process evaluation."""
    config = _first_config_of(task)
    _train_cli(tmp_path, 2, "trainer.max_epochs=1", config=config)
    run = tmp_path / "runs" / "ddp"
    assert [r.name for r in (tmp_path / "runs").iterdir()] == ["ddp"]
    record = json.loads((run / "metrics.json").read_text())
    optimizers = 2 if task == "gan" else 1  # generator and discriminator steps both count
    assert record["global_step"] == 2 * optimizers and record["val"]  # 8 images / (2 x batch 2)
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    _check_single_process_metrics(run, record, tmp_path)


@pytest.mark.slow
def test_two_cpu_processes_train_from_a_prepared_cache(tmp_path: Path) -> None:
    """2 gloo processes train from data.cache (LitData streams each rank half of the 8 training
    items): 2 steps per epoch as from files, validation metrics equal to a one-process
    evaluation of the best checkpoint, --resume continues the streamed run."""
    pytest.importorskip("litdata")
    from densepred.app.prepare_data import prepare_data

    data = [
        f"data.root={tmp_path / 'data'}",
        "data.args={num_train: 8, num_val: 4, size: [48, 64], seed: 0}",
        "data.image_size=[32, 48]",
    ]
    prepare_data(load_config(MAIN, data), out=str(tmp_path / "cache"), workers=2)
    cache = f"data.cache={tmp_path / 'cache'}"
    _train_cli(tmp_path, 2, "trainer.max_epochs=2", cache)
    run = tmp_path / "runs" / "ddp"
    record = json.loads((run / "metrics.json").read_text())
    assert record["global_step"] == 4 and record["val"]
    _check_single_process_metrics(run, record, tmp_path)
    _train_cli(tmp_path, 2, "trainer.max_epochs=3", cache, "--resume", "--run-dir", str(run))
    assert json.loads((run / "metrics.json").read_text())["global_step"] == 6
