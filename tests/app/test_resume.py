"""--resume (issue 24): last.ckpt is the newest state, a refused resume changes nothing on disk,
a run folder has one writer, and temporary files of killed writes are removed."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from densepred.app.config import Config, load_config
from densepred.app.train import run_training
from densepred.core.errors import ConfigError, OutputError, WeightsError
from densepred.tasks.checkpoint import read_checkpoint

MAIN = Path(__file__).resolve().parents[2] / "configs" / "depth_mbv3_unet.yaml"


def epochs(make_tiny: Callable[..., list[str]], tmp: Path, count: int) -> list[str]:
    """Tiny overrides for ``count`` whole epochs of 3 steps each."""
    return [o for o in make_tiny(tmp) if not o.startswith("trainer.max_")] + [
        f"trainer.max_epochs={count}"
    ]


@pytest.fixture(scope="module")
def only_first_improves(
    tmp_path_factory: pytest.TempPathFactory, make_tiny
) -> tuple[Path, list[str]]:
    """A finished run of 3 epochs (9 steps) whose monitored value (the epoch, lower is better)
    improves only in epoch 0, so Lightning alone would have kept last.ckpt at step 3."""
    tmp = tmp_path_factory.mktemp("stale")
    overrides = [*epochs(make_tiny, tmp, 3), "task.monitor=epoch"]
    result = run_training(load_config(MAIN, overrides))
    return result.run_dir, overrides


@pytest.fixture
def run_copy(only_first_improves: tuple[Path, list[str]], tmp_path: Path) -> tuple[Path, Config]:
    """A copy of the run (file times kept) and the config that resumes it for a 4th epoch."""
    run, overrides = only_first_improves
    copy = Path(shutil.copytree(run, tmp_path / "run"))
    more = [o for o in overrides if not o.startswith("trainer.max_")]
    return copy, load_config(MAIN, [*more, "trainer.max_epochs=4"])


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``folder`` with its size and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def test_last_is_the_newest_epoch_when_only_the_first_improved(
    only_first_improves: tuple[Path, list[str]],
) -> None:
    """Wrong case 1: last.ckpt holds the end of the run, as metrics.json says; best.ckpt the
    only improving epoch."""
    run, _ = only_first_improves
    record = json.loads((run / "metrics.json").read_text())
    last = read_checkpoint(run / "checkpoints" / "last.ckpt")
    assert (last["epoch"], last["global_step"]) == (2, 9) == (2, record["global_step"])
    assert read_checkpoint(run / "checkpoints" / "best.ckpt")["global_step"] == 3


def test_resume_continues_from_the_newest_epoch_and_rewrites_no_earlier_output(
    run_copy: tuple[Path, Config],
) -> None:
    """Wrong case 1: --resume trains epoch 3 only; the sample grids of epochs 0-2 (and of the
    initial validation) are not written again."""
    run, config = run_copy
    earlier = {
        name: times
        for name, times in snapshot(run / "samples").items()
        if name.startswith(("val_epoch", "val_init"))
    }
    assert sorted(earlier) == [
        "val_epoch000.png",
        "val_epoch001.png",
        "val_epoch002.png",
        "val_init.png",
    ]
    run_training(config, resume=True, run_dir=run)
    after = snapshot(run / "samples")
    assert {name: after[name] for name in earlier} == earlier
    assert "val_epoch003.png" in after
    assert read_checkpoint(run / "checkpoints" / "last.ckpt")["global_step"] == 12


@pytest.mark.parametrize(
    ("override", "error", "said"),
    [
        ("model.encoder=resnet18", WeightsError, "does not fit the model of this config"),
        (
            "task.optimizer.name=sgd",
            ConfigError,
            "task.optimizer.name is 'adamw' in the run, 'sgd' here",
        ),
        (
            "data.image_size=[48, 64]",
            ConfigError,
            "data.image_size is [32, 48] in the run, [48, 64] here",
        ),
    ],
)
def test_a_refused_resume_changes_nothing_on_disk(
    only_first_improves: tuple[Path, list[str]],
    run_copy: tuple[Path, Config],
    override: str,
    error: type,
    said: str,
) -> None:
    """Wrong case 3: another encoder, optimizer or input size is refused before config.yaml (or
    anything else) is written, so the run can still be resumed from its own record."""
    _, overrides = only_first_improves
    run, _ = run_copy
    other = load_config(MAIN, [*overrides, "trainer.max_epochs=4", override])
    before = snapshot(run)
    with pytest.raises(error) as err:
        run_training(other, resume=True, run_dir=run)
    assert said in str(err.value)
    assert f"use '{run / 'config.yaml'}'" in str(err.value)
    assert snapshot(run) == before
    run_training(
        load_config(run / "config.yaml", ["trainer.max_epochs=4"]), resume=True, run_dir=run
    )


def test_a_run_folder_has_one_writer(run_copy: tuple[Path, Config]) -> None:
    """Wrong case 4: a second --resume of a folder in use is refused, naming the holder, and
    changes nothing."""
    from densepred.core.lock import folder_lock

    run, config = run_copy
    with folder_lock(run):
        before = snapshot(run)
        with pytest.raises(OutputError) as err:
            run_training(config, resume=True, run_dir=run)
        assert snapshot(run) == before
    assert f"is in use by process {os.getpid()} on host '{socket.gethostname()}'" in str(err.value)
    assert not (run / "run.lock").exists()


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def test_stale_lock_of_a_dead_process_is_taken_over(
    run_copy: tuple[Path, Config], caplog: pytest.LogCaptureFixture
) -> None:
    """Wrong case 4: the lock file a killed run left on this host is taken over, with a message."""
    run, config = run_copy
    pid = _dead_pid()
    record = {"pid": pid, "host": socket.gethostname(), "since": 0}
    (run / "run.lock").write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING):
        run_training(config, resume=True, run_dir=run)
    assert f"taking over the lock of process {pid} on host" in caplog.text
    assert not (run / "run.lock").exists()


def test_lock_of_another_host_is_refused(run_copy: tuple[Path, Config]) -> None:
    run, config = run_copy
    lock = run / "run.lock"
    lock.write_text(json.dumps({"pid": 1, "host": "elsewhere", "since": 0}))
    before = snapshot(run)
    with pytest.raises(OutputError, match="locked by process 1 on host 'elsewhere'"):
        run_training(config, resume=True, run_dir=run)
    assert snapshot(run) == before and lock.is_file()


def test_temporary_files_of_killed_writes_are_removed_at_the_next_start(
    run_copy: tuple[Path, Config],
) -> None:
    """Also found: a checkpoint write killed half-way (SIGKILL) left a hidden temporary file of
    tens of MB for good; the next start in the folder removes it."""
    from densepred.core.fileio import atomic_path

    run, config = run_copy
    killed = []
    for target in (run / "checkpoints" / "last.ckpt", run / "metrics.json"):
        writing = atomic_path(target)  # entered, never left: the process died mid-write
        tmp = writing.__enter__()
        tmp.write_bytes(b"\0" * 4096)
        killed.append((writing, tmp))
    run_training(config, resume=True, run_dir=run)
    assert not any(tmp.exists() for _, tmp in killed)
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
