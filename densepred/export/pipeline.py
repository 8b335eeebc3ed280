"""Export a checkpoint, verify the file in its runtime at once, and write the JSON report."""

from __future__ import annotations

import copy
import json
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from densepred import __version__
from densepred.app.inference import checkpoint_config, load_task
from densepred.app.pretrained import portable_model
from densepred.app.tasks import TASKS
from densepred.config.model import DenseModelConfig
from densepred.config.run import Config
from densepred.core.errors import ConfigError, DataError, DensepredError
from densepred.core.fileio import atomic_write_json, check_output
from densepred.export.diagnose import check_known_limits, converter_error
from densepred.export.formats import EXPORT_FORMATS
from densepred.export.inputs import Layout, check_exportable, eval_batches, runtime_metrics
from densepred.export.parity import (
    FLOAT_TOLERANCE,
    INT8_TOLERANCE,
    Parity,
    Tolerance,
    compare_outputs,
    metric_failures,
)
from densepred.export.quantize import INT8_MODES, Int8
from densepred.export.runtimes import RUNTIMES, Runner
from densepred.export.wrappers import (
    DEPTH_UNITS,
    MAI_INPUT_SIZE,
    MAI_RESIZES,
    ChannelsLast,
    MaiDepth,
)
from densepred.tasks import BaseTask

log = logging.getLogger(__name__)


class ParityError(DensepredError):
    """An exported file's outputs differ from PyTorch's by more than the tolerance."""


@dataclass
class ExportOptions:
    """What to export and how to check it.

    Attributes:
        format: Name in :data:`~densepred.export.formats.EXPORT_FORMATS`.
        size: Network input ``(H, W)``; default the training size (``data.image_size``).
        out: Output file (default beside the checkpoint, named after it and the options).
        nhwc: Channels-last input and output.
        mai: The MAI challenge contract (depth only): 0..255 RGB NHWC at ``mai_size`` in,
            depth NHWC at ``mai_size`` out in ``units``; see :class:`MaiDepth`.
        mai_size: ``(H, W)`` of the MAI contract.
        units: Depth unit of the MAI output.
        mai_resize: How the MAI graph shrinks its input, a name in
            :data:`~densepred.export.wrappers.MAI_RESIZES`.
        int8: ``None``, ``dynamic`` or ``full``.
        calibration: Training images observed for ``full`` int8.
        parity_images: Validation images compared with PyTorch (one noise input is added).
        eval_images: Validation images for the int8 metric comparison (``None``: all).
        tolerance: Parity limits; default :data:`FLOAT_TOLERANCE` or, for int8, :data:`INT8_TOLERANCE`.
        data_overrides: Dotted ``data.*`` overrides of the checkpoint's config (e.g. ``data.root=...``).
    """

    format: str = "onnx"
    size: tuple[int, int] | None = None
    out: Path | None = None
    nhwc: bool = False
    mai: bool = False
    mai_size: tuple[int, int] = MAI_INPUT_SIZE
    units: str = "mm"
    mai_resize: str = "area"
    int8: str | None = None
    calibration: int = 16
    parity_images: int = 4
    eval_images: int | None = None
    tolerance: Tolerance | None = None
    data_overrides: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        EXPORT_FORMATS.get(self.format)  # unknown names fail with the valid ones
        if self.units not in DEPTH_UNITS:
            raise ConfigError(f"units must be one of {', '.join(DEPTH_UNITS)}, got '{self.units}'.")
        if self.mai_resize not in MAI_RESIZES:
            raise ConfigError(
                f"mai_resize must be one of {', '.join(MAI_RESIZES)}, got '{self.mai_resize}'."
            )
        if self.int8 is not None and self.int8 not in INT8_MODES:
            raise ConfigError(f"int8 must be one of {', '.join(INT8_MODES)}, got '{self.int8}'.")
        for name in ("calibration", "parity_images", "eval_images"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}.")
        if EXPORT_FORMATS.get(self.format).portable:
            used = [
                flag
                for flag, on in (
                    ("--nhwc", self.nhwc),
                    ("--mai", self.mai),
                    ("--int8", self.int8),
                    ("--size", self.size),
                )
                if on
            ]
            if used:
                raise ConfigError(
                    f"{', '.join(used)} do not apply to --format {self.format}: a model folder "
                    "keeps the network as trained (NCHW, float, training size); use them with "
                    "--format onnx or tflite."
                )

    def file_name(self, stem: str) -> str:
        """``<stem>[.mai[-bilinear]][.nhwc][.int8-<mode>]<suffix>``."""
        mai = "mai" if self.mai_resize == "area" else f"mai-{self.mai_resize}"
        tags = [t for t, on in ((mai, self.mai), ("nhwc", self.nhwc and not self.mai)) if on]
        if self.int8:
            tags.append(f"int8-{self.int8}")
        return ".".join([stem, *tags]) + EXPORT_FORMATS.get(self.format).suffix


