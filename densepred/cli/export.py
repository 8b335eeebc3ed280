"""``densepred export`` (a checkpoint to ONNX, TFLite or a model folder, checked against PyTorch)
and ``densepred export-matrix``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from densepred.cli.command import register


def _options(args: argparse.Namespace) -> Any:
    """The :class:`~densepred.export.pipeline.ExportOptions` of the command line."""
    from densepred.export.parity import FLOAT_TOLERANCE, INT8_TOLERANCE, Tolerance
    from densepred.export.pipeline import ExportOptions

    base = INT8_TOLERANCE if args.int8 else FLOAT_TOLERANCE
    tolerance = Tolerance(
        max_rel_diff=args.max_rel_diff if args.max_rel_diff is not None else base.max_rel_diff,
        si_rmse=args.max_si_rmse if args.max_si_rmse is not None else base.si_rmse,
        metric_rel_change=(
            args.max_metric_change if args.max_metric_change is not None else base.metric_rel_change
        ),
    )
    return ExportOptions(
        format=args.format,
        size=tuple(args.size) if args.size else None,
        out=Path(args.out) if args.out else None,
        nhwc=args.nhwc,
        mai=args.mai,
        mai_size=tuple(args.mai_size),
        units=args.units,
        mai_resize=args.mai_resize,
        int8=args.int8,
        calibration=args.calibration,
        parity_images=args.parity_images,
        eval_images=args.eval_images,
        tolerance=tolerance,
        data_overrides=list(args.overrides),
    )


def print_report(report: dict[str, Any]) -> None:
    """A few lines on what was written and how close it is to PyTorch."""
    parity = report["parity"]
    print(f"wrote {report['file']} ({report['size_bytes'] / 1e6:.2f} MB, {report['converter']})")
    print(f"input {report['input_shape']} ({report['input']}), output {report['output_shape']}")
    si = "" if parity["si_rmse"] is None else f", si-RMSE {parity['si_rmse']:.2e}"
    print(
        f"{report['runtime']} vs torch on {parity['inputs_used']}: max |diff| {parity['max_abs_diff']:.2e} "
        f"(relative {parity['max_rel_diff']:.2e}){si}"
    )
    calibration = report.get("calibration_images")
    if calibration:
        print(
            f"int8 calibration on {calibration['used']} image(s) of '{calibration['split']}' "
            f"({calibration['requested']} requested)"
        )
    check = report.get("int8_check")
    if check:
        print(
            f"int8 {report['int8']}: {check['metric']} {check['int8_value']:.4f} vs float "
            f"{check['float_value']:.4f} on {check['images']} images; size "
            f"{check['int8_size_bytes'] / 1e6:.2f} MB vs {check['float_size_bytes'] / 1e6:.2f} MB"
        )
    print(f"report: {report['file']}.json")


def _export(args: argparse.Namespace) -> None:
    if args.print_config:
        from densepred.app.inference import load_task
        from densepred.export.pipeline import export_config

        print(export_config(load_task(args.checkpoint), args.overrides).to_yaml(), end="")
        return
    from densepred.export.pipeline import export_checkpoint

    print_report(export_checkpoint(args.checkpoint, _options(args)))


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    # the choices come from the export modules, which import torch: only for this subcommand
    from densepred.export.formats import EXPORT_FORMATS
    from densepred.export.parity import FLOAT_TOLERANCE, INT8_TOLERANCE
    from densepred.export.quantize import INT8_MODES
    from densepred.export.wrappers import DEPTH_UNITS, MAI_INPUT_SIZE, MAI_RESIZES

    parser.add_argument(
        "checkpoint",
        help="checkpoint written by densepred train (full or weights-only) or a model folder",
    )
    parser.add_argument("--format", required=True, choices=EXPORT_FORMATS.names())
    parser.add_argument(
        "--size",
        nargs=2,
        type=int,
        metavar=("H", "W"),
        help="network input size (default: training size)",
    )
    parser.add_argument(
        "--out",
        help="output file (default: beside the checkpoint); must end in the format's extension "
        "(.onnx, .tflite), which a name without one gets added; never the checkpoint",
    )
    parser.add_argument("--nhwc", action="store_true", help="channels-last input and output")
    parser.add_argument(
        "--mai",
        action="store_true",
        help="MAI challenge contract: input 1xHxWx3 RGB 0..255, output 1xHxWx1 depth in --units; "
        "normalisation and resizing to the network size inside the graph",
    )
    parser.add_argument(
        "--mai-size",
        nargs=2,
        type=int,
        default=list(MAI_INPUT_SIZE),
        metavar=("H", "W"),
        help="input/output size of --mai (default: 480 640)",
    )
    parser.add_argument(
        "--units", default="mm", choices=list(DEPTH_UNITS), help="depth unit of --mai output"
    )
    parser.add_argument(
        "--mai-resize",
        default="area",
        choices=list(MAI_RESIZES),
        help="how --mai shrinks the input to the network size: area (average pooling, then "
        "bilinear: close to training's INTER_AREA; default) or bilinear (one op, aliased)",
    )
    parser.add_argument("--int8", choices=INT8_MODES, help="post-training int8 quantisation")
    parser.add_argument(
        "--calibration", type=int, default=16, help="training images for --int8 full (default 16)"
    )
    parser.add_argument(
        "--parity-images", type=int, default=4, help="validation images compared with PyTorch"
    )
    parser.add_argument(
        "--eval-images",
        type=int,
        default=None,
        help="validation images for the int8 metric (default: all)",
    )
    parser.add_argument(
        "--max-rel-diff",
        type=float,
        default=None,
        help=f"tolerance on max|diff| / max(1, max|torch|) (default {FLOAT_TOLERANCE.max_rel_diff:g}; "
        "not checked for int8)",
    )
    parser.add_argument(
        "--max-si-rmse",
        type=float,
        default=None,
        help=f"depth: tolerance on the si-RMSE between the outputs (default {FLOAT_TOLERANCE.si_rmse:g}; "
        "not checked for int8)",
    )
    parser.add_argument(
        "--max-metric-change",
        type=float,
        default=None,
        help="int8: tolerance on the relative change of the validation metric against the float "
        f"file (default {INT8_TOLERANCE.metric_rel_change:g})",
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the checkpoint's config with the data overrides as YAML and exit",
    )


register(
    "export",
    'export a checkpoint to ONNX or TFLite (pip install -e ".[export]") or as a model folder '
    "(--format pretrained), run it in its runtime on validation images and compare with PyTorch",
    _export_arguments,
    _export,
    ("data.",),
    "the model comes from the checkpoint; export overrides may change only the data section "
    "(the parity and calibration images, e.g. data.root=...).",
)


def _matrix_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", default="depth_mbv3_unet", help="base config (path or shipped name)"
    )
    parser.add_argument("--out", default="runs/export_matrix", help="working folder")
    parser.add_argument("--formats", nargs="+", default=["onnx", "tflite"])
    parser.add_argument("--size", nargs=2, type=int, default=[64, 80], metavar=("H", "W"))


def _matrix(args: argparse.Namespace) -> None:
    from densepred.cli.command import config_path
    from densepred.core.benchmark import markdown_table
    from densepred.export.matrix import MATRIX_ENCODERS, decoder_variants, run_matrix

    out = Path(args.out)
    common = [
        f"data.root={out / 'data'}",
        "data.args={num_train: 4, num_val: 4, size: [96, 128], seed: 0}",
        f"data.image_size=[{args.size[0]}, {args.size[1]}]",
        "data.num_workers=0",
    ]
    # every decoder on the main encoder, every encoder on the main decoder
    cells = {f"mobilenet_v3_large/{k}": v for k, v in decoder_variants().items()}
    cells |= {
        f"{e}/unet-transposed": [f"model.encoder={e}"]
        for e in MATRIX_ENCODERS
        if e != "mobilenet_v3_large"
    }
    rows = run_matrix(
        str(config_path(args.config)),
        {k.replace("/", "__"): v for k, v in cells.items()},
        args.formats,
        out,
        common,
    )
    columns = ["label", "format", "status", "size_mb", "max_rel_diff", "si_rmse", "seconds", "error"]
    print(markdown_table(rows, columns, floatfmt=".3g"))


register(
    "export-matrix",
    "export every decoder and encoder to every format on tiny data (the table of docs/export.md)",
    _matrix_arguments,
    _matrix,
)
