"""The files ``predict`` writes for one answer, by the output kind of the model's spec.

Formats: ``png`` (pictures and 16-bit depth PNGs), ``npy`` (float32 arrays: depth in metres,
class ids, images), ``both``. Segmentation can add ``<stem>_probs.npy`` (class probabilities,
float32 CxHxW) with ``save_probs``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from densepred.core.errors import ConfigError
from densepred.core.fileio import append_jsonl, atomic_path
from densepred.data.io import UINT16_MAX, write_depth, write_image, write_mask
from densepred.data.palette import colorize_mask
from densepred.portable.spec import OutputSpec
from densepred.viz.depth import depth_legend_image, save_png
from densepred.viz.segmentation import overlay_mask

log = logging.getLogger(__name__)

OUTPUT_FORMATS = ("png", "npy", "both")
"""``--format`` choices."""


@dataclass(frozen=True)
class Answer:
    """One picture's prediction, ready to write.

    Attributes:
        stem: Output name stem.
        value: The answer (:func:`densepred.portable.processing.postprocess`).
        picture: The input picture (HxWx3 uint8 RGB for overlays), or ``None``.
        probabilities: Class probabilities (segmentation with ``save_probs``), or ``None``.
    """

    stem: str
    value: np.ndarray
    picture: np.ndarray | None = None
    probabilities: np.ndarray | None = None


@dataclass
class Writer:
    """Writes answers of one model into ``out_dir``.

    Args:
        out_dir: Output folder.
        spec: The model's output spec.
        fmt: ``png``, ``npy`` or ``both``.
    """

    out_dir: Path
    spec: OutputSpec
    fmt: str = "png"

    def __post_init__(self) -> None:
        if self.fmt not in OUTPUT_FORMATS:
            raise ConfigError(
                f"format must be one of {', '.join(OUTPUT_FORMATS)}, got '{self.fmt}'."
            )
        self.clipped = 0  # depth PNG pixels beyond the uint16 range

    @property
    def png(self) -> bool:
        return self.fmt in ("png", "both")

    @property
    def npy(self) -> bool:
        return self.fmt in ("npy", "both")

    def save_npy(self, name: str, array: np.ndarray) -> Path:
        """``array`` as ``<out_dir>/<name>`` (atomic)."""
        path = self.out_dir / name
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.save(fh, array)
        return path

    def __call__(self, answer: Answer) -> tuple[list[Path], str | None]:
        """Write one answer; returns the files and a line to show for it (or ``None``)."""
        return WRITERS[self.spec.kind](self, answer)


def _depth(writer: Writer, answer: Answer) -> tuple[list[Path], str | None]:
    """``<stem>_depth.png`` (uint16, ``depth * depth_scale``), ``<stem>_depth_color.png``
    (coloured over the image's own 2nd-98th percentile, the range written below) and/or
    ``<stem>_depth.npy`` (float32 metres)."""
    depth, stem, spec = answer.value, answer.stem, writer.spec
    files = []
    if writer.png:
        scale = spec.depth_scale or 1000.0
        writer.clipped += int(np.count_nonzero(depth * scale > UINT16_MAX))
        raw = writer.out_dir / f"{stem}_depth.png"
        write_depth(raw, depth, scale=scale)
        color, _ = depth_legend_image(depth, spec.units or "m")
        files += [raw, save_png(writer.out_dir / f"{stem}_depth_color.png", color)]
    if writer.npy:
        files.append(writer.save_npy(f"{stem}_depth.npy", depth.astype(np.float32)))
    return files, None


def _segmentation(writer: Writer, answer: Answer) -> tuple[list[Path], str | None]:
    """``<stem>_mask.png`` (class ids), ``<stem>_color.png``, ``<stem>_overlay.png`` and/or
    ``<stem>_mask.npy``; ``<stem>_probs.npy`` with probabilities."""
    mask, stem, out = answer.value, answer.stem, writer.out_dir
    files = []
    if writer.png:
        write_mask(out / f"{stem}_mask.png", mask)
        files += [
            out / f"{stem}_mask.png",
            save_png(out / f"{stem}_color.png", colorize_mask(mask, None)),
        ]
        if answer.picture is not None:
            alpha = writer.spec.overlay_alpha if writer.spec.overlay_alpha is not None else 0.5
            overlay = overlay_mask(answer.picture, mask, alpha, None)
            files.append(save_png(out / f"{stem}_overlay.png", overlay))
    if writer.npy:
        files.append(writer.save_npy(f"{stem}_mask.npy", mask))
    if answer.probabilities is not None:
        files.append(writer.save_npy(f"{stem}_probs.npy", answer.probabilities.astype(np.float32)))
    return files, None


def _classification(writer: Writer, answer: Answer) -> tuple[list[Path], str | None]:
    """A line ``{"image": stem, "top": [...]}`` in ``predictions.jsonl`` (the ``top_k`` most
    likely classes); ``<stem>_probs.npy`` in the npy format."""
    probs, spec = answer.value, writer.spec
    classes = spec.classes or [str(i) for i in range(len(probs))]
    order = np.argsort(-probs)[: spec.top_k or 5]
    top = [{"class": classes[i], "index": int(i), "prob": float(probs[i])} for i in order]
    path = writer.out_dir / "predictions.jsonl"
    append_jsonl(path, {"image": answer.stem, "top": top})
    files = [path]
    if writer.npy:
        files.append(writer.save_npy(f"{answer.stem}_probs.npy", probs.astype(np.float32)))
    line = f"{answer.stem}: " + ", ".join(f"{t['class']} {t['prob']:.3f}" for t in top)
    return files, line


def _image(writer: Writer, answer: Answer) -> tuple[list[Path], str | None]:
    """``<stem>_generated.png`` and/or ``<stem>_generated.npy`` (HxWx3 uint8)."""
    files = []
    if writer.png:
        path = writer.out_dir / f"{answer.stem}_generated.png"
        write_image(path, answer.value)
        files.append(path)
    if writer.npy:
        files.append(writer.save_npy(f"{answer.stem}_generated.npy", answer.value))
    return files, None


WRITERS: dict[str, Callable[[Writer, Answer], tuple[list[Path], str | None]]] = {
    "depth": _depth,
    "depth_image": _depth,
    "segmentation": _segmentation,
    "classification": _classification,
    "image": _image,
}
"""Output kind -> the files of one answer."""


def clipped_warning(writer: Writer) -> str | None:
    """A sentence when depth PNGs clipped pixels at the uint16 maximum, else ``None``."""
    if not writer.clipped:
        return None
    scale = writer.spec.depth_scale or 1000.0
    message = (
        f"{writer.clipped} depth pixel(s) beyond {UINT16_MAX / scale:.1f} m were clipped in the "
        f"uint16 PNGs (depth_scale {scale:g} units per metre); --format npy keeps them in metres."
    )
    log.warning(message)
    return message