def export_config(task: BaseTask, overrides: list[str]) -> Config:
    """The checkpoint's config with ``data.*`` overrides; a ``data.root`` given for real data
    on a synthetic-data checkpoint is refused (the synthetic set would be rendered into it)."""
    bad = [o for o in overrides if not o.startswith("data.")]
    if bad:
        raise ConfigError(
            f"export overrides may change only the data section (e.g. data.root=...), got '{bad[0]}'; "
            "the model comes from the checkpoint."
        )
    config = checkpoint_config(task, overrides)
    keys = {o.split("=", 1)[0].strip() for o in overrides}
    data = config.data
    if (
        data.format == "synthetic"
        and "data.format" not in keys
        and data.root != task.config.data.root
    ):
        raise ConfigError(
            f"data.root={data.root}: the checkpoint was trained on synthetic data (data.format: "
            "synthetic), which export would generate into that folder. To check the export on "
            "your data, also set its layout, e.g. data.format=mai data.args={}; to use synthetic "
            "data elsewhere, say so with data.format=synthetic."
        )
    return config


def _network_size(config: Config, size: tuple[int, int] | None) -> tuple[int, int]:
    if size is not None:
        return tuple(size)
    train_size = config.data.image_size
    if train_size is None:
        raise ConfigError(
            "the checkpoint was trained at native image sizes (data.image_size: null); pass --size H W."
        )
    return tuple(train_size)


def wrap_for_export(
    model: nn.Module, config: Config, opts: ExportOptions, size: tuple[int, int]
) -> tuple[nn.Module, Layout]:
    """The module to convert (the network, NHWC- or MAI-wrapped) and its I/O layout."""
    task_cls = TASKS.get(config.task_name)
    if opts.mai:
        if not task_cls.mai_export:
            raise ConfigError(
                f"--mai is the depth challenge's contract; this is a {config.task_name} model."
            )
        module = MaiDepth(
            model,
            model_size=size,
            input_size=opts.mai_size,
            units=opts.units,
            normalize=config.data.normalize,
            resize=opts.mai_resize,
        )
        return module.eval(), Layout(
            nhwc=True, raw_rgb_size=tuple(opts.mai_size), depth_scale=DEPTH_UNITS[opts.units]
        )
    depth_scale = 1.0 if task_cls.target_key == "depth" else None
    module = ChannelsLast(model) if opts.nhwc else model
    return module.eval(), Layout(nhwc=opts.nhwc, depth_scale=depth_scale)


def _torch_outputs(module: nn.Module, inputs: list[np.ndarray]) -> list[np.ndarray]:
    with torch.inference_mode():
        return [module(torch.from_numpy(x)).numpy() for x in inputs]


def dynamic_axes(layout: Layout) -> dict[int, str]:
    """Input axis -> name of the axes an export leaves free: batch, height and width (none for the
    MAI contract, whose input size is fixed)."""
    if layout.raw_rgb_size is not None:
        return {}
    return (
        {0: "batch", 1: "height", 2: "width"}
        if layout.nhwc
        else {0: "batch", 2: "height", 3: "width"}
    )


def export_metadata(
    task: BaseTask, opts: ExportOptions, layout: Layout, size: tuple[int, int]
) -> dict[str, str]:
    """The properties an exported file carries: task, classes, input layout, size and
    normalisation, output units (strings; lists and numbers as JSON)."""
    inp, out = task.input_spec(), task.output_spec()
    props: dict[str, Any] = {
        "densepred_version": __version__,
        "task": task.config.task_name,
        "input_layout": "NHWC" if layout.nhwc or opts.mai else "NCHW",
        "input_size": list(opts.mai_size if opts.mai else size),
        "output": out.kind,
    }
    if opts.mai:
        props["input"] = "RGB 0..255 (normalised inside the graph)"
    elif inp.kind == "image":
        props["input"] = "RGB as (x / 255 - mean) / std"
        props.update(mean=list(inp.mean), std=list(inp.std))
    if out.kind == "depth":
        props.update(
            units=opts.units if opts.mai else "m", min_depth=out.min_depth, max_depth=out.max_depth
        )
    if out.classes:
        props.update(classes=out.classes, mode=out.mode or "multiclass")
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in props.items()}


