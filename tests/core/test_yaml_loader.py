"""load_yaml: yaml.safe_load, but a key given twice in one mapping is an error at any level."""

from __future__ import annotations

import pytest
import yaml

from densepred.core.errors import ConfigError
from densepred.core.yaml_loader import load_yaml


@pytest.mark.parametrize(
    ("text", "key", "line", "first"),
    [
        ("a: 1\nb: 2\na: 3\n", "a", 3, 1),
        ("a:\n  b: 1\n  c: 2\n  b: 3\n", "b", 4, 2),
        ("x: [{k: 1, k: 2}]\n", "k", 1, 1),
        ("1: a\n1: b\n", "1", 2, 1),
    ],
)
def test_duplicate_keys_name_source_key_and_lines(
    text: str, key: str, line: int, first: int
) -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml(text, "f.yaml")
    assert str(info.value).startswith(
        f"f.yaml: line {line}: key '{key}' is given twice in the same mapping (first at line {first})"
    )


def test_same_key_in_different_mappings_and_merge_keys_are_fine() -> None:
    text = "base: &b {lr: 1, wd: 2}\nrun:\n  <<: *b\n  lr: 3\nother: {lr: 4}\n"
    assert load_yaml(text, "f.yaml") == yaml.safe_load(text)
    assert load_yaml(text, "f.yaml")["run"] == {"lr": 3, "wd": 2}


def test_everything_else_is_safe_load() -> None:
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: [1, 2", "f.yaml")
    with pytest.raises(yaml.YAMLError):
        load_yaml("!!python/object/apply:os.system ['true']", "f.yaml")
    assert load_yaml("", "f.yaml") is None
