"""``densepred train | evaluate | predict | baseline``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from densepred.app.pixel_budget import DEFAULT_MAX_PIXELS  # torch-free
from densepred.cli.command import config_path, print_metrics, register, shipped_configs
from densepred.core.errors import DensepredError

EVALUATE_KEYS = ("data.", "trainer.accelerator", "trainer.devices", "trainer.precision")
PRINT_CONFIG = (
    "print the resolved, validated config as YAML and exit (reads no data, writes nothing)"
)


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config", help="YAML config: a path, or the name of a shipped one (densepred configs)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the run from its checkpoints/last.ckpt"
    )
    parser.add_argument(
        "--run-dir", default=None, help="run folder (default: output_dir/name from the config)"
    )
    parser.add_argument("--print-config", action="store_true", help=PRINT_CONFIG)


def _train(args: argparse.Namespace) -> None:
    from densepred.app.config import load_config

    config = load_config(config_path(args.config), args.overrides)
    if args.print_config:
        print(config.to_yaml(), end="")
        return
    from densepred.app.train import (
        run_training,  # after the config: a typo fails before Lightning loads
    )

    result = run_training(config, resume=args.resume, run_dir=args.run_dir)
    if not result.is_global_zero:  # under DDP the other ranks stay silent
        return
    print(f"\nrun folder: {result.run_dir}")
    print(f"best checkpoint: {result.best_checkpoint}")
    if result.metrics:
        print_metrics(result.metrics, result.initial_metrics)


register("train", "train a model from a YAML config", _train_arguments, _train, ("",))


def _split_paths(paths: list[str]) -> tuple[str, str | None]:
    """``(checkpoint, config or None)`` from one or two paths in any order (the config is YAML)."""
    shipped = shipped_configs()
    configs = [
        p for p in paths if p.endswith((".yaml", ".yml")) or (p in shipped and not Path(p).exists())
    ]
    others = [p for p in paths if p not in configs]
    if len(others) != 1 or len(configs) > 1:
        raise DensepredError(
            "give one checkpoint (and optionally one YAML config whose data section names the "
            f"evaluation data), got {paths}."
        )
    return others[0], configs[0] if configs else None


def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="CHECKPOINT [CONFIG]",
        help="a checkpoint written by densepred train (full or weights-only) or a model folder, "
        "and optionally a YAML config whose data section names the evaluation data (default: the "
        "checkpoint's own data)",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="metrics JSON (default: <checkpoint>.eval.json; .json is added to a name without "
        "an extension); the sample grid goes beside it (.png). Never the checkpoint or the config",
    )
    parser.add_argument("--print-config", action="store_true", help=PRINT_CONFIG)


def _evaluate(args: argparse.Namespace) -> None:
    from densepred.app.inference import checkpoint_config, evaluate_checkpoint, load_task
    from densepred.config.loader import read_config

    checkpoint, config_file = _split_paths(args.paths)
    task = load_task(checkpoint)
    data = read_config(config_path(config_file))["data"] if config_file else None
    config = checkpoint_config(task, args.overrides, data)
    if args.print_config:
        print(config.to_yaml(), end="")
        return
    print_metrics(
        evaluate_checkpoint(
            config,
            checkpoint,
            args.out,
            task=task,
            config_path=config_path(config_file) if config_file else None,
        )
    )


register(
    "evaluate",
    "score a checkpoint on the validation (or test) split, at the ground truth's own size",
    _evaluate_arguments,
    _evaluate,
    EVALUATE_KEYS,
    "the model and task settings (model.*, task.*) come from the checkpoint. Evaluate can change "
    "data.* (which data: e.g. data.root=..., data.val_split=test) and trainer.accelerator, "
    "trainer.devices, trainer.precision.",
)


def _predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model",
        help="checkpoint written by densepred train (full or weights-only) or a model folder",
    )
    parser.add_argument("images", nargs="*", help="image files or folders (GAN: condition files)")
    parser.add_argument(
        "--num", type=int, default=None, help="generate N outputs from noise (unconditional GAN)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise for --num")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument(
        "--device", default="auto", help="auto (CUDA when present, default), cpu, cuda, cuda:1, ..."
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=1,
        help="images per network call; any mix of sizes (answers equal those of batch size 1)",
    )
    parser.add_argument("--recursive", action="store_true", help="also read images in sub-folders")
    parser.add_argument(
        "--format",
        default="png",
        choices=["png", "npy", "both"],
        help="png: 16-bit depth PNGs (data.depth_scale units per metre) and pictures; npy: float32 "
        "arrays (depth in metres, class ids); both",
    )
    parser.add_argument(
        "--save-probs",
        action="store_true",
        help="segmentation: also write class probabilities as <name>_probs.npy (float32, CxHxW)",
    )
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="go on past files that cannot be read (listed at the end) instead of stopping",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--max-pixels",
        type=int,
        default=DEFAULT_MAX_PIXELS,
        help="refuse inputs with more pixels (H x W) than this, before any work (default "
        f"{DEFAULT_MAX_PIXELS:,}: about 4 GB of memory at the peak with --batch-size 1)",
    )


def _predict(args: argparse.Namespace) -> None:
    from densepred.app.predict import generate_files, predict_files

    if args.images and args.num is not None:
        raise DensepredError(
            "pass either input images/folders or --num N (generation from noise), not both."
        )
    if not args.images and args.num is None:
        raise DensepredError(
            "no inputs: pass image files or folders after the model, e.g. "
            "'densepred predict CKPT photos/ --out pred' (or --num N for an unconditional GAN)."
        )
    if args.num is not None:
        written = generate_files(
            args.model, args.num, args.out, device=args.device, seed=args.seed, fmt=args.format
        )
        print(f"wrote {len(written)} files to {args.out}")
        return
    result = predict_files(
        args.model,
        args.images,
        args.out,
        device=args.device,
        batch_size=args.batch_size,
        recursive=args.recursive,
        fmt=args.format,
        save_probs=args.save_probs,
        on_bad=(lambda path, exc: None) if args.skip_bad else None,
        progress=not args.no_progress,
        max_pixels=args.max_pixels,
    )
    for line in result.lines:
        print(line)
    if result.skipped:
        print(f"skipped {len(result.skipped)} unreadable file(s):", file=sys.stderr)
        for path, exc in result.skipped.items():
            print(f"  {path}: {exc}", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"wrote {len(result.written)} files to {args.out}: {result.images} images in "
        f"{result.seconds:.2f} s, {result.images_per_second:.1f} images/s (batch size "
        f"{args.batch_size}, {result.device})"
    )


register(
    "predict",
    "predict with a checkpoint or a model folder on images of any size (or generate from noise)",
    _predict_arguments,
    _predict,
)


def _baseline_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config", help="depth, segmentation or classification config (path or name)"
    )


def _baseline(args: argparse.Namespace) -> None:
    from densepred.app.config import load_config
    from densepred.app.tasks import run_baseline

    print_metrics(run_baseline(load_config(config_path(args.config), args.overrides)))


register(
    "baseline",
    "score a constant prediction on a config's evaluation data: each image's geometric-mean "
    "depth (depth), the majority class (segmentation, classification)",
    _baseline_arguments,
    _baseline,
    ("",),
)
