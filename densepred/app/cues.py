"""What a depth model reads depth from: predictions on edited inputs, and cue correlations.

    python tools/depth_cues.py runs/depth_mbv3_unet/checkpoints/best.ckpt \
        --roots ../shared/real_rgbd_dev datasets/real_dev --synthetic 24 --out cues.json

For every real dev scene (frames of one scene pooled, :mod:`densepred.app.realdev`) and for
synthetic validation images of the checkpoint's own generated set, it reports:

- per edit of :data:`EDITS` (brightness, contrast, blur, colour channels, vertical flip,
  texture replaced by noise): the si-RMSE of the prediction on the edited image against the
  ground truth, and how far the prediction moved (si-RMSE between the two predictions). A model
  that reads depth from geometry barely moves under photometric edits; one that reads it from
  brightness moves a lot;
- ``paste``: a patch of the lower image moved up by a quarter of the height. ``patch`` is the
  change of the patch's predicted log depth, ``position`` the change the unedited prediction has
  between the two places: ``patch / position`` near 1 means the model reads depth from the image
  row, near 0 from what the patch shows;
- the rank correlation of log depth with pixel brightness and with the pixel row (0 = top), for
  the prediction and for the ground truth: a model correlation far from the ground truth's is a
  cue the model uses that the scene does not have.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from densepred.core.registry import Registry

Edit = Callable[[np.ndarray, np.random.Generator], np.ndarray]
EDITS: Registry[Edit] = Registry("input edit")

WORK_WIDTH = 160
"""Width (pixels) the blur and noise scales refer to: the main config's network input."""


def _linear(rgb: np.ndarray) -> np.ndarray:
    return (rgb.astype(np.float32) / 255) ** 2.2


def _srgb(linear: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(255 * np.clip(linear, 0, 1) ** (1 / 2.2)), 0, 255).astype(np.uint8)


def _sigma(rgb: np.ndarray, pixels: float) -> float:
    """``pixels`` at :data:`WORK_WIDTH` in the image's own pixels."""
    return pixels * rgb.shape[1] / WORK_WIDTH


