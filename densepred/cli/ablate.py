"""``densepred ablate SWEEP [key=value ...] [--jobs N | --launcher ray ...] [--out DIR]
[--trials-dir DIR] [--retry-failed] [--remeasure] [--print-config]``."""

from __future__ import annotations

import argparse
import os

from densepred.cli.command import config_path, register
from densepred.core.errors import ConfigError


def _ablate(args: argparse.Namespace) -> None:
    # Idle OpenMP threads sleep instead of spinning: on a CPU shared with other work, spinning
    # threads make multi-threaded timings (and training) many times slower. Before torch loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # imported after argparse: `densepred ablate --help` answers without loading torch
    from densepred.ablation.runner import remeasure, run_sweep
    from densepred.ablation.sweep import load_sweep

    sweep = load_sweep(config_path(args.sweep), args.overrides)
    if args.print_config:
        print(sweep.to_yaml(), end="")
        return
    if args.remeasure:
        remeasure(sweep, out_dir=args.out)
    else:
        run_sweep(
            sweep,
            out_dir=args.out,
            retry_failed=args.retry_failed,
            launcher=args.launcher,
            trials_dir=args.trials_dir,
            **_launcher_options(args),
        )


def _launcher_options(args: argparse.Namespace) -> dict[str, object]:
    """The options of the chosen launcher; one meant for the other launcher is an error."""
    ray_flags = {
        "address": args.address,
        "cpus_per_trial": args.cpus_per_trial,
        "gpus_per_trial": args.gpus_per_trial,
        "scheduler": args.scheduler,
        "grace_period": args.grace_period,
        "reduction_factor": args.reduction_factor,
    }
    if args.launcher == "local":
        given = [f"--{k.replace('_', '-')}" for k, v in ray_flags.items() if v is not None]
        if given:
            verb = "is an option" if len(given) == 1 else "are options"
            raise ConfigError(
                f"{', '.join(given)} {verb} of --launcher ray; add --launcher ray or drop "
                f"{'it' if len(given) == 1 else 'them'}."
            )
        return {"jobs": args.jobs if args.jobs is not None else 1}
    if args.jobs is not None:
        raise ConfigError(
            "--jobs is for --launcher local; with --launcher ray use --cpus-per-trial and "
            "--gpus-per-trial (Ray runs as many trials at once as the cluster has room for)."
        )
    return {k: v for k, v in ray_flags.items() if v is not None}


def _ablate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sweep", help="sweep YAML: a path or a shipped name, e.g. ablation_depth")
    parser.add_argument(
        "--launcher",
        default="local",
        choices=["local", "ray"],
        help='where trials run: local processes (default) or a Ray cluster (pip install -e ".[ray]")',
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="local: trials run in parallel processes (default 1)"
    )
    parser.add_argument(
        "--out", default=None, help="sweep folder (default: output_dir of the sweep file)"
    )
    parser.add_argument(
        "--trials-dir",
        default=None,
        help="parent of the trials' run folders (default <sweep folder>/trials; on a Ray "
        "cluster a shared filesystem path every node can write)",
    )
    ray = parser.add_argument_group("--launcher ray")
    ray.add_argument(
        "--address", default=None, help="Ray cluster, e.g. auto or HEAD:6379 (default: local Ray)"
    )
    ray.add_argument("--cpus-per-trial", type=float, default=None, help="default 1")
    ray.add_argument("--gpus-per-trial", type=float, default=None, help="default 0")
    ray.add_argument(
        "--scheduler",
        default=None,
        choices=["fifo", "asha"],
        help="asha: stop trials whose per-epoch score.metric trails (default fifo: run all)",
    )
    ray.add_argument(
        "--grace-period", type=int, default=None, help="asha: epochs before a stop (default 1)"
    )
    ray.add_argument(
        "--reduction-factor", type=int, default=None, help="asha: keep 1/N per rung (default 2)"
    )
    parser.add_argument(
        "--retry-failed", action="store_true", help="run trials recorded as failed again"
    )
    parser.add_argument(
        "--remeasure",
        action="store_true",
        help="time the finished grid points again, interleaved, without training (e.g. on a "
        "quieter machine, or in another benchmark.runtime)",
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the resolved, validated sweep as YAML and exit (trains nothing, writes nothing)",
    )


register(
    "ablate",
    "train, evaluate and benchmark every grid point of a sweep file; rerun to resume",
    _ablate_arguments,
    _ablate,
    ("",),
)
