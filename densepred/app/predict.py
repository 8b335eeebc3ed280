"""Predicting files with a checkpoint or a model folder: batches, any device, progress, speed.

Pictures are read and prepared (resized, normalised) in background threads, grouped into batches
of equal network input shape (a model with a fixed input size batches any mix of picture sizes;
one that runs at each picture's own size batches pictures of one size) and answered at each
picture's own size. Batching changes no answer: every item is computed as in a batch of one, up to
float rounding (eval mode: batch norm uses its running statistics).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from densepred.app.pixel_budget import DEFAULT_MAX_PIXELS, check_pixel_budget
from densepred.app.pretrained import load_model
from densepred.app.writers import Answer, Writer, clipped_warning
from densepred.core.errors import ConfigError, DataError, DensepredError
from densepred.core.fileio import check_output, ensure_folder, output_errors
from densepred.data.io import read_depth, read_image, read_mask
from densepred.data.layout import IMAGE_EXTS
from densepred.portable.model import PortableModel
from densepred.portable.processing import prepare
from densepred.portable.spec import InputSpec

PENDING_BATCHES = 4
"""Prepared pictures waiting for a batch are flushed once they exceed this many batches (a
model at native sizes may see many sizes, each with a partial batch)."""


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when present, else CPU; any other name as torch reads it.

    Raises:
        ConfigError: An unknown device name, or CUDA asked for where there is none.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ConfigError(f"unknown device '{device}' ({exc}); use auto, cpu or cuda.") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device '{device}': CUDA is not available here; use auto or cpu.")
    return resolved


def expand_images(inputs: Iterable[str | Path], recursive: bool = False) -> list[Path]:
    """Image files from a mix of files and folders (folders give their images, sorted; with
    ``recursive`` also those of every sub-folder); a file named twice is kept once."""
    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = item.rglob("*") if recursive else item.iterdir()
            files += sorted(p for p in found if p.is_file() and p.suffix.lower() in IMAGE_EXTS)
        elif item.is_file():
            files.append(item)
        else:
            raise DensepredError(f"input '{item}' is neither an image file nor a folder.")
    if not files:
        hint = "" if recursive else " (--recursive also reads sub-folders)"
        raise DensepredError(
            f"no input images found; pass image files or folders holding images{hint}."
        )
    return list({p.resolve(): p for p in files}.values())


def output_stems(files: list[Path]) -> list[str]:
    """A distinct output name per input file: its stem, or where stems clash (``A/x.png``,
    ``A/x.jpg``, ``B/x.png``) its folders and extension too (``A_x_png``, ``A_x_jpg``, ``B_x_png``).
    """
    counts = Counter(p.stem for p in files)
    resolved = [p.resolve() for p in files]
    root = Path(os.path.commonpath([p.parent for p in resolved]))
    stems = [
        p.stem
        if counts[p.stem] == 1
        else "_".join([*full.parent.relative_to(root).parts, p.stem, p.suffix.lstrip(".")])
        for p, full in zip(files, resolved, strict=True)
    ]
    taken: set[str] = set()
    for i, stem in enumerate(stems):  # what is left: e.g. an input named A_x_png.png
        name, n = stem, 1
        while name in taken:
            n += 1
            name = f"{stem}_{n}"
        taken.add(name)
        stems[i] = name
    return stems


def input_reader(spec: InputSpec) -> Callable[[Path], np.ndarray]:
    """How a file becomes the model's picture: RGB, depth in metres (``depth_scale`` units per
    metre in integer files) or class ids."""
    readers: dict[str, Callable[[Path], np.ndarray]] = {
        "image": read_image,
        "rgb": read_image,
        "depth": partial(read_depth, scale=spec.depth_scale or 1000.0),
        "mask": read_mask,
    }
    if spec.kind not in readers:
        raise DensepredError(
            "this model generates from noise and takes no input images; pass --num N "
            "(tools/predict.py MODEL --num N --out DIR) instead."
        )
    return readers[spec.kind]


@dataclass
class PredictResult:
    """What a prediction run did.

    Attributes:
        written: The distinct files written.
        images: Pictures answered.
        seconds: Wall time from the first read to the last write (model loading excluded).
        skipped: Unreadable inputs and their errors (with ``on_bad``).
        lines: One line per answer worth showing (classification: the top classes).
        warnings: Things the user should know (e.g. depth clipped in uint16 PNGs).
        device: Where the network ran.
        batch_size: The largest batch.
    """

    written: list[Path] = field(default_factory=list)
    images: int = 0
    seconds: float = 0.0
    skipped: dict[Path, DataError] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    device: str = "cpu"
    batch_size: int = 1

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Item:
    stem: str
    picture: np.ndarray
    x: torch.Tensor  # C,h,w prepared input


def _read(
    path: Path, read: Callable[[Path], np.ndarray], spec: InputSpec
) -> tuple[np.ndarray, torch.Tensor]:
    picture = read(path)
    return picture, prepare(picture, spec)


def _prefetched(
    pool: ThreadPoolExecutor, files: list[Path], work: Callable[[Path], tuple], window: int
) -> Iterator[Future]:
    """Futures of ``work(file)`` in file order, at most ``window`` running ahead."""
    pending: list[Future] = []
    for path in files:
        pending.append(pool.submit(work, path))
        if len(pending) > window:
            yield pending.pop(0)
    yield from pending


class _Batcher:
    """Groups prepared items by input shape and answers full groups."""

    def __init__(
        self,
        model: PortableModel,
        writer: Writer,
        batch_size: int,
        save_probs: bool,
        result: PredictResult,
    ) -> None:
        self.model, self.writer, self.batch_size = model, writer, batch_size
        self.save_probs = save_probs and model.spec.output.kind == "segmentation"
        self.result = result
        self.groups: dict[tuple[int, ...], list[_Item]] = {}

    def add(self, item: _Item) -> None:
        group = self.groups.setdefault(tuple(item.x.shape), [])
        group.append(item)
        if len(group) >= self.batch_size:
            self.flush(tuple(item.x.shape))
        elif sum(map(len, self.groups.values())) > PENDING_BATCHES * self.batch_size:
            self.flush(max(self.groups, key=lambda k: len(self.groups[k])))

    def flush(self, shape: tuple[int, ...] | None = None) -> None:
        """Answer the group of ``shape`` (``None``: every group)."""
        for key in [shape] if shape is not None else list(self.groups):
            items = self.groups.pop(key, [])
            if items:
                self._answer(items)

    @torch.inference_mode()
    def _answer(self, items: list[_Item]) -> None:
        model = self.model
        batch = torch.stack([item.x for item in items]).to(model.device)  # B,C,h,w
        outputs = model(batch)
        sizes = [item.picture.shape[:2] for item in items]
        values = model.postprocess(outputs, sizes)
        probs = model.postprocess(outputs, sizes, probabilities=True) if self.save_probs else None
        for i, item in enumerate(items):
            answer = Answer(
                item.stem,
                values[i],
                item.picture if item.picture.ndim == 3 else None,
                None if probs is None else probs[i],
            )
            files, line = self.writer(answer)
            self.result.written.extend(files)
            if line:
                self.result.lines.append(line)
        self.result.images += len(items)
        self.result.batch_size = max(self.result.batch_size, len(items))


def predict_files(
    model_path: str | Path,
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    device: str = "auto",
    batch_size: int = 1,
    recursive: bool = False,
    fmt: str = "png",
    save_probs: bool = False,
    on_bad: Callable[[Path, DataError], None] | None = None,
    progress: bool = True,
    max_pixels: int | None = None,
) -> PredictResult:
    """Answer image files with a checkpoint or a model folder and write the answers.

    Inputs with the same stem get distinct output names (:func:`output_stems`). Before the
    model is loaded or ``out_dir`` created, ``out_dir`` is checked not to be the model or an
    input, and every input's size against ``max_pixels``.

    Args:
        model_path: A checkpoint (full or weights-only) or a model folder.
        inputs: Image files and/or folders (GAN: condition files).
        out_dir: Output folder.
        device: ``auto`` (CUDA when present), ``cpu``, ``cuda``, ``cuda:1``, ...
        batch_size: Pictures per network call.
        recursive: Also read the images of sub-folders.
        fmt: ``png``, ``npy`` or ``both`` (see :mod:`densepred.app.writers`).
        save_probs: Segmentation: also write class probabilities (``<stem>_probs.npy``).
        on_bad: Called with the file and the error for each input that cannot be read, which is
            then skipped; ``None`` (default): such a file stops the run with a ``DataError``.
        progress: Show a progress bar.
        max_pixels: Largest input (H x W) predicted; ``None``: :data:`DEFAULT_MAX_PIXELS`.
    """
    if batch_size < 1:
        raise ConfigError(f"batch size must be at least 1, got {batch_size}.")
    torch_device = resolve_device(device)
    inputs = list(inputs)
    files = expand_images(inputs, recursive)
    check_output(out_dir, {"model": model_path, "input": [*inputs, *files]}, folder=True)
    check_pixel_budget(files, DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels)
    model = load_model(model_path, torch_device)
    spec = model.spec.input
    read = input_reader(spec)
    out = ensure_folder(out_dir)
    writer = Writer(out, model.spec.output, fmt)
    result = PredictResult(device=str(torch_device))
    batcher = _Batcher(model, writer, batch_size, save_probs, result)
    stems = dict(zip(files, output_stems(files), strict=True))
    start = time.perf_counter()
    with output_errors(out), ThreadPoolExecutor(max_workers=2) as pool:
        work = partial(_read, read=read, spec=spec)
        futures = _prefetched(pool, files, work, window=2 * batch_size + 2)
        bar = tqdm(
            zip(files, futures, strict=True),
            total=len(files),
            desc="predict",
            unit="img",
            disable=not progress,
        )
        for path, future in bar:
            try:
                picture, x = future.result()
            except DataError as exc:
                if on_bad is None:
                    raise DataError(f"{exc} (--skip-bad skips such files)") from None
                on_bad(path, exc)
                result.skipped[path] = exc
                continue
            batcher.add(_Item(stems[path], picture, x))
        batcher.flush()
    result.seconds = time.perf_counter() - start
    result.written = list(dict.fromkeys(result.written))
    warning = clipped_warning(writer)
    if warning:
        result.warnings.append(warning)
    return result


def generate_files(
    model_path: str | Path,
    num: int,
    out_dir: str | Path,
    device: str = "auto",
    seed: int = 0,
    fmt: str = "png",
) -> list[Path]:
    """Generate ``num`` outputs from seeded noise with a model that needs no input
    (unconditional GAN).

    Args:
        model_path: A checkpoint or a model folder.
        num: Number of outputs.
        out_dir: Output folder.
        device: ``auto``, ``cpu``, ``cuda``, ...
        seed: Seed of the noise.
        fmt: ``png``, ``npy`` or ``both``.
    """
    check_output(out_dir, {"model": model_path}, folder=True)
    model = load_model(model_path, resolve_device(device))
    if model.spec.input.kind != "latent":
        raise DensepredError(
            f"'{model_path}' is a {model.task} model, which predicts from input images; pass "
            "image files or folders instead of --num."
        )
    out = ensure_folder(out_dir)
    writer = Writer(out, model.spec.output, fmt)
    with torch.inference_mode():
        values = model.postprocess(model(model.noise(num, seed)))
    written: list[Path] = []
    with output_errors(out):
        for i, value in enumerate(values):
            written += writer(Answer(f"sample_{i:05d}", value))[0]
    return written
