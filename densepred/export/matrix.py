"""The export matrix: which encoder x decoder x format combinations convert and match PyTorch.

Each cell builds the config's task with fresh weights (conversion does not depend on training),
exports it with :func:`~densepred.export.pipeline.export_task` on the config's validation images
and records ``ok`` with size and parity, or the error message (which names the layer and a
workaround). Cells are appended to a JSONL file as they finish, so a long run can be resumed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from densepred.app.config import config_from_dict
from densepred.app.tasks import TASKS
from densepred.config.loader import apply_overrides, read_yaml
from densepred.core.errors import DensepredError
from densepred.core.fileio import append_jsonl, read_jsonl
from densepred.decoders import DECODERS
from densepred.decoders.blocks import UPSAMPLE_MODES
from densepred.export.pipeline import ExportOptions, export_task

DECODER_SETTINGS: dict[str, list[str]] = {
    "aspp": ["model.output_stride=16", "model.decoder_args={channels: 96, separable: true}"],
    "smp.DeepLabV3Plus": ["model.output_stride=16", "model.decoder_args={}"],
}
"""Decoder name -> overrides beyond ``model.decoder=<name>`` (default: ``decoder_args={}``)."""

MATRIX_ENCODERS: tuple[str, ...] = (
    "mobilenet_v1",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "resnet18",
    "mixnet_s",
)

logger = logging.getLogger(__name__)
"""The mission's encoder families: MobileNetV1/V2/V3, EfficientNet, ResNet, MixNet."""

SMP_DECODERS: tuple[str, ...] = ("smp.Unet", "smp.FPN", "smp.DeepLabV3Plus")
"""segmentation-models-pytorch architectures in the matrix."""


def decoder_variants() -> dict[str, list[str]]:
    """Label -> config overrides for every registered decoder (unet once per upsampling mode)
    and the smp architectures of :data:`SMP_DECODERS`."""
    variants: dict[str, list[str]] = {}
    for name in DECODERS.names():
        settings = DECODER_SETTINGS.get(name, ["model.decoder_args={}"])
        if name == "unet":
            for mode in UPSAMPLE_MODES:
                variants[f"unet-{mode}"] = [
                    "model.decoder=unet",
                    f"model.decoder_args={{upsample: {mode}}}",
                ]
        else:
            variants[name] = [f"model.decoder={name}", *settings]
    for name in SMP_DECODERS:
        settings = DECODER_SETTINGS.get(name, ["model.decoder_args={}"])
        variants[name] = [f"model.decoder={name}", *settings]
    return variants


def export_cell(
    base: str | Path, overrides: Sequence[str], fmt: str, out_dir: Path, label: str
) -> dict[str, Any]:
    """Export one combination; never raises for a combination that does not convert.

    Args:
        base: Base YAML config.
        overrides: Dotted overrides (encoder, decoder, tiny data).
        fmt: Export format.
        out_dir: Where the file and its report go.
        label: File name stem.
    """
    row: dict[str, Any] = {"format": fmt, "overrides": list(overrides)}
    start = time.perf_counter()
    try:
        raw = apply_overrides(read_yaml(base), list(overrides))
        config = config_from_dict(raw, source=str(base))
        row.update(encoder=config.model.encoder, decoder=config.model.decoder)
        task = TASKS.get(config.task_name)(config).eval()
        out = out_dir / f"{label}{ExportOptions(format=fmt).file_name('')}"
        report = export_task(task, ExportOptions(format=fmt), out)
        row.update(
            status="ok",
            size_mb=report["size_bytes"] / 1e6,
            max_rel_diff=report["parity"]["max_rel_diff"],
            si_rmse=report["parity"]["si_rmse"],
        )
    except DensepredError as exc:
        row.update(status="error", error=str(exc))
    row["seconds"] = time.perf_counter() - start
    return row


def run_matrix(
    base: str | Path,
    cells: dict[str, list[str]],
    formats: Sequence[str],
    out_dir: str | Path,
    common: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Export every cell in every format; rows already in ``out_dir/matrix.jsonl`` are kept.

    Args:
        base: Base YAML config.
        cells: Label -> overrides of one combination.
        formats: Export formats.
        out_dir: Output folder (files, reports, ``matrix.jsonl``).
        common: Overrides for every cell (e.g. tiny data).
    """
    out_dir = Path(out_dir)
    log = out_dir / "matrix.jsonl"
    done = {(r["label"], r["format"]) for r in read_jsonl(log)}
    for label, overrides in cells.items():
        for fmt in formats:
            if (label, fmt) in done:
                continue
            row = export_cell(base, [*common, *overrides], fmt, out_dir, label)
            append_jsonl(log, {"label": label, **row})
            logger.info(f"{label} {fmt}: {row['status']} ({row['seconds']:.0f} s)")
    return read_jsonl(log)
