"""Sweep files: validation, grid expansion and trial ids."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from densepred.ablation.sweep import expand_grid, load_sweep
from densepred.core.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
DEFAULT_ENCODERS = [
    "mobilenet_v1",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "efficientnet_b0",
    "resnet18",
    "mixnet_s",
]


def write_sweep(folder: Path, **fields: object) -> Path:
    """A sweep file over the main config; ``fields`` replace its defaults."""
    content = {
        "base": str(CONFIGS / "depth_mbv3_unet.yaml"),
        "base_overrides": ["trainer.max_epochs=1"],
        "grid": {"model.encoder": ["mobilenet_v2", "resnet18"]},
        "output_dir": str(folder / "sweep"),
        **fields,
    }
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def test_shipped_sweep_covers_the_default_encoders_at_640x480() -> None:
    sweep = load_sweep(CONFIGS / "ablation_depth.yaml")
    trials = expand_grid(sweep)
    encoders = [t.values["model.encoder"] for t in trials]
    assert set(DEFAULT_ENCODERS) <= set(encoders)
    assert [tuple(s) for s in sweep.settings.benchmark.sizes] == [(480, 640)]
    assert sweep.base_path.resolve() == (CONFIGS / "depth_mbv3_unet.yaml").resolve()
    assert all(
        t.config["trainer"]["max_epochs"] == trials[0].config["trainer"]["max_epochs"]
        for t in trials
    )


def test_grid_is_the_product_of_its_axes_last_axis_fastest(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        grid={"model.encoder": ["mobilenet_v2", "resnet18"], "task.optimizer.lr": [0.1, 0.2]},
    )
    trials = expand_grid(load_sweep(path))
    assert [(t.values["model.encoder"], t.values["task.optimizer.lr"]) for t in trials] == [
        (e, lr) for e in ("mobilenet_v2", "resnet18") for lr in (0.1, 0.2)
    ]
    last = trials[-1]
    assert last.config["model"]["encoder"] == "resnet18"
    assert last.config["task"]["optimizer"]["lr"] == 0.2
    assert last.config["trainer"]["max_epochs"] == 1  # base_overrides apply to every trial
    assert last.config["name"] == last.trial_id
    assert last.trial_id.startswith("encoder-resnet18__lr-0.2__")
    assert last.label == "resnet18 / 0.2"
    assert last.overrides == ["model.encoder=resnet18", "task.optimizer.lr=0.2"]
    assert last.seed == 0 and last.config["seed"] == 0  # no seeds: the base config's seed


def test_seeds_expand_every_point_once_per_seed(tmp_path: Path) -> None:
    """Issue 28: seeds are replicates of a point, listed seed by seed (a stopped sweep has the
    most points with a seed); each (point, seed) is a trial of its own."""
    trials = expand_grid(load_sweep(write_sweep(tmp_path, seeds=[0, 1, 2])))
    assert [(t.values["model.encoder"], t.seed) for t in trials] == [
        (e, s) for s in (0, 1, 2) for e in ("mobilenet_v2", "resnet18")
    ]
    assert all(t.config["seed"] == t.seed for t in trials)
    assert len({t.trial_id for t in trials}) == 6
    by_point: dict[str, set[int]] = {}
    for t in trials:
        by_point.setdefault(t.point_id, set()).add(t.seed)
    assert by_point == {p: {0, 1, 2} for p in by_point} and len(by_point) == 2
    last = trials[-1]
    assert last.trial_id.startswith("encoder-resnet18__seed-2__")
    assert last.point_id.startswith("encoder-resnet18__") and "seed" not in last.point_id
    assert last.label == "resnet18" and last.overrides == ["model.encoder=resnet18", "seed=2"]
    # the same trial ids as the seed axis the grid used to take
    axis = expand_grid(load_sweep(write_sweep(tmp_path), ["grid.seed=[0, 1, 2]"]))
    assert [t.trial_id for t in axis] == [t.trial_id for t in trials]
    # a new seed adds trials and keeps the ids of the others (they resume)
    more = expand_grid(load_sweep(write_sweep(tmp_path, seeds=[0, 1, 2, 3])))
    assert {t.trial_id for t in trials} < {t.trial_id for t in more}
    assert {t.point_id for t in more} == set(by_point)


def test_any_dotted_key_and_value_round_trips(tmp_path: Path) -> None:
    grid = {
        "data.image_size": [[64, 80]],
        "task.optimizer.lr": [1e-5],
        "model.decoder_args": [{"upsample": "transposed", "channels": [32, 16, 8, 8, 8]}],
        "name_of_nothing.flag": ["yes"],
    }
    (trial,) = expand_grid(load_sweep(write_sweep(tmp_path, grid=grid)))
    assert trial.config["data"]["image_size"] == [64, 80]
    assert trial.config["task"]["optimizer"]["lr"] == 1e-5
    assert trial.config["model"]["decoder_args"] == grid["model.decoder_args"][0]
    assert trial.config["name_of_nothing"] == {"flag": "yes"}  # a string, not True
    assert "image_size-64-80" in trial.trial_id


def test_trial_ids_are_stable_and_track_what_shapes_the_result(tmp_path: Path) -> None:
    def ids(*overrides: str) -> list[str]:
        return [t.trial_id for t in expand_grid(load_sweep(write_sweep(tmp_path), overrides))]

    first = ids()
    assert ids() == first
    assert ids(f"output_dir={tmp_path / 'out'}") == first  # where results go is not part of it
    assert ids("score.C=3.0") == first  # the score is recomputed from the records
    assert ids("benchmark.repeats=9") == first  # measuring again needs no retraining
    changed_budget = ids("base_overrides=[trainer.max_epochs=2]")
    assert [i.rsplit("__", 1)[0] for i in changed_budget] == [i.rsplit("__", 1)[0] for i in first]
    assert not set(changed_budget) & set(first)


def test_overrides_address_grid_axes_by_dotted_key(tmp_path: Path) -> None:
    path = write_sweep(tmp_path)
    sweep = load_sweep(
        path, ["grid.model.encoder=[mixnet_s]", "grid.seed=[3, 4]", "benchmark.threads=1"]
    )
    assert sweep.axes == ["model.encoder"] and sweep.seeds == [3, 4]  # a seed axis is read as seeds
    assert [(t.label, t.seed) for t in expand_grid(sweep)] == [("mixnet_s", 3), ("mixnet_s", 4)]
    assert sweep.settings.benchmark.threads == 1


def test_nested_grid_is_the_same_as_dotted(tmp_path: Path) -> None:
    dotted = [t.trial_id for t in expand_grid(load_sweep(write_sweep(tmp_path)))]
    nested = write_sweep(tmp_path, grid={"model": {"encoder": ["mobilenet_v2", "resnet18"]}})
    assert [t.trial_id for t in expand_grid(load_sweep(nested))] == dotted


def test_a_bad_grid_value_is_left_to_its_trial(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, grid={"model.encoder": ["resnet18", "no_such_net"]})
    assert [t.values["model.encoder"] for t in expand_grid(load_sweep(path))] == [
        "resnet18",
        "no_such_net",
    ]


@pytest.mark.parametrize(
    "fields, overrides, words",
    [
        ({}, ["benchmark.repets=3"], ["sweep.benchmark.repets", "'repeats'"]),
        ({}, ["grid.model.encoder=[]"], ["model.encoder", "no values"]),
        ({"grid": {}}, [], ["sweep.grid", "at least one axis"]),
        ({}, ["benchmark.threads=0"], ["sweep.benchmark.threads"]),
        ({}, ["score.C=-1"], ["sweep.score.C"]),
        ({}, ["score.metric=delta1"], ["score.metric", "'delta1'", "mai_si_rmse"]),
        (
            {},
            ["benchmark.sizes=[[32, 48]]"],
            ["score.runtime", "latency_ms_48x32", "benchmark.sizes"],
        ),
        ({"base": "missing.yaml"}, [], ["missing.yaml", "does not exist"]),
        ({"base_overrides": ["model.decodr=unet"]}, [], ["model.decodr", "'decoder'"]),
        ({"grid": {"model.encoder": ["resnet18", "resnet18"]}}, [], ["twice", "encoder-resnet18"]),
        ({"seeds": []}, [], ["sweep.seeds", "at least one seed"]),
        ({"seeds": [1, 1]}, [], ["sweep.seeds", "twice"]),
        ({"seeds": [0]}, ["grid.seed=[1]"], ["grid.seed and seeds"]),
        ({}, ["ranking.level=1.5"], ["sweep.ranking.level"]),
        ({}, ["benchmark.rounds=0"], ["sweep.benchmark.rounds"]),
    ],
)
def test_invalid_sweeps_fail_with_a_message_naming_the_key(
    tmp_path: Path, fields: dict, overrides: list[str], words: list[str]
) -> None:
    path = write_sweep(tmp_path, **fields)
    with pytest.raises(ConfigError) as info:
        expand_grid(load_sweep(path, overrides))
    for word in words:
        assert word in str(info.value)


def test_trial_ids_keep_the_sign_of_numbers(tmp_path: Path) -> None:
    """Issue 24 (also found): lr 1e+39 was written 'lr-1e-39' in its trial id, and -0.5 as 0.5."""
    grid = {"task.optimizer.lr": [1e39, 1e-39], "task.losses.silog": [-0.5]}
    trials = expand_grid(load_sweep(write_sweep(tmp_path, grid=grid)))
    readable = [t.trial_id.rsplit("__", 1)[0] for t in trials]
    assert readable == ["lr-1e+39__silog--0.5", "lr-1e-39__silog--0.5"]


def test_a_key_given_twice_in_a_sweep_file_is_an_error(tmp_path: Path) -> None:
    """Issue 24, wrong case 5, in the sweep loader."""
    path = write_sweep(tmp_path)
    path.write_text(path.read_text() + "grid:\n  seed: [1, 2]\n")
    with pytest.raises(
        ConfigError,
        match=rf"'{path}': key 'grid' appears twice in one mapping \(lines \d+ and \d+\)",
    ):
        load_sweep(path)