@EDITS.register("brighter")
def brighter(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One stop more light (linear x2)."""
    return _srgb(_linear(rgb) * 2)


@EDITS.register("darker")
def darker(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One stop less light (linear x0.5)."""
    return _srgb(_linear(rgb) * 0.5)


@EDITS.register("low_contrast")
def low_contrast(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Half the contrast around the image mean (8-bit values)."""
    x = rgb.astype(np.float32)
    return np.clip(np.rint(x.mean() + 0.5 * (x - x.mean())), 0, 255).astype(np.uint8)


@EDITS.register("blur")
def blur(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gaussian blur of sigma 1.5 network-input pixels (fine texture gone, shapes kept)."""
    return cv2.GaussianBlur(rgb, (0, 0), _sigma(rgb, 1.5))


@EDITS.register("swap_rb")
def swap_rb(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Red and blue channels swapped."""
    return np.ascontiguousarray(rgb[..., ::-1])


@EDITS.register("vflip")
def vflip(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Upside down (the prediction is flipped back before scoring)."""
    return np.ascontiguousarray(rgb[::-1])


@EDITS.register("texture_noise")
def texture_noise(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Detail finer than 2 network-input pixels replaced by noise of the same local strength."""
    x = rgb.astype(np.float32)
    sigma = _sigma(rgb, 2.0)
    low = cv2.GaussianBlur(x, (0, 0), sigma)
    strength = np.sqrt(cv2.GaussianBlur((x - low) ** 2, (0, 0), sigma))
    return np.clip(np.rint(low + strength * rng.normal(size=x.shape)), 0, 255).astype(np.uint8)


UNFLIP = {"vflip": lambda depth: depth[::-1]}
"""Edits that move pixels: how to map the prediction back onto the original image."""

PATCH = (0.6, 0.85, 0.4, 0.6)
"""Rows and columns (fractions) of the patch that ``paste`` moves."""

PASTE_SHIFT = 0.25
"""How far up ``paste`` moves the patch (fraction of the height)."""


def paste(rgb: np.ndarray) -> tuple[np.ndarray, tuple[slice, slice], tuple[slice, slice]]:
    """The image with a lower patch copied :data:`PASTE_SHIFT` of the height higher, and the
    patch's original and new (rows, cols) slices."""
    h, w = rgb.shape[:2]
    top, bottom, left, right = (
        int(PATCH[0] * h),
        int(PATCH[1] * h),
        int(PATCH[2] * w),
        int(PATCH[3] * w),
    )
    shift = int(PASTE_SHIFT * h)
    old = (slice(top, bottom), slice(left, right))
    new = (slice(top - shift, bottom - shift), slice(left, right))
    out = rgb.copy()
    out[new] = rgb[old]
    return out, old, new


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks of ``x`` with ties given their average rank."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    return (np.cumsum(counts) - (counts - 1) / 2)[inverse]


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman correlation of two equal-length 1-D arrays (tied values share their rank)."""
    return float(np.corrcoef(_ranks(a), _ranks(b))[0, 1])


def si_rmse(pred: np.ndarray, ref: np.ndarray, valid: np.ndarray) -> float:
    """MAI si-RMSE of log depth: the standard deviation of ``ln pred - ln ref`` over ``valid``."""
    d = np.log(np.maximum(pred[valid], 1e-6)) - np.log(ref[valid])
    return float(np.sqrt(max(np.mean(d**2) - np.mean(d) ** 2, 0.0)))


def correlations(rgb: np.ndarray, depth: np.ndarray, valid: np.ndarray) -> dict[str, float]:
    """Rank correlation of log ``depth`` with brightness and with the pixel row over ``valid``."""
    rows = np.broadcast_to(np.arange(depth.shape[0])[:, None], depth.shape)
    brightness = rgb.astype(np.float32).mean(axis=2)
    log = np.log(np.maximum(depth[valid], 1e-6))
    return {
        "brightness": rank_correlation(brightness[valid], log),
        "row": rank_correlation(rows[valid], log),
    }


@dataclass(frozen=True)
class Sample:
    """One image with ground truth, in a group (a real scene or the synthetic set)."""

    group: str
    rgb: np.ndarray
    depth: np.ndarray


def probe(predict: Callable[[np.ndarray], np.ndarray], sample: Sample, seed: int = 0) -> dict:
    """All measurements of :mod:`densepred.app.cues` on one image.

    Args:
        predict: HxWx3 uint8 RGB -> HxW depth in metres at the image's size.
        sample: The image and its ground truth (0 = invalid).
        seed: Seed of the noise edits.
    """
    rng = np.random.default_rng(seed)
    valid = sample.depth > 0
    every = np.ones_like(valid)
    base = predict(sample.rgb)
    out: dict = {"group": sample.group, "none": {"gt": si_rmse(base, sample.depth, valid)}}
    for name in EDITS.names():
        pred = predict(EDITS.get(name)(sample.rgb, rng))
        pred = UNFLIP.get(name, lambda d: d)(pred)
        out[name] = {"gt": si_rmse(pred, sample.depth, valid), "moved": si_rmse(pred, base, every)}
    pasted, old, new = paste(sample.rgb)
    moved = np.log(np.maximum(predict(pasted)[new], 1e-6)).mean()
    log_base = np.log(np.maximum(base, 1e-6))
    out["paste"] = {
        "patch": float(moved - log_base[old].mean()),
        "position": float(log_base[new].mean() - log_base[old].mean()),
    }
    out["corr_pred"] = correlations(sample.rgb, base, valid)
    out["corr_gt"] = correlations(sample.rgb, sample.depth, valid)
    return out


def summarise(results: Sequence[dict]) -> dict[str, dict]:
    """Group -> mean of every measurement over the group's images."""
    groups: dict[str, list[dict]] = {}
    for r in results:
        groups.setdefault(r["group"], []).append(r)
    summary = {}
    for group, items in groups.items():
        entry: dict = {"images": len(items)}
        for key, value in items[0].items():
            if isinstance(value, dict):
                entry[key] = {k: float(np.mean([i[key][k] for i in items])) for k in value}
        summary[group] = entry
    return summary


def report(summary: dict[str, dict]) -> str:
    """Markdown tables of :func:`summarise`'s output."""
    groups = list(summary)
    head = "| | " + " | ".join(f"{g} ({summary[g]['images']})" for g in groups) + " |"
    rule = "|---" * (1 + len(groups)) + "|"
    lines = ["si-RMSE against the ground truth (how far the prediction moved)", "", head, rule]
    for edit in ("none", *EDITS.names()):
        cells = []
        for g in groups:
            v = summary[g][edit]
            cells.append(f"{v['gt']:.3f}" + (f" ({v['moved']:.3f})" if "moved" in v else ""))
        lines.append(f"| {edit} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Log depth change of a patch moved up, and of the place it moved to",
        "",
        head,
        rule,
    ]
    for key in ("patch", "position"):
        lines.append(
            f"| {key} | " + " | ".join(f"{summary[g]['paste'][key]:+.3f}" for g in groups) + " |"
        )
    ratio = [summary[g]["paste"]["patch"] / summary[g]["paste"]["position"] for g in groups]
    lines.append("| patch / position | " + " | ".join(f"{r:.2f}" for r in ratio) + " |")
    lines += [
        "",
        "Rank correlation of log depth with brightness and with the row (0 = top)",
        "",
        head,
        rule,
    ]
    for cue in ("brightness", "row"):
        for who in ("pred", "gt"):
            cells = " | ".join(f"{summary[g][f'corr_{who}'][cue]:+.2f}" for g in groups)
            lines.append(f"| {cue}, {'model' if who == 'pred' else 'ground truth'} | {cells} |")
    return "\n".join(lines)


def synthetic_samples(config: Any, count: int) -> list[Sample]:
    """The first ``count`` validation images of the checkpoint config's generated set."""
    from densepred.data.io import read_depth, read_image
    from densepred.data.synthetic.dataset import ensure_synthetic, parse_realism

    data = config.data
    if data.format != "synthetic":
        return []
    args = dict(data.args)
    args["realism"] = parse_realism(args.get("realism"))
    folder = ensure_synthetic(data.root, **args) / data.val_split
    names = sorted((folder / "rgb").glob("*.png"))[:count]
    return [
        Sample("synthetic val", read_image(p), read_depth(folder / "depth" / p.name, 1000.0))
        for p in names
    ]


def probe_checkpoint(
    checkpoint: str | Path, roots: Sequence[str | Path], synthetic: int
) -> tuple[dict[str, dict], list[dict]]:
    """Probe a depth checkpoint on the dev photos under ``roots`` and ``synthetic`` images of its
    own generated validation set.

    Returns:
        The per-group summary (:func:`summarise`) and the per-image measurements.
    """
    from densepred.app.inference import load_task
    from densepred.app.realdev import list_photos

    task = load_task(checkpoint)
    samples = [Sample(p.scene, *p.load()) for p in list_photos(roots)] if roots else []
    samples += synthetic_samples(task.config, synthetic)
    results = [probe(task.predict_array, s, seed=i) for i, s in enumerate(samples)]
    return summarise(results), results
