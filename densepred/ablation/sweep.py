"""Sweep files: a base config, the budget shared by all trials and the axes varied as a grid.

A sweep file looks like::

    base: depth_mbv3_unet.yaml          # relative to the sweep file
    base_overrides: [trainer.max_epochs=2]
    grid:
      model.encoder: [mobilenet_v2, resnet18]
    seeds: [0, 1, 2]                    # every grid point trained once per seed
    benchmark: {sizes: [[480, 640]], include_train_size: true, threads: 2, rounds: 10}
    score: {alpha: 20.0, C: 1.0}
    ranking: {resamples: 2000, level: 0.95}
    output_dir: runs/ablation_depth

Grid keys are dotted config keys; they may also be written nested (``grid: {model: {encoder:
[...]}}``), which is what command-line overrides such as ``grid.model.encoder=[a,b]`` produce.
A ``seed`` axis in the grid is read as ``seeds``: seeds are replicates of a grid point, not points.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, PositiveInt, field_validator

from densepred.ablation.score import ScoreSettings
from densepred.app.config import config_from_dict
from densepred.config.loader import apply_overrides, read_yaml
from densepred.core.errors import ConfigError, unknown_name_message
from densepred.core.schema import StrictModel, validate_section
from densepred.export.runtimes import RUNTIMES
from densepred.metrics.depth import METRIC_DIRECTIONS

# Run keys that name where a trial is written, not what it computes; left out of trial ids.
PLACEMENT_KEYS = ("output_dir", "name")
# Wall times of a trial's record (seconds) that may serve as the score's runtime as well.
TIME_KEYS = ("train_s", "wall_s")
SEED_KEY = "seed"


def size_tag(height: int, width: int) -> str:
    """``WxH`` as resolutions are usually written (``640x480`` for height 480, width 640)."""
    return f"{width}x{height}"


class BenchmarkSettings(StrictModel):
    """``benchmark``: how each trial's model is measured.

    Attributes:
        sizes: Input sizes as ``[height, width]``; the MAI challenge resolution 640x480 is ``[480, 640]``.
        include_train_size: Also measure at the trial's training resolution (``data.image_size``).
        threads: CPU threads for the latency runs (recorded with the results).
        warmup: Untimed runs before the timed ones, in every round.
        repeats: Timed runs per round; their median is the round's value.
        rounds: Rounds of the interleaved timing: each round times every grid point once, in
            a shuffled order, so slow phases of the machine hit all points alike. A point's
            latency is the median of its round values, with a bootstrap interval over rounds.
        runtime: Runtime of the latency runs: ``torch`` (eager), or ``onnxruntime`` / ``tflite``,
            which export each trial's model first (``pip install -e ".[export]"``); a trial whose
            export fails keeps its training result and records ``export_error``.
        mai: Time the MAI contract at each of ``sizes`` (depth): RGB in at that size, the
            network at the training size, the resize inside the graph, as a submission runs.
    """

    sizes: list[tuple[PositiveInt, PositiveInt]] = Field(default_factory=lambda: [(480, 640)])
    include_train_size: bool = True
    threads: PositiveInt = 2
    warmup: int = Field(2, ge=0)
    repeats: PositiveInt = 5
    rounds: PositiveInt = 10
    runtime: str = "torch"
    mai: bool = False

    @field_validator("runtime")
    @classmethod
    def _known_runtime(cls, name: str) -> str:
        RUNTIMES.get(name)
        return name

    def tagged_sizes(self) -> dict[str, tuple[int, int]]:
        """``sizes`` keyed by their ``WxH`` tag, the suffix of the ``latency_ms_*`` columns."""
        return {size_tag(h, w): (h, w) for h, w in self.sizes}

    def latency_keys(self) -> list[str]:
        """Record keys of the latencies these settings measure."""
        tags = [*self.tagged_sizes(), *(["train"] if self.include_train_size else [])]
        return [f"latency_ms_{tag}" for tag in tags]


class RankingSettings(StrictModel):
    """``ranking``: how the uncertainty of the ranking is estimated (:mod:`~densepred.ablation.uncertainty`).

    Attributes:
        resamples: Resamples of seeds and timing rounds.
        level: Level of the intervals; two points are separable when one ranks ahead of the
            other in at least this fraction of the resamples.
        seed: Seed of the resampling, so that a report is reproducible from its records.
    """

    resamples: int = Field(2000, ge=100)
    level: float = Field(0.95, gt=0.5, lt=1.0)
    seed: int = 0


class SweepConfig(StrictModel):
    """A validated sweep file.

    Attributes:
        base: Base run config, relative to the sweep file.
        base_overrides: Dotted overrides applied to the base for every trial (the shared budget).
        grid: Dotted config key -> values; every combination is one grid point.
        seeds: Each grid point is trained once per seed (``seed`` of the run config); None:
            once, with the base config's seed.
        benchmark: Measurement settings.
        score: Challenge-score settings.
        ranking: Uncertainty of the ranking.
        output_dir: Sweep folder (results, report, one run folder per trial).
    """

    base: str
    base_overrides: list[str] = Field(default_factory=list)
    grid: dict[str, list[Any]]
    seeds: list[int] | None = None
    benchmark: BenchmarkSettings = Field(default_factory=BenchmarkSettings)
    score: ScoreSettings = Field(default_factory=ScoreSettings)
    ranking: RankingSettings = Field(default_factory=RankingSettings)
    output_dir: str = "runs/ablation"

    @field_validator("grid")
    @classmethod
    def _non_empty(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        if not grid:
            raise ValueError(
                "name at least one axis, e.g. {model.encoder: [mobilenet_v2, resnet18]}"
            )
        for key, values in grid.items():
            if not values:
                raise ValueError(f"axis '{key}' has no values")
        return grid

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int] | None) -> list[int] | None:
        if seeds is not None and not seeds:
            raise ValueError("list at least one seed, e.g. [0, 1, 2], or leave seeds out")
        if seeds is not None and len(set(seeds)) < len(seeds):
            raise ValueError(f"a seed is listed twice in {seeds}")
        return seeds


@dataclass
class Trial:
    """One training run of a grid point (one seed), as plain data (picklable, JSON-able).

    Attributes:
        trial_id: Readable, stable id: the varied values, the seed (when the sweep lists
            ``seeds``) and a hash of the trial's config.
        values: Varied key -> value of the grid point (the seed is not one of them).
        overrides: The dotted ``key=value`` strings that made the config (values, then seed).
        config: The trial's raw config mapping (validated by the trial itself).
        point_id: The grid point: readable values and a hash of the config without its seed;
            the trials of one point differ only by seed.
        seed: The trial's training seed.
    """

    trial_id: str
    values: dict[str, Any]
    overrides: list[str]
    config: dict[str, Any] = field(repr=False)
    point_id: str = ""
    seed: int = 0

    @property
    def label(self) -> str:
        """Short name for tables and plots: the varied values."""
        return " / ".join(_text(v) for v in self.values.values())


@dataclass
class Sweep:
    """A loaded sweep: its settings and the source it came from.

    Attributes:
        settings: The validated sweep file.
        base_path: Resolved path of the base config.
        source: The sweep file, for messages.
    """

    settings: SweepConfig
    base_path: Path
    source: str

    @property
    def axes(self) -> list[str]:
        """Varied keys, in grid order."""
        return list(self.settings.grid)

    @property
    def seeds(self) -> list[int] | None:
        """The sweep's seeds (None: one trial per point with the base config's seed)."""
        return self.settings.seeds

    def to_yaml(self) -> str:
        """The validated sweep, overrides applied, as YAML (``base`` resolved to its file)."""
        settings = self.settings.model_dump(mode="json")
        return yaml.safe_dump({**settings, "base": str(self.base_path)}, sort_keys=False)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _slug(value: Any) -> str:
    """``value`` for a trial id; a number keeps its signs (``-0.5``, ``1e+39``, ``1e-39``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    return re.sub(r"[^A-Za-z0-9._]+", "-", _text(value)).strip("-")[:40] or "x"


def _yaml_inline(value: Any) -> str:
    """``value`` as one line of YAML that ``yaml.safe_load`` reads back unchanged."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1_000_000).strip()
    return text.removesuffix("...").strip()


def _nest(grid: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": v}`` -> ``{"a": {"b": v}}``, so that dotted overrides address grid axes."""
    out: dict[str, Any] = {}
    for key, value in grid.items():
        node = out
        *parents, leaf = str(key).split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _nest(value) if isinstance(value, dict) else value
    return out


def _flatten(grid: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested grid -> ``{"a.b": values}``; a mapping is descended into, anything else is an axis."""
    out: dict[str, Any] = {}
    for key, value in grid.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def load_sweep(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Sweep:
    """Read, override and validate a sweep file; the base config must itself be valid.

    Args:
        path: Sweep YAML file.
        overrides: Dotted overrides of the sweep file, e.g. ``("benchmark.repeats=3",
            "grid.model.encoder=[resnet18]")``.
    """
    path = Path(path)
    raw = read_yaml(path)
    if isinstance(raw.get("grid"), dict):
        raw["grid"] = _nest(raw["grid"])
    raw = apply_overrides(raw, overrides)
    if isinstance(raw.get("grid"), dict):
        raw["grid"] = _flatten(raw["grid"])
        _seed_axis_to_seeds(raw, str(path))
    settings: Any = validate_section(SweepConfig, raw, "sweep", str(path))
    check_score(settings, str(path))
    sweep = Sweep(settings=settings, base_path=path.parent / settings.base, source=str(path))
    config_from_dict(base_config(sweep), source=f"{sweep.base_path} with base_overrides")
    return sweep


def _seed_axis_to_seeds(raw: dict[str, Any], source: str) -> None:
    """Read a ``seed`` grid axis as ``seeds`` (replicates, not points); both at once is an error."""
    if SEED_KEY not in raw["grid"]:
        return
    if raw.get("seeds") is not None:
        raise ConfigError(
            f"{source}: grid.seed and seeds both list seeds; keep one (seeds: [0, 1, 2])."
        )
    raw["seeds"] = raw["grid"].pop(SEED_KEY)
    if not isinstance(raw["seeds"], list):
        raise ConfigError(f"{source}: grid.seed: expected a list of seeds, got {raw['seeds']!r}.")


def check_score(settings: SweepConfig, source: str) -> None:
    """Fail unless the score reads a lower-is-better metric and a runtime the sweep measures."""
    metric, runtime = settings.score.metric, settings.score.runtime
    lower_better = [k for k, d in METRIC_DIRECTIONS.items() if d == "min"]
    if metric not in lower_better:
        raise ConfigError(
            f"{source}: score.metric: {unknown_name_message('metric', metric, lower_better)}"
        )
    runtimes = [*settings.benchmark.latency_keys(), *TIME_KEYS]
    if runtime not in runtimes:
        raise ConfigError(
            f"{source}: score.runtime: {unknown_name_message('runtime', runtime, runtimes)} "
            "A latency needs its size in benchmark.sizes."
        )


def base_config(sweep: Sweep) -> dict[str, Any]:
    """The raw base config with the sweep's ``base_overrides`` applied."""
    raw = apply_overrides(read_yaml(sweep.base_path), sweep.settings.base_overrides)
    raw.setdefault("name", sweep.base_path.stem)
    return raw


def trial_hash(config: dict[str, Any]) -> str:
    """Eight hex digits that change whenever the trial's config (what is trained) changes.

    Measurement settings are not part of it: measure finished trials again with
    :func:`densepred.ablation.runner.remeasure` instead of retraining them.
    """
    content = {k: v for k, v in config.items() if k not in PLACEMENT_KEYS}
    text = json.dumps(content, sort_keys=True)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def _readable(values: dict[str, Any]) -> str:
    return "__".join(f"{k.rsplit('.', 1)[-1]}-{_slug(v)}" for k, v in values.items())


def expand_grid(sweep: Sweep) -> list[Trial]:
    """Every combination of the grid's values, once per seed.

    Points are in grid order (the last axis varies fastest); with ``seeds`` every point is
    listed once for the first seed, then once for the next, so that an interrupted sweep has
    the most points with at least one seed.
    """
    base = base_config(sweep)
    axes = sweep.axes
    seeds = sweep.seeds if sweep.seeds is not None else [base.get(SEED_KEY, 0)]
    points = []
    for combo in itertools.product(*(sweep.settings.grid[k] for k in axes)):
        values = dict(zip(axes, combo, strict=True))
        overrides = [f"{k}={_yaml_inline(v)}" for k, v in values.items()]
        config = apply_overrides(base, overrides)
        unseeded = {k: v for k, v in config.items() if k != SEED_KEY}
        points.append((values, overrides, config, f"{_readable(values)}__{trial_hash(unseeded)}"))
    trials = []
    for seed in seeds:
        for values, overrides, config, point_id in points:
            seed_overrides = [f"{SEED_KEY}={seed}"] if sweep.seeds is not None else []
            trial_config = apply_overrides(config, seed_overrides)
            readable = _readable(values) + (f"__seed-{seed}" if seed_overrides else "")
            trial_id = f"{readable}__{trial_hash(trial_config)}"
            trial_config["name"] = trial_id
            trials.append(
                Trial(
                    trial_id=trial_id,
                    values=values,
                    overrides=[*overrides, *seed_overrides],
                    config=trial_config,
                    point_id=point_id,
                    seed=int(trial_config.get(SEED_KEY, 0)),
                )
            )
    ids = [t.trial_id for t in trials]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ConfigError(
            f"{sweep.source}: grid: the same trial appears twice ({repeated[0]}); remove the repeated value."
        )
    return trials
