"""``ctrlgen demo``: registered with the CLI through the ``ctrlgen.cli`` entry-point group."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="serve the Gradio demo (all tabs)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be in 1..65535, got {args.port}")
    from .app import launch

    launch(args.host, args.port, block=True)
    return 0
