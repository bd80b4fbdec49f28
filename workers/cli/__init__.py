"""The ``newsingest`` command line, in four groups:

- running the service: run, worker, beat, celery (workers/cli/running.py);
- producing and reading the queue: submit, consume, get, dead, retranslate (queue.py);
- operations: stats, exporter, health, sources (ops.py);
- local tools without Redis: process, detect, translate, models, schema (local.py).

Each command gets the Settings loaded once here and builds what it needs from them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from service.logs import configure
from service.settings import load_settings

from . import local, ops, queue, running


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsingest", description="Multilingual news ingestion (ko, zh, en)."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (running, queue, ops, local):
        group.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"newsingest: {exc}", file=sys.stderr)
        return 2
    configure(settings.log_level)
    result: int = args.func(args, settings)
    return result
