"""``tools/benchmark_data.py CONFIG [key=value ...] [--workers N ...] [--images N] [--epochs N]
[--rounds N] [--steps N] [--out FILE]``: images/s of the training input pipeline (files, and the
cache of ``data.cache``) against the model's training step and a GPU estimate."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Any

from densepred.cli import _run

CORES = 16
"""The machine the summary sizes: its workers are all cores but the training process's."""


def _table(header: Sequence[str], rows: list[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def report(result: dict[str, Any], batch: int) -> str:
    """The measurements as Markdown tables, with the workers each source needs to feed the GPU."""
    stages, loaders = result["stages"], result["loaders"]
    counts = sorted({n for rates in loaders.values() for n in rates})
    rows = []
    for name, times in stages.items():
        rows.append(
            [name]
            + [f"{times[stage]:.2f}" for stage in ("read", "resize", "augment", "collate", "total")]
            + [f"{1000.0 / times['total']:.0f}"]
            + [f"{loaders[name][n]:.0f}" for n in counts]
        )
    header = ["source", "read ms", "resize ms", "augment ms", "collate ms", "total ms/img"]
    header += ["img/s, 1 thread"] + [f"img/s, {n} worker{'s' * (n > 1)}" for n in counts]
    text = _table(header, rows)
    if "model" not in result:
        return text
    model, gpu = result["model"], result["gpu"]
    demand = gpu["current_gpu_images_per_s"]
    rows = [
        [
            f"training step on this CPU (batch {batch}, {model['threads']} threads)",
            f"{model['images_per_s']:.1f}",
        ],
        [
            "RTX 3090, estimated (published MobileNetV3-Large training x MACs)",
            f"{gpu['rtx3090_images_per_s']:.0f}",
        ],
        ["current GPU, estimated (x RTX 5090 / 3090 inference)", f"{demand:.0f}"],
    ]
    one = min(counts)
    for name, rates in loaders.items():
        per_worker = rates[one] / one
        fed = per_worker * (CORES - 1)
        rows.append(
            [
                f"{name}: workers to feed the current GPU; {CORES - 1} workers give",
                f"{math.ceil(demand / per_worker)} workers; {fed:.0f} img/s "
                f"({'fed' if fed >= demand else 'starved'})",
            ]
        )
    macs = model["forward_macs_per_image"]
    note = (
        f"\nforward MACs per image: {macs / 1e9:.3f} G (reference {gpu['published']['model']} at "
        f"{gpu['published']['image_size']}: {gpu['reference_macs'] / 1e9:.3f} G); published: "
        f"{gpu['published']['images_per_s']} img/s, {gpu['published']['setup']}, "
        f"{gpu['published']['source']}; {gpu['current_gpu_source']}"
    )
    return text + "\n\n" + _table(["", "images/s"], rows) + note


def _benchmark(args: argparse.Namespace) -> None:
    # imported after argparse: `--help` answers without loading torch
    from densepred.app.benchmark_data import benchmark_data
    from densepred.app.config import load_config
    from densepred.core.fileio import atomic_write_json

    config = load_config(args.config, args.overrides)
    result = benchmark_data(
        config,
        workers=args.workers,
        images=args.images,
        epochs=args.epochs,
        rounds=args.rounds,
        steps=args.steps,
    )
    print(report(result, config.data.batch_size))
    if args.out:
        atomic_write_json(args.out, result)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the measurements; exit code 2 on a densepred error."""
    parser = argparse.ArgumentParser(
        description="Images/s of a depth or segmentation config's training pipeline (decode, "
        "resize, augment, collate; loaders with N workers) from its files and, with "
        "data.cache=DIR, from that prepared cache; beside it the model's training step on this "
        "CPU and an estimate for one GPU. Run it on an otherwise idle machine."
    )
    parser.add_argument("config", help="depth or segmentation YAML config")
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. data.cache=DIR")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="DataLoader worker counts (1 2)"
    )
    parser.add_argument("--images", type=int, default=100, help="items timed stage by stage")
    parser.add_argument("--epochs", type=int, default=2, help="timed loader epochs per round")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repeats (best kept)")
    parser.add_argument(
        "--steps", type=int, default=20, help="timed training steps (0: no model measurement)"
    )
    parser.add_argument("--out", default=None, help="also write the numbers as JSON")
    return _run(_benchmark, parser, argv)
