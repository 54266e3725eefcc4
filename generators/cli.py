"""The ``ctrlgen`` command: a thin layer over the Python API.

Subcommands beyond ``batch`` come from the ``ctrlgen.cli`` entry-point group: each entry is a
function ``register(subparsers)`` that adds a parser whose ``func(args) -> int`` runs it, so the
core never imports a generator. Usage errors print one line and exit 2; set ``CTRLGEN_DEBUG=1``
for the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import entry_points

from . import __version__
from .errors import UsageError

CLI_ENTRY_POINT_GROUP = "ctrlgen.cli"
EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ctrlgen", description="Controllable generators: SVG, two-person motion, image editing.")
    parser.add_argument("--version", action="version", version=f"ctrlgen {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_batch_parser(subparsers)
    for entry in sorted(entry_points(group=CLI_ENTRY_POINT_GROUP), key=lambda e: e.name):
        entry.load()(subparsers)
    return parser


def _add_batch_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="run a JSONL manifest of jobs (resumable; local processes or Dask)",
        description="Run every unfinished job of MANIFEST into DIR/<job id>/ with a job.json sidecar each.",
    )
    parser.add_argument("manifest", metavar="MANIFEST.jsonl")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--workers", type=_positive_int, default=1, metavar="N", help="local worker processes (default 1)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=_run_batch)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _run_batch(args: argparse.Namespace) -> int:
    from .batch import run_batch

    summary = run_batch(args.manifest, args.output, workers=args.workers, scheduler=args.scheduler, progress=not args.no_progress)
    ran = summary.succeeded + summary.failed
    print(
        f"batch: {summary.total} jobs, {summary.skipped} already done, {ran} ran, "
        f"{summary.failed} failed{', interrupted' if summary.interrupted else ''} -> {summary.out_dir}"
    )
    if summary.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if summary.failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("ctrlgen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (UsageError, ValueError, TypeError, OSError) as err:
        if os.environ.get("CTRLGEN_DEBUG"):
            raise
        print(f"ctrlgen {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
