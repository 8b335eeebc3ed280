"""``densepred train | evaluate | predict | baseline``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from densepred.cli.command import config_path, print_metrics, register, shipped_configs
from densepred.core.errors import DensepredError

EVALUATE_KEYS = ("data.", "trainer.accelerator", "trainer.devices", "trainer.precision")
PRINT_CONFIG = "print the resolved, validated config as YAML and exit (reads no data, writes nothing)"


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
        help="a checkpoint written by densepred train, and optionally a YAML config whose data "
        "section names the evaluation data (default: the checkpoint's own data)",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="metrics JSON (default: <checkpoint>.eval.json); the sample grid goes beside it (.png)",
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
    print_metrics(evaluate_checkpoint(config, checkpoint, args.out, task=task))


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
    parser.add_argument("checkpoint", help="checkpoint written by densepred train")
    parser.add_argument("images", nargs="*", help="image files or folders (GAN: condition files)")
    parser.add_argument(
        "--num", type=int, default=None, help="generate N outputs from noise (unconditional GAN)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise for --num")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="go on past files that cannot be read (listed at the end) instead of stopping",
    )


def _predict(args: argparse.Namespace) -> None:
    from densepred.app.inference import generate_files, predict_files

    if bool(args.images) == (args.num is not None):
        raise DensepredError(
            "pass either input images/folders or --num N (generation from noise), not both."
        )
    if args.num is not None:
        written = generate_files(
            args.checkpoint, args.num, args.out, device=args.device, seed=args.seed
        )
    else:
        skipped: dict[Path, DensepredError] = {}
        written = predict_files(
            args.checkpoint,
            args.images,
            args.out,
            device=args.device,
            on_bad=skipped.__setitem__ if args.skip_bad else None,
        )
        if skipped:
            print(f"skipped {len(skipped)} unreadable file(s):", file=sys.stderr)
            for path, exc in skipped.items():
                print(f"  {path}: {exc}", file=sys.stderr)
    print(f"wrote {len(written)} files to {args.out}")


register(
    "predict",
    "predict with a checkpoint on images of any size (or generate from noise)",
    _predict_arguments,
    _predict,
)


def _baseline_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="depth, segmentation or classification config (path or name)")


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
