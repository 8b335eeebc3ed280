"""run_training under faults: concurrent runs, exploding weights, failed checkpoint writes,
corrupt resume points, Ctrl-C and unwritable output folders (issue 12)."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from lightning.pytorch.callbacks import Callback

from densepred.app.config import config_from_dict, load_config
from densepred.app.tasks import TASKS
from densepred.app.train import choose_run_dir, run_training
from densepred.config.run import Config
from densepred.core.errors import ConfigError, DataError, OutputError, WeightsError
from densepred.tasks import NonFiniteLossError
from densepred.tasks.checkpoint import NonFiniteWeightsError, non_finite_tensors, read_checkpoint

MAIN = Path(__file__).resolve().parents[2] / "configs" / "depth_mbv3_unet.yaml"


def tiny_config(tmp_path: Path, make_tiny: Callable[..., list[str]], *extra: str) -> Config:
    return load_config(MAIN, [*make_tiny(tmp_path), *extra])


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory, make_tiny) -> tuple[Path, list[str]]:
    """A finished run of one epoch (three steps): its folder and overrides."""
    tmp = tmp_path_factory.mktemp("train")
    overrides = make_tiny(tmp, max_steps=3)
    result = run_training(load_config(MAIN, overrides))
    return result.run_dir, overrides


@pytest.fixture
def run_copy(trained_run: tuple[Path, list[str]], tmp_path: Path) -> tuple[Path, Config]:
    """A copy of the finished run this test may change, and the config to resume it with."""
    run, overrides = trained_run
    copy = Path(shutil.copytree(run, tmp_path / "run"))
    more = [o for o in overrides if not o.startswith("trainer.max_")]
    return copy, load_config(MAIN, [*more, "trainer.max_steps=5", "trainer.max_epochs=5"])


@pytest.fixture
def keep_sigint() -> Iterator[None]:
    """Lightning ignores SIGINT while it shuts down after a Ctrl-C; give pytest its handler back."""
    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)


def test_concurrent_runs_claim_distinct_folders(tmp_path: Path, make_tiny) -> None:
    """Case 1: runs started together never share a run folder."""
    config = tiny_config(tmp_path, make_tiny)
    start = threading.Barrier(6)
    folders: list[Path] = []

    def claim() -> None:
        start.wait()
        folders.append(choose_run_dir(config, resume=False))

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(folders)) == 6 and all(f.is_dir() for f in folders)
    assert Path(config.output_dir) / config.name in folders


def test_exploding_weights_never_reach_a_checkpoint(tmp_path: Path, make_tiny) -> None:
    """Case 2: a good first epoch, then a huge learning rate; no checkpoint holds the blow-up and
    the error names the newest checkpoint that is really finite."""

    class HugeLearningRate(Callback):
        def on_train_epoch_start(self, trainer: Any, module: Any) -> None:
            if trainer.current_epoch == 1:
                for group in trainer.optimizers[0].param_groups:
                    group["lr"] = 1e30

    config = tiny_config(
        tmp_path,
        make_tiny,
        "trainer.max_steps=20",
        "trainer.max_epochs=5",
        "trainer.limit_train_batches=1",
        "trainer.limit_val_batches=1",
    )
    with pytest.raises((NonFiniteLossError, NonFiniteWeightsError)) as err:
        run_training(config, callbacks=[HugeLearningRate()])
    folder = Path(config.output_dir) / config.name / "checkpoints"
    checkpoints = sorted(folder.glob("*.ckpt"))
    assert checkpoints, "the first epoch's checkpoints are kept"
    for path in checkpoints:
        ckpt = read_checkpoint(path)
        assert ckpt["global_step"] == 1, path
        assert non_finite_tensors(ckpt["state_dict"]) == [], path
    newest = max(checkpoints, key=lambda p: p.stat().st_mtime)
    assert f"The newest checkpoint with finite weights is '{newest}'" in str(err.value)


class InfiniteAfterFirstStep(Callback):
    """The first optimizer step leaves a weight infinite, as an overflowing update does (a real
    learning rate near float32's limit overflows a weight in most runs, not all)."""

    def on_train_batch_end(self, trainer: Any, module: Any, *args: Any) -> None:
        if trainer.global_step == 1:
            with torch.no_grad():
                next(module.parameters()).fill_(float("inf"))


@pytest.mark.parametrize(
    ("extra", "callback", "error", "message"),
    [
        # huge but finite weights: the next forward pass gives a NaN loss
        ("task.optimizer.lr=1e30", None, NonFiniteLossError, "training loss became nan"),
        (
            "task.optimizer.lr=1e-3",
            InfiniteAfterFirstStep(),
            NonFiniteWeightsError,
            "the weights became NaN or infinite at epoch 0, step 1",
        ),
    ],
    ids=["nan-loss", "infinite-weights"],
)
def test_blown_up_by_the_first_step_writes_no_checkpoint(
    tmp_path: Path,
    make_tiny,
    extra: str,
    callback: Callback | None,
    error: type[Exception],
    message: str,
) -> None:
    """Case 2: blown up by the first step, nothing is saved and the error says so."""
    config = tiny_config(
        tmp_path,
        make_tiny,
        extra,
        "trainer.max_epochs=5",
        "trainer.limit_train_batches=1",
        "trainer.limit_val_batches=1",
    )
    with pytest.raises(error) as err:
        run_training(config, callbacks=[callback] if callback else None)
    assert not list((Path(config.output_dir) / config.name).rglob("*.ckpt"))
    assert message in str(err.value)
    assert "No checkpoint with finite weights was written in" in str(err.value)


class FailingWriter:
    """A file that takes ``limit`` bytes, then fails as a full disk does."""

    def __init__(self, fh: Any, limit: int) -> None:
        self.fh, self.left = fh, limit

    def write(self, data: Any) -> int:
        data = memoryview(data).cast("B")
        if len(data) > self.left:
            self.fh.write(data[: self.left])
            self.fh.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.left -= len(data)
        return self.fh.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fh, name)

    def __enter__(self) -> FailingWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.fh.close()