def convert(
    module: nn.Module,
    sample: torch.Tensor,
    fmt: str,
    path: Path,
    int8: Int8 | None,
    dynamic: dict[int, str] | None = None,
) -> dict[str, Any]:
    """Convert with the format's exporter; converter failures become :class:`ExportError`.

    The converters get an NCHW-strided copy of ``module``: litert-torch mis-converts a
    channels-last model (``model.channels_last``) into a TFLite file with wrong outputs.

    Args:
        dynamic: Input axes to leave free (formats with ``dynamic`` only).
    """
    check_known_limits(module, fmt)
    module = copy.deepcopy(module).to(memory_format=torch.contiguous_format)
    spec = EXPORT_FORMATS.get(fmt)
    extra = {"dynamic": dynamic} if spec.dynamic and dynamic else {}
    try:
        return spec.export(module, sample, path, int8, **extra)
    except DensepredError:
        raise
    except Exception as exc:  # converter internals: report the layer, never a traceback
        raise converter_error(exc, module, sample, fmt) from None


def export_checkpoint(checkpoint: str | Path, opts: ExportOptions) -> dict[str, Any]:
    """Export a checkpoint (loaded with :func:`densepred.app.inference.load_task`), see :func:`export_task`.

    The file goes to ``opts.out`` or beside the checkpoint, named after it and the options. Before
    the checkpoint is loaded, ``opts.out`` is checked (:func:`~densepred.core.fileio.check_output`):
    not the checkpoint, and for a file format not an existing folder and the format's extension
    (added to a name without one, an error on another).
    """
    fmt = EXPORT_FORMATS.get(opts.format)
    fmt.check_installed()  # before the slow loading
    checkpoint = Path(checkpoint)
    out = check_output(
        opts.out or checkpoint.with_name(opts.file_name(checkpoint.stem)),
        {"checkpoint": checkpoint},
        **({"folder": True} if fmt.portable else {"suffix": fmt.suffix}),
        companions=[_report_path],
    )
    return export_task(load_task(checkpoint), opts, out, source=str(checkpoint))


def _report_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _size_bytes(path: Path) -> int:
    """Size of a file, or of every file in a folder."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _other_size(size: tuple[int, int]) -> tuple[int, int]:
    """A network input size unlike the export's, to check free height/width axes."""
    return size[0] + size[0] // 2 + 3, size[1] + size[1] // 3 + 5


def _batch_checks(
    run: Runner,
    module: nn.Module,
    inputs: list[np.ndarray],
    layout: Layout,
    free: dict[str, int],
    size: tuple[int, int],
) -> dict[str, Any]:
    """Parity of a batch of 4 (when the batch axis is free) and at another height and width
    (when those are free), against PyTorch."""
    checks: dict[str, Any] = {}
    if "batch" in free:
        batch = np.concatenate([inputs[i % len(inputs)] for i in range(4)])  # 4 x ...
        checks["batch4"] = compare_outputs(
            [run(batch)], _torch_outputs(module, [batch]), layout.depth_scale
        ).to_dict()
    if {"height", "width"} <= set(free):
        shape = list(inputs[0].shape)
        shape[free["height"]], shape[free["width"]] = _other_size(size)
        other = layout.noise_input(np.empty(shape, np.float32), seed=1)
        checks["other_size"] = {
            "input_shape": shape,
            **compare_outputs(
                [run(other)], _torch_outputs(module, [other]), layout.depth_scale
            ).to_dict(),
        }
    return checks


