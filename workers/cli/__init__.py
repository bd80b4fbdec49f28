"""The ``newsingest`` command line, in four groups:

- running the service: run, worker, beat, celery (workers/cli/running.py);
- producing and reading the queue: submit, consume, get, dead, retranslate (queue.py);
- web archives: backfill (backfill.py);
- operations: stats, exporter, health, sources (ops.py);
- local tools without Redis: process, detect, translate, models, schema (local.py).

Each command gets the Settings loaded once here and builds what it needs from them. Whatever
goes wrong reaches the user as one line on stderr: a bad option or setting (exit 2), Redis
away (exit 1), or an error nobody expected (exit 1; its traceback at log level DEBUG).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

import redis

from service.logs import configure
from service.settings import Settings, SettingsError, load_settings

from . import backfill, local, ops, queue, running
from ._options import Parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="newsingest", description="Multilingual news ingestion (ko, zh, en).")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (running, queue, backfill, ops, local):
        group.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"newsingest: {problem}", file=sys.stderr)
        return 2
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"newsingest: {exc}", file=sys.stderr)
        return 2
    configure(settings.log_level)
    try:
        result: int = args.func(args, settings)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`newsingest consume | head`): nothing more to write, and
        # nothing for Python to complain about when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, no traceback
        message, status = _explain(exc, settings)
        print(f"newsingest: {message}", file=sys.stderr)
        return status
    return result


def _explain(exc: Exception, settings: Settings) -> tuple[str, int]:
    """One line for an exception that reached main, and the exit status."""
    detail = " ".join(str(exc).split())[:300] or type(exc).__name__
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError) or _broker_error(exc):
        return f"Redis unreachable: {detail} (check REDIS_URL, or start `newsingest run`)", 1
    if isinstance(exc, redis.RedisError):
        return f"Redis refused the command: {detail}", 1
    if settings.log_level == "DEBUG":
        traceback.print_exc()
    return (
        f"internal error: {type(exc).__name__}: {detail}; "
        "run with NEWSINGEST_LOG_LEVEL=DEBUG for the traceback",
        1,
    )


def _broker_error(exc: Exception) -> bool:
    """Celery's broker (kombu) failing to connect; only imported when it was."""
    kombu = sys.modules.get("kombu.exceptions")
    return kombu is not None and isinstance(exc, kombu.OperationalError)