def test_failed_checkpoint_write_keeps_the_previous_last(
    run_copy: tuple[Path, Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Case 3 (fault injection): the write of the new last.ckpt fails half-way; the previous one
    still loads and --resume works from it."""
    run, config = run_copy
    last = run / "checkpoints" / "last.ckpt"
    before = read_checkpoint(last)["global_step"]
    real_fdopen = os.fdopen

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = real_fdopen(fd, mode, *args, **kwargs)
        target = os.readlink(f"/proc/self/fd/{fd}")
        return FailingWriter(fh, 4096) if ".last.ckpt." in target and "w" in mode else fh

    monkeypatch.setattr(os, "fdopen", fdopen)
    with pytest.raises(OutputError, match="No space left on device"):
        run_training(config, resume=True, run_dir=run)
    monkeypatch.undo()
    assert read_checkpoint(last)["global_step"] == before
    assert sorted(p.name for p in last.parent.iterdir()) == ["best.ckpt", "last.ckpt"]

    run_training(config, resume=True, run_dir=run)
    assert read_checkpoint(last)["global_step"] > before


def test_resume_and_best_validation_read_weights_only(
    run_copy: tuple[Path, Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Case 7: --resume and the validation of the best checkpoint load with weights_only=True."""
    run, config = run_copy
    real_load = torch.load
    calls: list[tuple[str, Any]] = []

    def load(path: Any, *args: Any, **kwargs: Any) -> Any:
        name = Path(str(getattr(path, "path", path))).name  # Lightning passes an fsspec file
        calls.append((name, kwargs.get("weights_only")))
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(torch, "load", load)
    run_training(config, resume=True, run_dir=run)
    names = {name for name, _ in calls}
    assert {"last.ckpt", "best.ckpt"} <= names
    assert all(weights_only is True for _, weights_only in calls), calls


class Unsafe:
    """An object a weights-only read must refuse."""


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("truncated", "is corrupt or truncated"),
        ("empty", "is corrupt or truncated (the file is empty)"),
        ("not_tensors", "holds objects other than tensors"),
        ("not_lightning", "is not a Lightning training checkpoint (it has no optimizer_states"),
    ],
)
def test_resume_from_a_damaged_last_is_a_clear_error(
    run_copy: tuple[Path, Config], damage: str, said: str
) -> None:
    """Case 9: one message naming the file, what is wrong with it and what to do."""
    run, config = run_copy
    last = run / "checkpoints" / "last.ckpt"
    if damage == "truncated":
        last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    elif damage == "empty":
        last.write_bytes(b"")
    elif damage == "not_tensors":
        torch.save({"state_dict": {}, "note": Unsafe()}, last)
    else:  # plain tensors, but not what Lightning needs to continue
        torch.save({"state_dict": read_checkpoint(last)["state_dict"]}, last)
    with pytest.raises(WeightsError) as err:
        run_training(config, resume=True, run_dir=run)
    message = str(err.value)
    assert f"checkpoint '{last}' {said}" in message
    assert "Start over without --resume" in message
    assert f"'{run / 'checkpoints' / 'best.ckpt'}' keeps the best weights so far" in message


