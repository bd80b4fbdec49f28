"""Retry-After, read strictly (RFC 9110 section 10.2.3): delta-seconds or an HTTP-date.

Anything else (``1e309``, ``-5``, ``1.5``, a date in another format) means "no advice", so
the caller's own back-off applies; a number too large to act on is clamped, never trusted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_MONTH = "(" + "|".join(_MONTHS) + ")"
_DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_LONG_DAY = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})"
_DELTA = re.compile(r"[0-9]+")
# IMF-fixdate (the one to send), then the two obsolete forms recipients must still accept.
_IMF = re.compile(rf"{_DAY}, ([0-9]{{2}}) {_MONTH} ([0-9]{{4}}) {_TIME} GMT")
_RFC850 = re.compile(rf"{_LONG_DAY}, ([0-9]{{2}})-{_MONTH}-([0-9]{{2}}) {_TIME} GMT")
_ASCTIME = re.compile(rf"{_DAY} {_MONTH} ([0-9 ][0-9]) {_TIME} ([0-9]{{4}})")
# More digits than this is "longer than any cap" (and int() of 4301+ digits raises).
_MAX_DIGITS = 12


def parse_retry_after(value: str | None, cap: float, now: datetime | None = None) -> float | None:
    """Seconds to wait, in ``[0, cap]``; None when ``value`` is absent or not a valid form."""
    if value is None:
        return None
    text = value.strip()
    if _DELTA.fullmatch(text):
        seconds = float(cap) if len(text) > _MAX_DIGITS else float(int(text))
        return min(float(cap), seconds)
    when = http_date(text, now)
    if when is None:
        return None
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return min(float(cap), max(0.0, delta))


def http_date(text: str, now: datetime | None = None) -> datetime | None:
    """An HTTP-date in any of its three forms, as an aware UTC datetime; None if invalid."""
    fields: tuple[str, ...]
    if m := _IMF.fullmatch(text):
        day, month, year, hh, mm, ss = m.groups()
        fields = (year, month, day, hh, mm, ss)
    elif m := _RFC850.fullmatch(text):
        day, month, yy, hh, mm, ss = m.groups()
        fields = (_full_year(int(yy), now), month, day, hh, mm, ss)
    elif m := _ASCTIME.fullmatch(text):
        month, day, hh, mm, ss, year = m.groups()
        fields = (year, month, day.strip(), hh, mm, ss)
    else:
        return None
    year, month, day, hh, mm, ss = fields
    try:
        return datetime(
            int(year), _MONTHS[month], int(day), int(hh), int(mm), min(59, int(ss)), tzinfo=UTC
        )
    except ValueError:  # 30 Feb, 25:00
        return None


def _full_year(yy: int, now: datetime | None) -> str:
    """RFC 9110: a two-digit year more than 50 years ahead is in the past century."""
    this_year = (now or datetime.now(UTC)).year
    year = this_year - this_year % 100 + yy
    if year > this_year + 50:
        year -= 100
    return str(year)