def export_task(
    task: BaseTask, opts: ExportOptions, out: Path, source: str = "(built from its config)"
) -> dict[str, Any]:
    """Export a task's network, check the file against PyTorch in its own runtime, write ``<file>.json``.

    Args:
        task: A task in eval mode (from a checkpoint, or freshly built for a conversion check).
        opts: What to export (``opts.out`` is ignored: the file is ``out``).
        out: Output file.
        source: Where the weights came from (the checkpoint), for the report.

    Returns:
        The report (also written beside the file). Raises :class:`ParityError` (after writing
        the report) when the differences exceed the tolerance.
    """
    fmt = EXPORT_FORMATS.get(opts.format)
    fmt.check_installed()
    config = export_config(task, opts.data_overrides)
    check_exportable(type(task))
    size = _network_size(config, opts.size)
    module, layout = wrap_for_export(task.model.eval(), config, opts, size)
    reference = module
    if fmt.portable:  # the folder model, checked against the task's own network
        checkpoint = Path(source) if Path(source).exists() else None
        module = portable_model(task, checkpoint)
    path = Path(out)

    batches = eval_batches(config, opts.parity_images, image_size=size)
    if not batches:
        raise DataError(
            f"the validation split '{config.data.val_split}' under '{config.data.root}' has no "
            "images to check the export on; point data.root / data.val_split at validation data."
        )
    inputs = [layout.model_input(b) for b in batches]
    inputs.append(layout.noise_input(inputs[0]))
    sample = torch.from_numpy(inputs[0])
    int8 = None
    calibration: dict[str, Any] | None = None
    if opts.int8 == "full":
        images = eval_batches(
            config, opts.calibration, split=config.data.train_split, image_size=size
        )
        calibration = {
            "requested": opts.calibration,
            "used": len(images),
            "split": config.data.train_split,
        }
        if len(images) < opts.calibration:
            log.warning(
                "--calibration %d: the split '%s' has only %d images; calibrating on those.",
                opts.calibration,
                config.data.train_split,
                len(images),
            )
        int8 = Int8(opts.int8, [layout.model_input(b) for b in images])
    elif opts.int8:
        int8 = Int8(opts.int8, [])

    start = time.perf_counter()
    info = convert(module, sample, opts.format, path, int8, dynamic_axes(layout))
    metadata = export_metadata(task, opts, layout, size)
    if fmt.metadata is not None:
        fmt.metadata(path, metadata)
    run = RUNTIMES.get(fmt.runtime)(path, 1)
    references = _torch_outputs(reference, inputs)
    parity = compare_outputs([run(x) for x in inputs], references, layout.depth_scale)
    free = info.get("dynamic_axes", {})
    if fmt.portable:  # a model folder runs any batch and size
        free = {"batch": 0, "height": 2, "width": 3}
    checks = _batch_checks(run, reference, inputs, layout, free, size)
    tolerance = opts.tolerance or (INT8_TOLERANCE if int8 else FLOAT_TOLERANCE)
    report: dict[str, Any] = {
        "checkpoint": source,
        "file": str(path),
        "format": opts.format,
        "runtime": fmt.runtime,
        **info,
        "task": config.task_name,
        "encoder": config.model.encoder,
        "decoder": config.model.decoder if isinstance(config.model, DenseModelConfig) else None,
        "input_shape": list(inputs[0].shape),
        "input": "RGB 0..255, NHWC"
        if opts.mai
        else f"normalised image, {'NHWC' if opts.nhwc else 'NCHW'}",
        "network_size": list(size),
        "output_shape": list(references[0].shape),
        "depth_units": (opts.units if opts.mai else "m") if layout.depth_scale else None,
        "mai_resize": opts.mai_resize if opts.mai else None,
        "int8": opts.int8,
        "calibration_images": calibration,
        "size_bytes": _size_bytes(path),
        "dynamic_axes": sorted(free, key=free.get),
        "metadata": metadata if fmt.metadata is not None else None,
        "parity": {
            **parity.to_dict(),
            "inputs_used": f"{len(batches)} validation images of '{config.data.val_split}' + 1 noise input",
        },
        "parity_free_axes": checks,
        "tolerance": tolerance.__dict__,
        "export_s": time.perf_counter() - start,
    }
    failures = parity.failures(tolerance)
    for name, check in checks.items():
        values = {
            k: check[k]
            for k in ("inputs", "max_abs_diff", "mean_abs_diff", "max_rel_diff", "si_rmse")
        }
        failures += [f"{name}: {f}" for f in Parity(**values).failures(tolerance)]
    if int8:
        check = _int8_check(task, module, config, opts, size, layout, run, path)
        report["int8_check"] = check
        failures += metric_failures(check["float_value"], check["int8_value"], tolerance)
    report["passed"] = not failures
    atomic_write_json(_report_path(path), report)
    if failures:
        raise ParityError(
            f"{path} differs from PyTorch: {'; '.join(failures)} (report: {path.name}.json). "
            "The file is kept for inspection; do not ship it."
        )
    return report


def _int8_check(
    task: BaseTask,
    module: nn.Module,
    config: Config,
    opts: ExportOptions,
    size: tuple[int, int],
    layout: Layout,
    run: Runner,
    path: Path,
) -> dict[str, Any]:
    """File sizes and validation metrics of the int8 file against a float export of the same graph."""
    batches = eval_batches(config, opts.eval_images, image_size=size)
    fmt = EXPORT_FORMATS.get(opts.format)
    with tempfile.TemporaryDirectory() as folder:
        float_path = Path(folder) / f"float{fmt.suffix}"
        convert(
            module, torch.from_numpy(layout.model_input(batches[0])), opts.format, float_path, None
        )
        float_metrics = runtime_metrics(
            task, RUNTIMES.get(fmt.runtime)(float_path, 1), batches, layout
        )
        float_size = float_path.stat().st_size
    int8_metrics = runtime_metrics(task, run, batches, layout)
    headline = task.config.task.monitor.removeprefix("val/")
    return {
        "images": f"{len(batches)} of '{config.data.val_split}'",
        "metric": headline,
        "float_value": float_metrics.get(headline),
        "int8_value": int8_metrics.get(headline),
        "float_metrics": float_metrics,
        "int8_metrics": int8_metrics,
        "float_size_bytes": float_size,
        "int8_size_bytes": path.stat().st_size,
        "size_ratio": path.stat().st_size / float_size,
    }