def test_resume_with_another_model_names_the_run_config(run_copy: tuple[Path, Config]) -> None:
    """Case 9: --resume with a config whose model differs from the run's (here a wider decoder)
    names the checkpoint, the weights that do not fit and the run's own config.yaml."""
    run, config = run_copy
    raw = yaml.safe_load(config.to_yaml())
    raw["model"]["decoder_args"]["channels"] = [8, 8, 8, 8]
    other = config_from_dict(raw)
    with pytest.raises(WeightsError) as err:
        run_training(other, resume=True, run_dir=run)
    message = str(err.value)
    assert f"checkpoint '{run / 'checkpoints' / 'last.ckpt'}' does not fit the model" in message
    assert "model.decoder." in message and ", the model's (8," in message
    assert f"use '{run / 'config.yaml'}'" in message


def test_ctrl_c_raises_keyboard_interrupt(tmp_path: Path, make_tiny, keep_sigint: None) -> None:
    """Case 10: Lightning's SystemExit(1) after a Ctrl-C becomes KeyboardInterrupt again, and
    SIGINT is handled as before."""
    handler = signal.getsignal(signal.SIGINT)

    class CtrlC(Callback):
        def on_train_batch_end(self, *args: Any) -> None:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_training(tiny_config(tmp_path, make_tiny), callbacks=[CtrlC()])
    assert signal.getsignal(signal.SIGINT) == handler


@pytest.mark.parametrize("stop", ["ctrl_c", "max_steps"])
def test_last_holds_the_state_training_stopped_at(
    tmp_path: Path, make_tiny, keep_sigint: None, stop: str
) -> None:
    """Issue 24, case 1: Ctrl-C or a clean stop within an epoch (trainer.max_steps) keeps the
    newest state in last.ckpt, not the end of the last improving epoch (step 3), and --resume
    goes on from there: after Ctrl-C with the rest of epoch 1 (9 steps in all); after
    trainer.max_steps, which ends the epoch it is reached in for Lightning, with epoch 2 (8)."""

    class CtrlC(Callback):
        def on_train_batch_end(self, trainer: Any, *args: Any) -> None:
            if trainer.global_step == 5:
                raise KeyboardInterrupt

    overrides = [o for o in make_tiny(tmp_path) if not o.startswith("trainer.max_")]
    overrides.append("trainer.max_epochs=3")
    if stop == "ctrl_c":
        with pytest.raises(KeyboardInterrupt):
            run_training(load_config(MAIN, overrides), callbacks=[CtrlC()])
    else:
        run_training(load_config(MAIN, [*overrides, "trainer.max_steps=5"]))
    last = tmp_path / "runs" / "depth_mbv3_unet" / "checkpoints" / "last.ckpt"
    assert read_checkpoint(last)["global_step"] == 5
    run_training(load_config(MAIN, overrides), resume=True)
    assert read_checkpoint(last)["global_step"] == (9 if stop == "ctrl_c" else 8)


def test_best_is_weights_only_and_last_is_full(trained_run: tuple[Path, list[str]]) -> None:
    """Issue 23: best.ckpt holds the weights and the config (no optimizer state), last.ckpt all
    that --resume needs; both rebuild the same model."""
    from densepred.app.inference import load_task
    from densepred.tasks.checkpoint import RESUME_KEYS
    from densepred.tasks.distill import teacher_config

    run, _ = trained_run
    paths = {name: run / "checkpoints" / f"{name}.ckpt" for name in ("best", "last")}
    best, last = (read_checkpoint(path) for path in paths.values())
    assert "optimizer_states" not in best and "callbacks" not in best
    assert set(RESUME_KEYS) <= set(last)
    assert best["hyper_parameters"] == last["hyper_parameters"]
    assert paths["best"].stat().st_size < 0.6 * paths["last"].stat().st_size  # AdamW: 2 moments
    states = [load_task(path).state_dict() for path in paths.values()]
    assert all(torch.equal(states[0][key], states[1][key]) for key in states[0])
    for path in paths.values():
        teacher_config(path, "depth")  # a distillation teacher accepts either


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("trainer.max_epochs=-5", "You passed in -5"),
        ("trainer.limit_train_batches=-1", "invalid value -1 for limit_train_batches"),
        ("trainer.accelerator=foo", "accelerator='foo'"),
    ],
)
def test_trainer_values_lightning_refuses_are_a_config_error(
    tmp_path: Path, make_tiny, override: str, named: str
) -> None:
    """Case 8: a trainer value of the right type that Lightning refuses is a ConfigError naming
    the value and the trainer section, raised before any data is read."""
    config = tiny_config(tmp_path, make_tiny, override)
    with pytest.raises(ConfigError, match="Lightning refuses the trainer settings") as err:
        run_training(config)
    assert named in str(err.value) and "Fix the trainer section" in str(err.value)
    assert not (tmp_path / "data").exists()


