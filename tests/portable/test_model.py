"""Model folders: save -> from_pretrained in a process without Lightning gives the same outputs for
every registered task; bad folders fail naming the file; a failed save leaves nothing behind."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import densepred
from densepred.app.tasks import TASKS
from densepred.core.errors import OutputError, WeightsError
from densepred.core.fileio import DIR_MODE, FILE_MODE
from densepred.portable.model import PortableModel, from_pretrained
from densepred.portable.processing import latent_noise, postprocess
from densepred.portable.spec import FORMAT_VERSION, ModelFolderError

ROOT = Path(__file__).resolve().parents[2]

LOADER = """
import json, sys
import numpy as np, torch
import densepred

torch.set_num_threads(1)
cases = json.loads(sys.argv[1])
for name, (folder, x_file, y_file) in cases.items():
    model = densepred.from_pretrained(folder)
    assert isinstance(model, torch.nn.Module) and not model.training, name
    with torch.inference_mode():
        np.save(y_file, model(torch.from_numpy(np.load(x_file))).numpy())
print("MODULES:" + json.dumps([m for m in ("lightning", "pytorch_lightning") if m in sys.modules]))
"""


def _example(model: PortableModel, seed: int = 0) -> torch.Tensor:
    inp = model.spec.input
    if inp.kind == "latent":
        return model.noise(3, seed)
    return torch.randn(
        2, inp.channels, *(inp.size or (37, 53)), generator=torch.Generator().manual_seed(seed)
    )


def test_every_registered_task_has_a_case(cases) -> None:
    assert {raw["task"]["name"] for raw in cases.values()} == set(TASKS.names())


@pytest.fixture(scope="module")
def loaded_elsewhere(
    saved_folders, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, np.ndarray]:
    """Every folder loaded by ``densepred.from_pretrained`` in a fresh interpreter, run on a saved
    input; that interpreter reports whether Lightning got imported."""
    tmp = tmp_path_factory.mktemp("elsewhere")
    cases = {}
    for name, (_, folder) in saved_folders.items():
        x = _example(from_pretrained(folder)).numpy()
        np.save(tmp / f"{name}_x.npy", x)
        cases[name] = [str(folder), str(tmp / f"{name}_x.npy"), str(tmp / f"{name}_y.npy")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", LOADER, json.dumps(cases)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = [x for x in done.stdout.splitlines() if x.startswith("MODULES:")][-1]
    return {
        "modules": json.loads(line.removeprefix("MODULES:")),
        **{
            name: (np.load(tmp / f"{name}_x.npy"), np.load(tmp / f"{name}_y.npy")) for name in cases
        },
    }


def test_loading_a_folder_never_imports_lightning(loaded_elsewhere) -> None:
    assert loaded_elsewhere["modules"] == []


def test_round_trip_gives_the_tasks_outputs(case: str, saved_folders, loaded_elsewhere) -> None:
    name = case
    task, folder = saved_folders[name]
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
    ]
    x, y = loaded_elsewhere[name]
    with torch.inference_mode():
        expected = task.deploy_network()(torch.from_numpy(x)).numpy()
    assert y.shape == expected.shape
    assert np.allclose(y, expected, rtol=1e-5, atol=1e-5), float(np.abs(y - expected).max())


def test_predict_of_a_folder_equals_the_tasks(case: str, saved_folders) -> None:
    task, folder = saved_folders[case]
    model = densepred.from_pretrained(folder)
    kind = model.spec.input.kind
    if kind == "latent":  # generated from the same seeded noise
        got = model.postprocess(model(model.noise(2, seed=3)))
        with torch.inference_mode():
            fake = task.deploy_network()(latent_noise(2, task.model.latent_dim, seed=3))
        expected = postprocess(fake, task.output_spec())
        assert all(np.array_equal(g, e) for g, e in zip(got, expected, strict=True))
        return
    rng = np.random.default_rng(1)
    picture = (
        rng.integers(0, 4, (30, 41)).astype(np.uint8)
        if kind == "mask"
        else rng.integers(0, 256, (30, 41, 3), dtype=np.uint8)
    )
    got = model.predict([picture])[0]
    assert np.allclose(got, task.predict_array(picture), atol=1e-5)


def test_folder_records_what_it_needs(saved_folders) -> None:
    _, folder = saved_folders["depth"]
    config = json.loads((folder / "config.json").read_text())
    assert config["format_version"] == FORMAT_VERSION and config["task"] == "depth"
    assert config["input"]["size"] == [32, 48] and config["input"]["layout"] == "NCHW"
    assert config["output"] == {
        **config["output"],
        "units": "m",
        "min_depth": 0.1,
        "max_depth": 8.0,
        "depth_scale": 256.0,
    }
    assert "mean" in config["input"] and config["network"]["builder"] == "dense"
    assert config["network"]["args"]["encoder_args"].get("pretrained") is None  # weights: the file
    assert set(load_file(folder / "model.safetensors")) == set(
        from_pretrained(folder).network.state_dict()
    )
    card = (folder / "README.md").read_text()
    for text in (
        "library_name: densepred",
        "| parameters |",
        "| MACs |",
        "## Validation metrics",
        "## Data",
        "## Training",
        "densepred.from_pretrained",
    ):
        assert text in card, text
    seg = json.loads((saved_folders["classification"][1] / "config.json").read_text())
    assert seg["output"]["classes"] == ["x", "y"]


# --- bad folders ------------------------------------------------------------------------------


@pytest.fixture
def copy_of(saved_folders, tmp_path: Path):
    def copy(name: str) -> Path:
        source = saved_folders[name][1]
        target = tmp_path / name
        target.mkdir()
        for f in source.iterdir():
            (target / f.name).write_bytes(f.read_bytes())
        return target

    return copy


def test_missing_files_are_named(copy_of, tmp_path: Path) -> None:
    folder = copy_of("depth")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelFolderError, match=r"model.safetensors' does not exist"):
        from_pretrained(folder)
    (folder / "config.json").unlink()
    with pytest.raises(ModelFolderError, match=rf"model folder '{folder}' has no config.json"):
        from_pretrained(folder)
    with pytest.raises(ModelFolderError, match="does not exist"):
        from_pretrained(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: {**c, "format_version": 2}, r"format_version 2 .*reads format_version 1"),
        (
            lambda c: {k: v for k, v in c.items() if k != "format"},
            "is not a densepred model config",
        ),
        (lambda c: {**c, "input": {**c["input"], "kind": "video"}}, r"config.input.kind"),
        (lambda c: {**c, "extra": 1}, "Unknown key 'extra'"),
    ],
)
def test_bad_config_is_named(copy_of, edit, message: str) -> None:
    folder = copy_of("depth")
    path = folder / "config.json"
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    with pytest.raises(ModelFolderError, match=message) as info:
        from_pretrained(folder)
    assert str(path) in str(info.value)
    path.write_text("{not json")
    with pytest.raises(ModelFolderError, match="not readable JSON"):
        from_pretrained(folder)


def test_weights_that_do_not_fit_are_named(copy_of, saved_folders) -> None:
    folder = copy_of("depth")
    other = saved_folders["classification"][1] / "model.safetensors"
    (folder / "model.safetensors").write_bytes(other.read_bytes())
    with pytest.raises(WeightsError, match=r"model.safetensors' do not fit the network .*missing"):
        from_pretrained(folder)
    state = load_file(saved_folders["depth"][1] / "model.safetensors")
    key = next(k for k, v in state.items() if v.is_floating_point())
    state[key] = torch.full_like(state[key], float("nan"))
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(WeightsError, match=f"NaN or infinite values \\({key}"):
        from_pretrained(folder)
    (folder / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelFolderError, match="not a readable safetensors file"):
        from_pretrained(folder)


def test_failed_save_leaves_nothing(saved_folders, tmp_path: Path, monkeypatch) -> None:
    model = from_pretrained(saved_folders["depth"][1])

    def fail(self, directory: Path) -> None:
        (Path(directory) / "model.safetensors").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(PortableModel, "_save_pretrained", fail)
    with pytest.raises(OutputError, match="cannot write model folder"):
        model.save_pretrained(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_save_replaces_a_model_folder_only(saved_folders, tmp_path: Path) -> None:
    depth = from_pretrained(saved_folders["depth"][1])
    target = tmp_path / "model"
    depth.save_pretrained(target)
    from_pretrained(saved_folders["classification"][1]).save_pretrained(target)  # replaced
    assert json.loads((target / "config.json").read_text())["task"] == "classification"
    assert stat.S_IMODE(target.stat().st_mode) == DIR_MODE  # not the staging folder's 0700
    assert {stat.S_IMODE(p.stat().st_mode) for p in target.iterdir()} == {FILE_MODE}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    other = tmp_path / "photos"
    other.mkdir()
    (other / "keep.jpg").write_bytes(b"x")
    with pytest.raises(OutputError, match="is not a model folder"):
        depth.save_pretrained(other)
    assert [p.name for p in other.iterdir()] == ["keep.jpg"]
