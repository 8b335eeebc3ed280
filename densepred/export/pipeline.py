"""Export a checkpoint, verify the file in its runtime at once, and write the JSON report."""

from __future__ import annotations

import copy
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from densepred.app.inference import checkpoint_config, load_task
from densepred.app.tasks import TASKS
from densepred.config.model import DenseModelConfig
from densepred.config.run import Config
from densepred.core.errors import ConfigError, DataError, DensepredError
from densepred.core.fileio import atomic_write_json
from densepred.export.diagnose import check_known_limits, converter_error
from densepred.export.formats import EXPORT_FORMATS
from densepred.export.inputs import Layout, check_exportable, eval_batches, runtime_metrics
from densepred.export.parity import (
    FLOAT_TOLERANCE,
    INT8_TOLERANCE,
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

    def file_name(self, stem: str) -> str:
        """``<stem>[.mai[-bilinear]][.nhwc][.int8-<mode>]<suffix>``."""
        mai = "mai" if self.mai_resize == "area" else f"mai-{self.mai_resize}"
        tags = [t for t, on in ((mai, self.mai), ("nhwc", self.nhwc and not self.mai)) if on]
        if self.int8:
            tags.append(f"int8-{self.int8}")
        return ".".join([stem, *tags]) + EXPORT_FORMATS.get(self.format).suffix


def _config_with(task: BaseTask, overrides: list[str]) -> Config:
    bad = [o for o in overrides if not o.startswith("data.")]
    if bad:
        raise ConfigError(
            f"export overrides may change only the data section (e.g. data.root=...), got '{bad[0]}'; "
            "the model comes from the checkpoint."
        )
    return checkpoint_config(task, overrides)


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


def convert(
    module: nn.Module, sample: torch.Tensor, fmt: str, path: Path, int8: Int8 | None
) -> dict[str, Any]:
    """Convert with the format's exporter; converter failures become :class:`ExportError`.

    The converters get an NCHW-strided copy of ``module``: litert-torch mis-converts a
    channels-last model (``model.channels_last``) into a TFLite file with wrong outputs.
    """
    check_known_limits(module, fmt)
    module = copy.deepcopy(module).to(memory_format=torch.contiguous_format)
    try:
        return EXPORT_FORMATS.get(fmt).export(module, sample, path, int8)
    except DensepredError:
        raise
    except Exception as exc:  # converter internals: report the layer, never a traceback
        raise converter_error(exc, module, sample, fmt) from None


def export_checkpoint(checkpoint: str | Path, opts: ExportOptions) -> dict[str, Any]:
    """Export a checkpoint (loaded with :func:`densepred.app.inference.load_task`), see :func:`export_task`.

    The file goes to ``opts.out`` or beside the checkpoint, named after it and the options.
    """
    EXPORT_FORMATS.get(opts.format).check_installed()  # before the slow loading
    checkpoint = Path(checkpoint)
    out = Path(opts.out) if opts.out else checkpoint.with_name(opts.file_name(checkpoint.stem))
    return export_task(load_task(checkpoint), opts, out, source=str(checkpoint))


def _report_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


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
    config = _config_with(task, opts.data_overrides)
    check_exportable(type(task))
    size = _network_size(config, opts.size)
    module, layout = wrap_for_export(task.model.eval(), config, opts, size)
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
    if opts.int8:
        calibration = eval_batches(
            config, opts.calibration, split=config.data.train_split, image_size=size
        )
        int8 = Int8(
            opts.int8, [layout.model_input(b) for b in calibration] if opts.int8 == "full" else []
        )

    start = time.perf_counter()
    info = convert(module, sample, opts.format, path, int8)
    run = RUNTIMES.get(fmt.runtime)(path, 1)
    references = _torch_outputs(module, inputs)
    parity = compare_outputs([run(x) for x in inputs], references, layout.depth_scale)
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
        "size_bytes": path.stat().st_size,
        "parity": {
            **parity.to_dict(),
            "inputs_used": f"{len(batches)} validation images of '{config.data.val_split}' + 1 noise input",
        },
        "tolerance": tolerance.__dict__,
        "export_s": time.perf_counter() - start,
    }
    failures = parity.failures(tolerance)
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
