"""The trainer section: loggers and callbacks from the config, TensorBoard pictures, log steps."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from densepred.app.config import load_config
from densepred.app.train import run_training
from densepred.core.errors import ConfigError

MAIN = Path(__file__).resolve().parents[2] / "configs" / "depth_mbv3_unet.yaml"
EARLY_STOP = (
    "trainer.callbacks=[{class_path: lightning.pytorch.callbacks.EarlyStopping, "
    "init_args: {monitor: val/mai_si_rmse, patience: 0, min_delta: 100.0}}]"
)


def _tiny(tmp_path: Path, make_tiny, *extra: str, epochs: int = 3):
    overrides = [*make_tiny(tmp_path), "trainer.max_steps=-1", f"trainer.max_epochs={epochs}", *extra]
    return load_config(MAIN, overrides)


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ("{class_path: lightning.pytorch.callbacks.EarlyStop}", "has no class 'EarlyStop'"),
        ("{class_path: no_such_pkg.Callback}", "module 'no_such_pkg' cannot be imported"),
        ("{class_path: pathlib.Path}", "is not a lightning.pytorch.callbacks.callback.Callback"),
        (
            "{class_path: lightning.pytorch.callbacks.EarlyStopping, init_args: {monitr: x}}",
            r"trainer\.callbacks\[0\]\.init_args: Unknown key 'monitr'",
        ),
        ("EarlyStopping", "must be a mapping {class_path"),
    ],
)
def test_a_bad_callback_is_a_config_error_before_any_data_is_read(
    tmp_path: Path, make_tiny, entry: str, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        _tiny(tmp_path, make_tiny, f"trainer.callbacks=[{entry}]")
    assert not (tmp_path / "data").exists()


def test_early_stopping_from_the_config_stops_the_run(tmp_path: Path, make_tiny) -> None:
    result = run_training(_tiny(tmp_path, make_tiny, EARLY_STOP, epochs=4))
    rows = list(csv.DictReader((result.run_dir / "logs" / "version_0" / "metrics.csv").open()))
    epochs = {int(r["epoch"]) for r in rows if r.get("epoch")}
    assert max(epochs) < 3  # no improvement of 100 m: stopped after the patience of 0 epochs


def test_mlflow_logger_records_the_validation_metrics_and_the_config(
    tmp_path: Path, make_tiny, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow = pytest.importorskip("mlflow", reason='pip install -e ".[mlflow]"')
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 wants it for a file store
    store = f"file:{tmp_path / 'mlruns'}"
    logger = (
        "trainer.logger=[{class_path: lightning.pytorch.loggers.MLFlowLogger, "
        f"init_args: {{experiment_name: densepred-test, tracking_uri: '{store}'}}}}]"
    )
    result = run_training(_tiny(tmp_path, make_tiny, logger, epochs=2))
    mlflow.set_tracking_uri(store)
    (run,) = mlflow.search_runs(experiment_names=["densepred-test"], output_format="list")
    assert run.data.params["config/model/encoder"] == "mobilenet_v3_large"
    logged = run.data.metrics["val/mai_si_rmse"]
    history = mlflow.MlflowClient(store).get_metric_history(run.info.run_id, "val/mai_si_rmse")
    assert len(history) == 3  # before training and after each of the 2 epochs
    assert min(h.value for h in history) == pytest.approx(result.metrics["val/mai_si_rmse"], rel=1e-5)
    assert logged == history[-1].value


def test_sample_grids_reach_tensorboard_and_the_best_revalidation_logs_nothing(
    tmp_path: Path, make_tiny
) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = run_training(_tiny(tmp_path, make_tiny, epochs=2))
    rows = list(csv.DictReader((result.run_dir / "logs" / "version_0" / "metrics.csv").open()))
    val_rows = [r for r in rows if r.get("val/mai_si_rmse")]
    assert len(val_rows) == 3  # initial + 2 epochs; the best checkpoint's re-validation is not logged
    tensorboard = result.run_dir / "tensorboard" / "version_0"
    events = EventAccumulator(str(tensorboard), size_guidance={"images": 0})
    events.Reload()
    steps = [image.step for image in events.Images("samples/val")]
    assert steps[0] == 0 and len(steps) == 3
