"""The first validation pass: YAML, overrides and keys/types of every section, without torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from densepred.config.loader import apply_overrides, load_yaml, parse_config, read_config, read_yaml
from densepred.config.specs import TASK_SPECS
from densepred.core.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
MAIN = CONFIGS / "depth_mbv3_unet.yaml"


def test_a_key_given_twice_is_an_error_naming_both_lines() -> None:
    text = "task:\n  name: depth\nmodel: {}\ntask:\n  name: segmentation\n"
    with pytest.raises(ConfigError, match=r"key 'task' appears twice .*lines 1 and 4"):
        load_yaml(text, "x.yaml")
    with pytest.raises(ConfigError, match="'encoder' appears twice"):
        load_yaml("model:\n  encoder: a\n  encoder: b\n", "x.yaml")


@pytest.mark.parametrize(
    ("text", "key", "lines"),
    [
        ("a:\n  b: 1\n  c: 2\n  b: 3\n", "b", "2 and 4"),
        ("x: [{k: 1, k: 2}]\n", "k", "1 and 1"),
        ("1: a\n1: b\n", "1", "1 and 2"),
    ],
)
def test_duplicates_are_found_at_any_level_and_for_any_key_type(
    text: str, key: str, lines: str
) -> None:
    with pytest.raises(ConfigError, match=rf"f.yaml: key '{key}' appears twice .*lines {lines}"):
        load_yaml(text, "f.yaml")


def test_merge_keys_and_equal_keys_in_different_mappings_are_fine() -> None:
    text = "base: &b {lr: 1, wd: 2}\nrun:\n  <<: *b\n  lr: 3\nother: {lr: 4}\nmore:\n  <<: *b\n"
    assert load_yaml(text, "f.yaml")["run"] == {"lr": 3, "wd": 2}
    assert load_yaml(text, "f.yaml")["more"] == {"lr": 1, "wd": 2}


def test_a_duplicate_in_an_override_value_is_named() -> None:
    with pytest.raises(
        ConfigError, match=r"override 'data.args=\{a: 1, a: 2\}': key 'a' appears twice"
    ):
        apply_overrides({}, ["data.args={a: 1, a: 2}"])


def test_yaml_stays_safe() -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml("!!python/object/apply:os.system ['true']", "f.yaml")


def test_the_first_pass_checks_keys_and_types_and_reports_every_section() -> None:
    raw = apply_overrides(
        read_config(MAIN), ["model.encdoer=resnet18", "data.batch_size=abc", "task.lr=1"]
    )
    with pytest.raises(ConfigError) as err:
        parse_config(raw, "main")
    message = str(err.value)
    assert "model.encdoer: Unknown key 'encdoer'. Did you mean 'encoder'" in message
    assert "data.batch_size:" in message and "task.lr:" in message


def test_the_first_pass_leaves_names_to_the_second() -> None:
    """Without references, names into the registries are not looked up (that needs torch)."""
    raw = apply_overrides(read_config(MAIN), ["model.decoder=no_such_decoder"])
    assert parse_config(raw, "main").model.decoder == "no_such_decoder"


@pytest.mark.parametrize("name", TASK_SPECS.names())
def test_every_spec_parses_its_shipped_configs(name: str) -> None:
    paths = [
        p for p in CONFIGS.glob("*.yaml") if (read_yaml(p).get("task") or {}).get("name") == name
    ]
    assert paths, f"no shipped config of task {name}"
    for path in paths:
        assert parse_config(read_config(path), str(path)).task_name == name


def test_a_typo_is_reported_without_importing_torch() -> None:
    code = (
        "import sys\n"
        "from densepred.config.loader import parse_config, read_config\n"
        f"raw = read_config({str(MAIN)!r}, ['model.encdoer=resnet18'])\n"
        "try:\n    parse_config(raw, 'x')\nexcept Exception as exc:\n    print(type(exc).__name__)\n"
        "print(sorted(m for m in ('torch', 'lightning', 'timm') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ConfigError", "[]"]