def test_a_model_the_config_cannot_build_claims_no_run_folder(tmp_path: Path, make_tiny) -> None:
    """Case 14: a model error found only when the model is built (a stride the encoder cannot
    do) leaves no run folder behind, so the run started after the fix gets output_dir/name, not
    name_1. (Case 11, an unknown decoder argument, now fails when the config is loaded.)"""
    config = tiny_config(tmp_path, make_tiny, "model.encoder=vgg11", "model.output_stride=8")
    with pytest.raises(ConfigError):
        run_training(config)
    assert not (tmp_path / "runs").exists()


def test_output_dir_under_a_file_is_a_clear_error(tmp_path: Path, make_tiny) -> None:
    """Case 12: an output folder that cannot be a folder."""
    (tmp_path / "blocker").write_text("a file")
    config = tiny_config(tmp_path, make_tiny, f"output_dir={tmp_path / 'blocker' / 'runs'}")
    with pytest.raises(OutputError, match="'.*blocker' is a file, not a folder"):
        run_training(config)


def test_full_disk_is_a_clear_error(
    tmp_path: Path, make_tiny, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Case 12: a full disk while writing into the run folder names the folder."""

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    config = tiny_config(tmp_path, make_tiny)
    with pytest.raises(OutputError) as err:
        run_training(config)
    run = Path(config.output_dir) / config.name
    assert str(err.value).startswith(f"cannot write to output folder '{run}': No space left")
    assert "Free disk space" in str(err.value)


def test_depth_without_valid_pixels_fails_before_training(tmp_path: Path, make_tiny) -> None:
    """Case 6: a depth scale that leaves no pixel in range fails before any work, naming the
    split, the count of valid pixels and the settings to check."""
    config = tiny_config(tmp_path, make_tiny, "data.depth_scale=1e9")
    with pytest.raises(DataError) as err:
        run_training(config)
    message = str(err.value)
    assert "split 'train' has 0 valid depth pixels" in message
    assert "data.depth_scale=1000000000.0" in message and "task.max_depth=10.0" in message
    run = Path(config.output_dir) / config.name
    assert not (run / "samples").exists() and not list(run.rglob("*.ckpt"))


def test_all_nan_validation_is_an_error_and_metrics_json_is_valid(
    tmp_path: Path, make_tiny, strict_json
) -> None:
    """Case 6 with the data check off: every validation is NaN, so no checkpoint can be chosen:
    the run ends in an error (not exit 0) and metrics.json holds null, never NaN."""
    config = tiny_config(tmp_path, make_tiny, "data.depth_scale=1e9", "data.check=off")
    with pytest.raises(
        DataError,
        match="no checkpoint was chosen: the validation gave a non-finite val/mai_si_rmse",
    ):
        run_training(config)
    run = Path(config.output_dir) / config.name
    record = strict_json((run / "metrics.json").read_text())
    assert record["checkpoint"] is None
    assert record["initial_val"]["val/mai_si_rmse"] is None
    assert not (run / "checkpoints" / "best.ckpt").exists()


def test_bad_files_of_every_split_are_reported_before_the_initial_validation(
    tmp_path: Path, make_tiny
) -> None:
    """Case 15: the pre-flight check names every bad file of every split at once, before the
    initial validation (no sample grid) and before any step."""
    config = tiny_config(tmp_path, make_tiny)
    datamodule = TASKS.get("depth").build_datamodule(config)
    bad = [datamodule.read_split(split)[1].image for split in ("train", "val")]
    for path in bad:
        path.write_bytes(path.read_bytes()[:40])  # truncated
    with pytest.raises(DataError) as err:
        run_training(config)
    message = str(err.value)
    assert message.startswith("data check (quick) found 2 problem(s)")
    for split, path in zip(("train", "val"), bad, strict=True):
        assert f"split '{split}': image file '{path}'" in message
    run = Path(config.output_dir) / config.name
    assert not (run / "samples").exists() and not list(run.rglob("*.ckpt"))
