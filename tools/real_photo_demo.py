"""Run a depth checkpoint on real RGB-D photos: scores at native resolution and a picture.

    python tools/real_photo_demo.py runs/depth_mbv3_unet/checkpoints/best.ckpt \
        --root ../shared/real_rgbd_dev --image redwood_livingroom_0 --out docs/depth_real_photo.png

Reads the MAI layout ``ROOT/SPLIT/rgb/NAME.png`` + ``ROOT/SPLIT/depth/NAME.png`` (uint16 mm).
Prints, per image and on average, si-RMSE, delta1 and AbsRel of the model (predicted at the
checkpoint's input size, upsampled bilinearly to the photo's size) beside the constant that
knows each image's true mean log depth (its scale, which a monocular model must guess). Writes
one photo, its ground truth and the prediction side by side, on one colour scale (metres).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from densepred.app.inference import load_task
from densepred.app.realdev import METRICS, oracle_constant, score
from densepred.cli import _run
from densepred.core.errors import DataError
from densepred.data.io import read_depth, read_image
from densepred.viz.depth import colorize_depth, save_png
from densepred.viz.grid import labelled_columns

PANEL = (240, 320)
"""Height and width of each panel of the picture."""


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


def run(args: argparse.Namespace) -> None:
    task = load_task(args.checkpoint)
    max_depth = float(task.config.task.max_depth)
    folder = Path(args.root) / args.split
    names = sorted(p.stem for p in (folder / "rgb").glob("*.png"))
    if not names:
        raise DataError(f"no images under '{folder / 'rgb'}'; expected ROOT/SPLIT/rgb/NAME.png.")
    if args.image and args.image not in names:
        raise DataError(
            f"--image '{args.image}' is not in '{folder / 'rgb'}'; choose from {names}."
        )
    rows = []
    print("| image | " + " | ".join(f"model {m} | constant {m}" for m in METRICS) + " |")
    print("|---" * (1 + 2 * len(METRICS)) + "|")
    for name in names:
        rgb = read_image(folder / "rgb" / f"{name}.png")
        gt = read_depth(folder / "depth" / f"{name}.png", 1000.0)
        pred = task.predict_array(rgb)
        model, constant = score(pred, gt, max_depth), score(oracle_constant(gt), gt, max_depth)
        rows.append((model, constant))
        cells = " | ".join(f"{model[m]:.3f} | {constant[m]:.3f}" for m in METRICS)
        print(f"| {name} | {cells} |")
        if name == (args.image or names[0]) and args.out:
            save_png(args.out, picture(rgb, gt, pred, model["mai_si_rmse"]))
    means = [
        f"{np.mean([r[0][m] for r in rows]):.3f} | {np.mean([r[1][m] for r in rows]):.3f}"
        for m in METRICS
    ]
    print(f"| mean of {len(rows)} | " + " | ".join(means) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", help="depth checkpoint written by tools/train.py")
    parser.add_argument("--root", default="../shared/real_rgbd_dev", help="MAI-layout folder")
    parser.add_argument("--split", default="val", help="split subfolder (default: val)")
    parser.add_argument("--image", default=None, help="image name to draw (default: the first)")
    parser.add_argument("--out", default=None, help="PNG to write, e.g. docs/depth_real_photo.png")
    return _run(run, parser, argv)  # exit code 2 with the message on a DensepredError


if __name__ == "__main__":
    sys.exit(main())
