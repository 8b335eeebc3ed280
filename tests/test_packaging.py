"""What ships: the floors file matches pyproject's floors, the docs name every subcommand."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
from packaging.version import Version

from densepred.cli.command import COMMANDS
from densepred.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]


def _floors(requirements: list[str]) -> dict[str, str]:
    out = {}
    for req in requirements:
        match = re.match(r"^([A-Za-z0-9_.\-\[\]]+?)(\[.*\])?>=([0-9][^,;\s]*)", req)
        if match:
            out[match.group(1).lower()] = match.group(3)
    return out


def test_the_floors_file_pins_every_dependency_at_its_declared_floor() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _floors([*project["dependencies"], *project["optional-dependencies"]["dev"]])
    lines = (ROOT / "constraints" / "floors.txt").read_text().splitlines()
    pinned = dict(line.lower().split("==") for line in lines if line and not line.startswith("#"))
    assert set(pinned) == set(declared)
    assert {k: Version(v) for k, v in pinned.items()} == {k: Version(v) for k, v in declared.items()}


def test_every_subcommand_is_documented_and_has_help() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    parser, _ = build_parser()
    for name in COMMANDS.names():
        assert f"### `densepred {name}" in text, f"docs/cli.md has no section for {name}"
        assert COMMANDS.get(name).help
    assert parser.prog == "densepred"


def test_the_readme_names_every_subcommand() -> None:
    text = (ROOT / "README.md").read_text()
    missing = [name for name in COMMANDS.names() if f"`{name}`" not in text]
    assert not missing, f"README.md's subcommand list lacks {missing}"


def test_the_export_extra_is_the_onnx_and_tflite_extras() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert sorted(extras["export"]) == sorted(extras["onnx"] + extras["tflite"])
