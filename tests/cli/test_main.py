"""The ``densepred`` command: overrides anywhere, config names, --print-config, refused overrides."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from densepred.cli import command as cli_command
from densepred.cli.command import COMMANDS, config_path, split_overrides
from densepred.cli.main import main
from densepred.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

MINIMAL_ARGS: dict[str, list[str]] = {
    "train": ["depth_mbv3_unet"],
    "evaluate": ["run/checkpoints/best.ckpt"],
    "export": ["run/checkpoints/best.ckpt", "--format", "onnx"],
    "ablate": ["ablation_depth"],
    "baseline": ["depth_mbv3_unet"],
    "benchmark": ["--config", "depth_mbv3_unet"],
    "overhead": ["depth_mbv3_unet"],
    "prepare-data": ["depth_mbv3_unet"],
    "benchmark-data": ["depth_mbv3_unet"],
}
"""Positional arguments of each subcommand that takes overrides (a new one needs an entry)."""
OPTION = {"train": "--resume", "evaluate": "--print-config", "export": "--nhwc", "ablate": "--print-config"}


def test_overrides_are_taken_from_anywhere() -> None:
    argv = ["train", "a.b=1", "depth_mbv3_unet", "--run-dir", "x=y/z", "c=[1, 2]", "--resume"]
    overrides, rest = split_overrides(argv, {"--run-dir": 1, "--resume": 0})
    assert overrides == ["a.b=1", "c=[1, 2]"]  # 'x=y/z' is not a key: it stays the option's value
    assert rest == ["train", "depth_mbv3_unet", "--run-dir", "x=y/z", "--resume"]


def test_every_subcommand_with_overrides_has_minimal_arguments_here() -> None:
    with_overrides = {n for n in COMMANDS.names() if COMMANDS.get(n).overrides}
    assert with_overrides == set(MINIMAL_ARGS)


@pytest.mark.parametrize("name", sorted(MINIMAL_ARGS))
def test_overrides_before_and_after_the_options_are_the_same(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []

    def fake_run(args: argparse.Namespace) -> int:
        seen.append(list(args.overrides))
        return 0

    cmd = COMMANDS.get(name)
    monkeypatch.setitem(COMMANDS._items, name, cli_command.Command(**{**cmd.__dict__, "run": fake_run}))
    key = "data.batch_size=4" if name not in ("ablate",) else "benchmark.repeats=3"
    option = [OPTION[name]] if name in OPTION else []
    assert main([name, key, *MINIMAL_ARGS[name], *option]) == 0
    assert main([name, *MINIMAL_ARGS[name], *option, key]) == 0
    assert seen == [[key], [key]]


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["evaluate", "x.ckpt", "model.encoder=resnet18"], "model and task settings .* come from the checkpoint"),
        (["evaluate", "x.ckpt", "task.max_depth=5"], r"can change data\.\*"),
        (["export", "x.ckpt", "--format", "onnx", "task.losses={l1: 1}"], "only the data section"),
        (["predict", "x.ckpt", "img.png", "--out", "o", "data.depth_scale=256"], "takes no config overrides"),
    ],
)
def test_an_override_a_command_would_ignore_is_refused(
    argv: list[str], match: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: densepred ") and argv[-1] in err
    assert __import__("re").search(match, err), err


def test_configs_are_found_by_name_or_path(tmp_path: Path) -> None:
    assert config_path("depth_mbv3_unet") == config_path("depth_mbv3_unet.yaml")
    assert config_path("depth_mbv3_unet").read_text() == (ROOT / "configs" / "depth_mbv3_unet.yaml").read_text()
    own = tmp_path / "depth_mbv3_unet.yaml"
    own.write_text("task: {name: depth}\n")
    assert config_path(str(own)) == own  # an existing file wins over the shipped name
    with pytest.raises(ConfigError, match="Did you mean 'depth_mbv3_unet'"):
        config_path("depth_mbv3_unte")


def test_configs_lists_every_shipped_config_with_its_description(capsys) -> None:
    assert main(["configs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    shipped = sorted(p.stem for p in (ROOT / "configs").glob("*.yaml"))
    assert [line.split()[0] for line in lines] == shipped
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)  # every one has a description


def test_print_config_writes_nothing_and_shows_the_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", "depth_mbv3_unet", "--print-config", "model.encoder=resnet18"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["encoder"] == "resnet18"
    assert printed["data"]["normalize"]["mean"] == [0.485, 0.456, 0.406]  # resolved
    assert main(["ablate", "ablation_depth", "--print-config", "benchmark.repeats=2"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["benchmark"]["repeats"] == 2
    assert os.listdir(tmp_path) == []


def test_a_typo_fails_before_anything_heavy_is_loaded() -> None:
    code = (
        "import sys\nfrom densepred.cli.main import main\n"
        "assert main(['train', 'depth_mbv3_unet', 'model.encdoer=resnet18']) == 2\n"
        "print(sorted(m for m in ('torch', 'lightning', 'timm') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert "model.encdoer: Unknown key 'encdoer'. Did you mean 'encoder'" in out.stderr


@pytest.mark.parametrize("tool", sorted(p.name for p in (ROOT / "tools").glob("*.py")))
def test_every_tool_script_is_a_shim_of_a_subcommand(tool: str) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / tool), "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: densepred ")
