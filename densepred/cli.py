"""Command-line front ends behind ``tools/*.py``; each returns a process exit code.

Each command imports its work (torch, Lightning, the config loader) inside its function, after
argparse has run, so ``tools/*.py --help`` and argument errors answer at once; these local
imports keep start-up cheap and dodge no import cycle.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from densepred.core.errors import DensepredError, user_message


def _run(
    fn: Callable[[argparse.Namespace], None],
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
) -> int:
    args = parser.parse_args(argv)
    try:
        fn(args)
    except DensepredError as exc:
        print(f"error: {user_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished checkpoints and results are kept.", file=sys.stderr)
        return 130
    return 0


def print_metrics(metrics: dict[str, float], initial: dict[str, float] | None = None) -> None:
    """Print metrics as a Markdown table; with ``initial``, a column of the values before training."""
    width = max([len("metric"), *(len(k) for k in metrics)])
    columns = ["initial", "value"] if initial else ["value"]
    print(f"| {'metric':<{width}} |" + "".join(f" {c:>10} |" for c in columns))
    print(f"|{'-' * (width + 2)}|" + f"{'-' * 12}|" * len(columns))
    for key in sorted(metrics):
        values = [initial.get(key), metrics[key]] if initial else [metrics[key]]
        cells = "".join(f" {'':>10} |" if v is None else f" {v:>10.4f} |" for v in values)
        print(f"| {key:<{width}} |{cells}")


def _train(args: argparse.Namespace) -> None:
    from densepred.app.config import load_config
    from densepred.app.train import run_training

    config = load_config(args.config, args.overrides)
    result = run_training(config, resume=args.resume, run_dir=args.run_dir)
    if not result.is_global_zero:  # under DDP the other ranks stay silent
        return
    print(f"\nrun folder: {result.run_dir}")
    print(f"best checkpoint: {result.best_checkpoint}")
    if result.metrics:
        print_metrics(result.metrics, result.initial_metrics)


def train_main(argv: Sequence[str] | None = None) -> int:
    """``tools/train.py CONFIG [key=value ...] [--resume] [--run-dir DIR]``."""
    parser = argparse.ArgumentParser(description="Train a densepred model from a YAML config.")
    parser.add_argument("config", help="YAML config, e.g. configs/depth_mbv3_unet.yaml")
    parser.add_argument(
        "overrides",
        nargs="*",
        help="dotted overrides, e.g. model.encoder=resnet18 trainer.max_epochs=1",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the run from its checkpoints/last.ckpt"
    )
    parser.add_argument(
        "--run-dir", default=None, help="run folder (default: output_dir/name from the config)"
    )
    return _run(_train, parser, argv)


def _baseline(args: argparse.Namespace) -> None:
    from densepred.app.config import load_config
    from densepred.app.tasks import run_baseline

    print_metrics(run_baseline(load_config(args.config, args.overrides)))


def baseline_main(argv: Sequence[str] | None = None) -> int:
    """``tools/baseline.py CONFIG [key=value ...]``: metrics of the task's constant prediction."""
    parser = argparse.ArgumentParser(
        description="Score a constant prediction on a config's validation data (test data for "
        "depth when data.test_split is set): each image's geometric-mean ground-truth depth "
        "(depth), the majority class (segmentation, classification)."
    )
    parser.add_argument("config", help="depth, segmentation or classification YAML config")
    parser.add_argument("overrides", nargs="*", help="dotted overrides")
    return _run(_baseline, parser, argv)


def _evaluate(args: argparse.Namespace) -> None:
    from densepred.app.config import load_config
    from densepred.app.inference import evaluate_checkpoint

    config = load_config(args.config, args.overrides)
    metrics = evaluate_checkpoint(config, args.checkpoint, args.out)
    print_metrics(metrics)


def evaluate_main(argv: Sequence[str] | None = None) -> int:
    """``tools/evaluate.py CONFIG CKPT [key=value ...] [--out FILE]``."""
    parser = argparse.ArgumentParser(description="Evaluate a checkpoint on the data of a config.")
    parser.add_argument("config", help="YAML config whose data section names the evaluation data")
    parser.add_argument(
        "checkpoint",
        help="checkpoint written by tools/train.py (full or weights-only) or a model folder",
    )
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. data.val_split=test")
    parser.add_argument(
        "--out",
        default=None,
        help="metrics JSON (default: <checkpoint>.eval.json); the sample grid goes beside it (.png)",
    )
    return _run(_evaluate, parser, argv)


def _predict(args: argparse.Namespace) -> None:
    from densepred.app.predict import generate_files, predict_files

    if bool(args.images) == (args.num is not None):
        raise DensepredError(
            "pass either input images/folders or --num N (generation from noise), not both."
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


def predict_main(argv: Sequence[str] | None = None) -> int:
    """``tools/predict.py MODEL IMAGES... --out DIR`` or ``tools/predict.py MODEL --num N --out DIR``."""
    parser = argparse.ArgumentParser(
        description="Predict with a checkpoint or a model folder on images of any size."
    )
    parser.add_argument(
        "model",
        help="checkpoint written by tools/train.py (full or weights-only) or a model folder",
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
    parser.add_argument(
        "--recursive", action="store_true", help="also read the images of sub-folders"
    )
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
    return _run(_predict, parser, argv)
