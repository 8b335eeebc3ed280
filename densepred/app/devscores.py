"""The dev-set protocol: groups of runs (one per seed) scored per real scene, and a change judged
against a reference group scene by scene, leaving each scene out in turn.

    python tools/dev_scores.py --roots ../shared/real_rgbd_dev datasets/real_dev \
        --group main "runs/main-s*" --group ssi "runs/ssi-s*" --reference main --out scores.json

Each run folder's ``checkpoints/best.ckpt`` is scored once per set of dev folders; the per-photo
rows are kept in ``<run>/dev_scores.json`` and reused. Printed (Markdown):

- per group and scene: the model's si-RMSE (mean over the scene's frames), mean over seeds and
  each seed, beside the constant; how many seeds beat the constant on every scene;
- with ``--reference``: per group and scene, the change of the seed-mean against the reference,
  and the leave-one-scene-out verdict. For each scene left out, the change is *adopted* when it
  lowers the mean of the other scenes, and the left-out scene says whether that decision was
  right. A change counts as a gain only when every fold adopts it and every left-out scene
  improves: one that helps one scene and hurts another is not a gain.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from densepred.core.errors import DataError
from densepred.core.fileio import atomic_write_json

CACHE = "dev_scores.json"


def run_rows(run: Path, roots: Sequence[str]) -> list[dict]:
    """Per-photo rows of ``run``'s best checkpoint on ``roots`` (cached in the run folder)."""
    from densepred.app.inference import load_task
    from densepred.app.realdev import list_photos, score_photos

    cache = run / CACHE
    key = sorted(str(Path(r).resolve()) for r in roots)
    if cache.is_file():
        saved = json.loads(cache.read_text())
        if saved.get("roots") == key:
            return saved["rows"]
    ckpt = run / "checkpoints" / "best.ckpt"
    if not ckpt.is_file():
        raise DataError(f"run '{run}' has no checkpoints/best.ckpt; is the training finished?")
    task = load_task(ckpt)
    rows = score_photos(task.predict_array, list_photos(roots), float(task.config.task.max_depth))
    atomic_write_json(cache, {"roots": key, "checkpoint": str(ckpt), "rows": rows})
    return rows


def synthetic_val(run: Path) -> float | None:
    """The run's synthetic validation si-RMSE (best checkpoint), if its metrics.json has it."""
    path = run / "metrics.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text()).get("val", {}).get("val/mai_si_rmse")


def group_scores(runs: Sequence[Path], roots: Sequence[str]) -> dict:
    """Scene -> per-seed model si-RMSE, and the constant; plus the synthetic val of each run."""
    from densepred.app.realdev import per_scene

    seeds = [per_scene(run_rows(run, roots)) for run in runs]
    scenes = {
        scene: {
            "model": [s[scene]["model"] for s in seeds],
            "constant": seeds[0][scene]["constant"],
        }
        for scene in seeds[0]
    }
    return {
        "runs": [str(r) for r in runs],
        "scenes": scenes,
        "synthetic_val": [synthetic_val(r) for r in runs],
    }


def all_scene_wins(group: dict) -> int:
    """Seeds whose model beats the constant on every scene."""
    scenes = group["scenes"].values()
    per_seed = zip(*[[m < s["constant"] for m in s["model"]] for s in scenes], strict=True)
    return sum(all(wins) for wins in per_seed)


def leave_one_scene_out(group: dict, reference: dict) -> dict:
    """Per scene: change of the seed-mean si-RMSE against ``reference``, and the fold verdicts.

    Returns:
        ``{"delta": {scene: change}, "adopted": {scene: bool}, "right": {scene: bool},
        "gain": bool}``: ``adopted`` when the other scenes' mean change is negative, ``right``
        when that decision helped (or, rejected, would have hurt) the left-out scene.
    """
    delta = {
        scene: float(np.mean(v["model"]) - np.mean(reference["scenes"][scene]["model"]))
        for scene, v in group["scenes"].items()
    }
    adopted, right = {}, {}
    for scene in delta:
        others = [d for s, d in delta.items() if s != scene]
        adopted[scene] = bool(others) and float(np.mean(others)) < 0
        right[scene] = adopted[scene] == (delta[scene] < 0)
    gain = all(adopted.values()) and all(d < 0 for d in delta.values())
    return {"delta": delta, "adopted": adopted, "right": right, "gain": gain}


def _fmt(values: Sequence[float | None]) -> str:
    return " / ".join("-" if v is None else f"{v:.3f}" for v in values)


def report(groups: dict[str, dict], reference: str | None) -> str:
    """The Markdown tables printed by the tool."""
    scenes = list(next(iter(groups.values()))["scenes"])
    lines = [
        "| group | seeds | synthetic val | "
        + " | ".join(scenes)
        + " | seeds beating the constant on every scene |",
        "|---" * (4 + len(scenes)) + "|",
    ]
    first = next(iter(groups.values()))
    lines.append(
        "| constant | - | - | "
        + " | ".join(f"{first['scenes'][s]['constant']:.3f}" for s in scenes)
        + " | - |"
    )
    for name, group in groups.items():
        cells = [
            f"{np.mean(group['scenes'][s]['model']):.3f} ({_fmt(group['scenes'][s]['model'])})"
            for s in scenes
        ]
        val = [v for v in group["synthetic_val"] if v is not None]
        lines.append(
            f"| {name} | {len(group['runs'])} | {f'{np.mean(val):.3f}' if val else '-'} | "
            + " | ".join(cells)
            + f" | {all_scene_wins(group)} of {len(group['runs'])} |"
        )
    if reference is None:
        return "\n".join(lines)
    lines += [
        "",
        f"Change of the seed-mean si-RMSE against '{reference}' per scene; leave-one-scene-out: "
        "adopted when the other scenes improve on average, (ok) when the left-out scene agrees.",
        "",
        "| group | " + " | ".join(scenes) + " | gain on every scene |",
        "|---" * (2 + len(scenes)) + "|",
    ]
    for name, group in groups.items():
        if name == reference:
            continue
        loso = leave_one_scene_out(group, groups[reference])
        cells = [
            f"{loso['delta'][s]:+.3f} {'adopt' if loso['adopted'][s] else 'reject'}"
            f" ({'ok' if loso['right'][s] else 'wrong'})"
            for s in scenes
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {'yes' if loso['gain'] else 'no'} |")
    return "\n".join(lines)


def score_groups(
    patterns: Sequence[tuple[str, str]],
    roots: Sequence[str],
    scenes: Sequence[str] | None = None,
) -> dict[str, dict]:
    """Group name -> :func:`group_scores` of the run folders matching its glob pattern.

    Args:
        patterns: (group name, glob of its run folders), one per group.
        roots: MAI-layout dev folders.
        scenes: Judge on these scenes only (default: all).

    Raises:
        DataError: A pattern matches no folder, or a scene is not among the dev scenes.
    """
    groups: dict[str, dict] = {}
    for name, pattern in patterns:
        runs = sorted(Path(p) for p in glob.glob(pattern))
        if not runs:
            raise DataError(f"--group {name}: no run folder matches '{pattern}'.")
        groups[name] = group_scores(runs, roots)
        if scenes:
            missing = sorted(set(scenes) - set(groups[name]["scenes"]))
            if missing:
                raise DataError(f"--scenes {missing} are not among the dev scenes of --roots.")
            groups[name]["scenes"] = {s: groups[name]["scenes"][s] for s in scenes}
    return groups
