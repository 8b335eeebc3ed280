"""A depth checkpoint on real RGB-D photos: scores at native resolution and a picture
(``densepred real-photos``).

Reads the MAI layout ``ROOT/SPLIT/rgb/NAME.png`` + ``ROOT/SPLIT/depth/NAME.png`` (uint16 mm).
Prints, per image and on average, si-RMSE, delta1 and AbsRel of the model (predicted at the
checkpoint's input size, upsampled bilinearly to the photo's size) beside the constant that
knows each image's true mean log depth (its scale, which a monocular model must guess). Writes
one photo, its ground truth and the prediction side by side, on one colour scale (metres).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from densepred.app.inference import load_task
from densepred.core.errors import DataError
from densepred.data.io import read_depth, read_image
from densepred.metrics.depth import compute_depth_metrics
from densepred.viz.depth import colorize_depth, save_png
from densepred.viz.grid import labelled_columns

METRICS = ("mai_si_rmse", "delta1", "abs_rel")
PANEL = (240, 320)
"""Height and width of each panel of the picture."""


def oracle_constant(gt: np.ndarray) -> np.ndarray:
    """The constant map at the image's own mean log depth over its valid pixels."""
    return np.full_like(gt, np.exp(np.log(gt[gt > 0]).mean()))


def score(pred: np.ndarray, gt: np.ndarray, max_depth: float) -> dict[str, float]:
    """Per-image metrics of ``pred`` against ``gt`` (HxW metres, 0 = invalid)."""
    values = compute_depth_metrics(
        torch.from_numpy(pred)[None], torch.from_numpy(gt)[None], max_depth=max_depth
    )
    return {k: float(values[k][0]) for k in METRICS}


def picture(rgb: np.ndarray, gt: np.ndarray, pred: np.ndarray, si_rmse: float) -> np.ndarray:
    """Photo | ground truth | prediction, depth on the ground truth's 2-98 % range."""
    valid = gt > 0
    lo, hi = np.quantile(gt[valid], [0.02, 0.98])
    size = PANEL[::-1]
    panels = [
        cv2.resize(rgb, size, interpolation=cv2.INTER_AREA),
        cv2.resize(colorize_depth(gt, lo, hi), size, interpolation=cv2.INTER_NEAREST),
        cv2.resize(colorize_depth(pred, lo, hi), size, interpolation=cv2.INTER_AREA),
    ]
    labels = ["real photo", "ground truth (m)", f"prediction, si-RMSE {si_rmse:.3f}"]
    return labelled_columns(np.concatenate(panels, axis=1), labels, PANEL[1])


def score_real_photos(
    checkpoint: str | Path,
    root: str | Path,
    split: str = "val",
    image: str | None = None,
    out: str | Path | None = None,
) -> list[tuple[str, dict[str, float], dict[str, float]]]:
    """Score a depth checkpoint and the oracle constant on every photo; with ``out``, save the
    picture of ``image`` (default: the first photo).

    Args:
        checkpoint: A depth checkpoint.
        root: MAI-layout folder ``ROOT/SPLIT/rgb/NAME.png`` + ``ROOT/SPLIT/depth/NAME.png``.
        split: Split subfolder.
        image: Name of the photo to draw.
        out: PNG file of the picture.

    Returns:
        ``(photo name, model metrics, constant metrics)`` per photo, sorted by name.
    """
    task = load_task(checkpoint)
    max_depth = float(task.config.task.max_depth)
    folder = Path(root) / split
    names = sorted(p.stem for p in (folder / "rgb").glob("*.png"))
    if not names:
        raise DataError(f"no images under '{folder / 'rgb'}'; expected ROOT/SPLIT/rgb/NAME.png.")
    if image and image not in names:
        raise DataError(f"--image '{image}' is not in '{folder / 'rgb'}'; choose from {names}.")
    rows = []
    for name in names:
        rgb = read_image(folder / "rgb" / f"{name}.png")
        gt = read_depth(folder / "depth" / f"{name}.png", 1000.0)
        pred = task.predict_array(rgb)
        model, constant = score(pred, gt, max_depth), score(oracle_constant(gt), gt, max_depth)
        rows.append((name, model, constant))
        if name == (image or names[0]) and out:
            save_png(out, picture(rgb, gt, pred, model["mai_si_rmse"]))
    return rows


def markdown_scores(rows: list[tuple[str, dict[str, float], dict[str, float]]]) -> str:
    """The per-photo table of :func:`score_real_photos` with the mean as its last row."""
    lines = [
        "| image | " + " | ".join(f"model {m} | constant {m}" for m in METRICS) + " |",
        "|---" * (1 + 2 * len(METRICS)) + "|",
    ]
    for name, model, constant in rows:
        lines.append(f"| {name} | " + " | ".join(f"{model[m]:.3f} | {constant[m]:.3f}" for m in METRICS) + " |")
    means = [
        f"{np.mean([r[1][m] for r in rows]):.3f} | {np.mean([r[2][m] for r in rows]):.3f}"
        for m in METRICS
    ]
    lines.append(f"| mean of {len(rows)} | " + " | ".join(means) + " |")
    return "\n".join(lines) + "\n"
