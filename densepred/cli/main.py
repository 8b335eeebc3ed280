"""``densepred <subcommand>``: the one command-line entry point.

Every subcommand is registered in :data:`densepred.cli.command.COMMANDS` by the modules imported
here; their argument parsing imports nothing heavy, so ``densepred --help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from densepred import __version__
from densepred.cli import ablate, data, export, info, measure, run, utilities  # noqa: F401 (registers)
from densepred.cli.command import (
    COMMANDS,
    KEYS_HELP,
    check_overrides,
    option_values,
    setup_logging,
    split_overrides,
)
from densepred.core.errors import DensepredError, user_message


def build_parser(
    selected: str | None = None,
) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser | None]:
    """The ``densepred`` parser with one subparser per registered subcommand, and the
    ``selected`` subcommand's parser, the only one given its arguments (some need torch to list
    their choices)."""
    parser = argparse.ArgumentParser(
        prog="densepred",
        description="Dense prediction (depth, segmentation) with swappable encoders. "
        "Run `densepred <subcommand> --help` for one subcommand's options.",
        epilog=KEYS_HELP,
    )
    parser.add_argument("--version", action="version", version=f"densepred {__version__}")
    verbosity = argparse.ArgumentParser(add_help=False)
    verbosity.add_argument(
        "-q", "--quiet", dest="verbosity", action="store_const", const=-1, default=0,
        help="only warnings and errors",
    )
    verbosity.add_argument(
        "-v", "--verbose", dest="verbosity", action="store_const", const=1, help="debug messages"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", required=True)
    chosen = None
    for name in COMMANDS.names():
        cmd = COMMANDS.get(name)
        epilog = KEYS_HELP if cmd.overrides else None
        sub = subparsers.add_parser(
            name, help=cmd.help, description=cmd.help, epilog=epilog, parents=[verbosity]
        )
        if name == selected:
            cmd.add_arguments(sub)
            chosen = sub
    return parser, chosen


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns the process exit code (2 with a one-line message on any error
    a user can cause, 130 on Ctrl-C)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    selected = next((a for a in argv if not a.startswith("-")), None)
    parser, sub = build_parser(selected)
    overrides, rest = split_overrides(argv, option_values(sub) if sub is not None else {})
    args = parser.parse_args(rest)
    args.overrides = overrides
    setup_logging(args.verbosity)
    cmd = COMMANDS.get(args.command)
    try:
        check_overrides(cmd, overrides)
        return cmd.run(args) or 0
    except DensepredError as exc:
        print(f"error: {user_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished checkpoints and results are kept.", file=sys.stderr)
        return 130


def run_tool(name: str) -> int:
    """``tools/<name>.py ARGS`` = ``densepred <name> ARGS`` (the thin script shims)."""
    return main([name, *sys.argv[1:]])
