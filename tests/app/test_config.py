"""Config loading: validation messages, overrides, round trip, every shipped config."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from densepred.app.config import config_from_dict, load_config
from densepred.config.loader import apply_overrides, parse_override
from densepred.core.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
MAIN = CONFIGS / "depth_mbv3_unet.yaml"
RUN_CONFIGS = sorted(p for p in CONFIGS.glob("*.yaml") if "task" in yaml.safe_load(p.read_text()))


@pytest.mark.parametrize("path", RUN_CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_validates(path: Path) -> None:
    cfg = load_config(path)
    assert cfg.name == path.stem
    assert cfg.task_name == yaml.safe_load(path.read_text())["task"]["name"]


def test_round_trip_through_dict() -> None:
    cfg = load_config(MAIN)
    again = config_from_dict(cfg.to_dict())
    assert again.to_dict() == cfg.to_dict()


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("model.encdoer=resnet18", ["model.encdoer", "'encoder'"]),
        ("model.encoder=mobilenet_v3_lrage", ["model.encoder", "mobilenet_v3_large"]),
        ("model.decoder=unett", ["model.decoder", "'unet'"]),
        ("data.batch_size=eight", ["data.batch_size", "eight"]),
        ("task.losses={silog: 1.0, sliog: 1.0}", ["task.losses", "silog"]),
        ("task.optimizer.name=adamm", ["task.optimizer.name", "adamw"]),
        ("trainer.max_epoch=3", ["trainer", "max_epochs"]),
        ("task.name=dpeth", ["task.name", "depth"]),
        ("modle.encoder=resnet18", ["modle", "model"]),
    ],
)
def test_bad_values_name_the_key_and_the_fix(override: str, expected: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(MAIN, [override])
    message = str(info.value)
    assert str(MAIN) in message
    for part in expected:
        assert part in message


def test_overrides_parse_yaml_values_and_create_sections() -> None:
    raw = apply_overrides({"a": {"b": 1}}, ["a.b=2.5", "a.c=[1, 2]", "d.e.f=true", "a.s=text"])
    assert raw == {"a": {"b": 2.5, "c": [1, 2], "s": "text"}, "d": {"e": {"f": True}}}


@pytest.mark.parametrize("bad", ["no_equals_sign", "a..b=1", "=3"])
def test_malformed_override(bad: str) -> None:
    with pytest.raises(ConfigError, match="override"):
        parse_override(bad)


def test_override_into_a_value_fails() -> None:
    with pytest.raises(ConfigError, match="is a value, not a section"):
        apply_overrides({"a": 1}, ["a.b=2"])


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_the_run_folder_is_set_by_densepred() -> None:
    with pytest.raises(ConfigError, match="trainer.default_root_dir is set by densepred"):
        load_config(MAIN, ["trainer.default_root_dir=/tmp/x"])


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("trainer.max_epochs=abc", "trainer.max_epochs"),
        ("trainer.max_epochs=1.5", "trainer.max_epochs"),
        ("trainer.max_steps=[1]", "trainer.max_steps"),
        ("trainer.enable_progress_bar=yes please", "trainer.enable_progress_bar"),
    ],
)
def test_trainer_value_types_are_checked_at_load(override: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        load_config(MAIN, [override])


def test_valid_trainer_values_pass() -> None:
    overrides = [
        "trainer.max_epochs=2",
        "trainer.precision=16-mixed",
        "trainer.devices=auto",
        "trainer.limit_val_batches=0.5",
        "trainer.gradient_clip_val=1",
    ]
    assert load_config(MAIN, overrides).trainer["precision"] == "16-mixed"


SEG = CONFIGS / "seg_mbv3_unet.yaml"
GAN_UNCONDITIONAL = CONFIGS / "gan_dcgan.yaml"


@pytest.mark.parametrize(
    ("path", "overrides", "expected"),
    [
        (MAIN, ["task.min_depth=5", "task.max_depth=1"], r"task.min_depth \(5.0\) must be smaller"),
        (MAIN, ["task.min_depth=2", "task.max_depth=2"], r"task.min_depth \(2.0\) must be smaller"),
        (
            SEG,
            ["task.losses={cross_entropy: 1.0}", "task.loss_args={focal: {gamma: 2.0}}"],
            r"task.loss_args.focal: options for a loss that task.losses does not use",
        ),
        (MAIN, ["task.loss_args={l1: {}}"], r"task.loss_args.l1: options for a loss"),
        (SEG, ["task.mode=binary"], "binary needs exactly two data.classes"),
        (
            SEG,
            ["task.class_weights=[1.0, 2.0]"],
            r"class_weights has 2 values for \d+ data.classes",
        ),
        (GAN_UNCONDITIONAL, ["task.monitor=val/l1"], "Set task.monitor: null"),
    ],
    ids=[
        "depth-range-reversed",
        "depth-range-empty",
        "seg-unused-loss-args",
        "depth-unused-loss-args",
        "seg-binary-head-vs-classes",
        "seg-class-weights-vs-classes",
        "gan-unconditional-monitor",
    ],
)
def test_cross_section_rules_fail_at_load(path: Path, overrides: list[str], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_config(path, overrides)


def test_broken_override_value_names_the_override() -> None:
    """Issue 12, case 13: a YAML error in an override's value names the override."""
    with pytest.raises(ConfigError) as err:
        load_config(MAIN, ["data.image_size=[64,80"])
    assert str(err.value).startswith(
        "override 'data.image_size=[64,80': the value '[64,80' is not valid YAML"
    )


def test_non_utf8_config_names_the_file(tmp_path: Path) -> None:
    """Issue 12, case 13: a config that is not UTF-8 is a ConfigError naming the file."""
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=rf"config file '{path}' is not UTF-8 text \(byte 0xe9"):
        load_config(path)


def test_folder_as_config_says_so(tmp_path: Path) -> None:
    """Issue 12, case 13: a folder passed as the config is named as a folder, with its YAML files."""
    (tmp_path / "a.yaml").write_text("task: {name: depth}\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert str(err.value) == (
        f"config file '{tmp_path}' is a folder, not a YAML file. YAML files in it: a.yaml."
    )


def test_section_rule_errors_do_not_repeat_the_section() -> None:
    """A rule over the whole data section names its key once, without echoing the section."""
    with pytest.raises(ConfigError) as err:
        load_config(MAIN, ["data.args.roots=1"])
    line = str(err.value).splitlines()[1].strip()
    assert line.startswith("data.args: Unknown key 'roots'.") and "(got" not in line
