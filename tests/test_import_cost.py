"""``import densepred``, ``densepred --help`` and most subcommands' ``--help`` stay cheap: no torch,
timm, smp or Lightning loaded (a config typo is reported the same way, see tests/config)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "timm", "segmentation_models_pytorch", "lightning")


def loaded_after(code: str) -> list[str]:
    """Heavy modules present in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    line = out.stdout.strip().splitlines()[-1]
    assert line.startswith("LOADED:"), out.stdout
    return [m for m in line.removeprefix("LOADED:").split(",") if m]


def test_import_densepred_loads_no_heavy_library() -> None:
    assert loaded_after("import densepred") == []


LIGHT_HELP = [
    [],
    ["train"],
    ["evaluate"],
    ["predict"],
    ["ablate"],
    ["keys"],
    ["configs"],
    ["baseline"],
    ["prepare-data"],
    ["benchmark-data"],
]
"""Help texts that need no heavy library (export and benchmark list runtime choices from torch)."""


@pytest.mark.parametrize("argv", LIGHT_HELP, ids=lambda a: " ".join(a) or "densepred")
def test_help_loads_no_heavy_library(argv: list[str]) -> None:
    code = (
        "from densepred.cli.main import main\n"
        f"try:\n    main({[*argv, '--help']!r})\nexcept SystemExit:\n    pass"
    )
    assert loaded_after(code) == []


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("create_encoder", "densepred.encoders"),
        ("list_encoders", "densepred.encoders"),
        ("from_pretrained", "densepred.portable.model"),
        ("save_pretrained", "densepred.app.pretrained"),
    ],
)
def test_lazy_attributes_still_work(name: str, module: str) -> None:
    import importlib

    import densepred

    assert getattr(densepred, name) is getattr(importlib.import_module(module), name)
    with pytest.raises(AttributeError):
        densepred.no_such_thing  # noqa: B018
