"""What the command line accepts: argparse ``type=`` functions that turn a bad option into one
line and exit status 2 (:class:`Parser`), before any work starts."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from typing import NoReturn

from workers.outbox import QUEUES

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
_STREAM_ID = re.compile(r"(\d{1,20})(?:-(\d{1,20}))?")
_MAX_ID_PART = 2**64 - 1


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line; the usage is one ``--help`` away.
    Subcommands get the same class (argparse passes the parser's own type down)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def count(high: int) -> Callable[[str], int]:
    """A whole number from 1 to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            value = 0
        if not 1 <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from 1 to {high}, not {text!r}"
            )
        return value

    return parse


def seconds(high: float, *, zero: bool = True) -> Callable[[str], float]:
    """A finite number of seconds up to ``high`` (``zero``: 0 allowed, else above 0)."""

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            value = math.nan
        low_ok = value >= 0 if zero else value > 0
        if not (math.isfinite(value) and low_ok and value <= high):
            low = "from 0" if zero else "above 0"
            raise argparse.ArgumentTypeError(
                f"must be a number of seconds {low} to {high:.0f}, not {text!r}"
            )
        return value

    return parse


def port(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port from 1 to 65535, not {text!r}")
    return value


def stream_id(text: str) -> str:
    """A Redis stream id, ``MS`` or ``MS-SEQ`` (each part below 2**64)."""
    match = _STREAM_ID.fullmatch(text.strip())
    if not match or any(int(p) > _MAX_ID_PART for p in match.groups() if p is not None):
        raise argparse.ArgumentTypeError(f"not a stream id (like 1700000000000-0): {text!r}")
    ms, seq = match.group(1), match.group(2) or "0"
    return f"{int(ms)}-{int(seq)}"


def stream_position(text: str) -> str:
    """Where a replay starts: a stream id, ``$``, ``0``, or an ISO-8601 time (as an id)."""
    from datetime import UTC, datetime

    text = text.strip()
    if text in {"$", "0"}:
        return text
    if _STREAM_ID.fullmatch(text):
        position = stream_id(text)
        return "0" if position == "0-0" else position
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a stream id (like 1700000000000-0) or an ISO-8601 time "
            f"(like 2026-11-22T00:00:00Z): {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ms = int(moment.timestamp() * 1000)
    if ms <= 0:
        return "0"
    return f"{ms}-0"


def language(text: str) -> str:
    """A language hint ("ko", "en-US", "zh_Hant") naming a language detection knows."""
    from service.language import normalise_hint

    if normalise_hint(text) is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} names no language newsingest detects (use a code like ko, zh or en)"
        )
    return text.strip()


def queues(text: str) -> str:
    """One queue, or several separated by commas."""
    names = [q.strip() for q in text.split(",")]
    unknown = [q for q in names if q not in QUEUES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown queue {unknown[0]!r}: use {', '.join(QUEUES)}, or both separated by a comma"
        )
    return ",".join(names)


def log_level(text: str) -> str:
    level = text.strip().lower()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(LOG_LEVELS)}, not {text!r}")
    return level
