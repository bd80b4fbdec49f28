"""Which zone a publisher's local time is in, when the page does not say.

A Korean paper writes "입력 2025.05.28 01:05" and means Seoul; a Chinese portal writes
"2021-1-29 13:18" and means Beijing. The defaults map a site's country (its host's top-level
domain) and the article's language to an IANA zone; they are a setting
(``publisher_zones``), and a source in sources.toml may name its own zone, which wins.
A time placed in a zone this way is marked inferred in the document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Localiser = Callable[[datetime], datetime]

_OFFSET_RE = re.compile(r"([+-])(\d{2}):?(\d{2})")


@cache
def zone_by_name(name: str) -> Localiser | None:
    """A function that puts a naive wall time into the zone ``name`` (an IANA name such as
    ``Asia/Seoul``, ``UTC``, or a fixed offset ``+09:00``); None for an unknown name.

    The IANA database comes from the system or the ``tzdata`` package; where neither is
    installed, pytz's copy (a dependency of htmldate) serves.
    """
    match = _OFFSET_RE.fullmatch(name.strip())
    if match:
        sign = -1 if match.group(1) == "-" else 1
        hours, minutes = int(match.group(2)), int(match.group(3))
        if hours > 14 or minutes >= 60:
            return None
        fixed = timezone(sign * timedelta(hours=hours, minutes=minutes))
        return lambda when: when.replace(tzinfo=fixed)
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return _pytz_zone(name)
    return lambda when: when.replace(tzinfo=zone)


def _pytz_zone(name: str) -> Localiser | None:
    try:
        import pytz
    except ImportError:  # pragma: no cover - htmldate depends on it
        return None
    try:
        zone = pytz.timezone(name)
    except (pytz.UnknownTimeZoneError, ValueError):
        return None
    return lambda when: zone.localize(when)


def parse_zone_table(text: str) -> dict[str, str]:
    """``"zh=Asia/Shanghai .kr=Asia/Seoul"`` as a mapping; ValueError names a bad entry."""
    table: dict[str, str] = {}
    for item in text.split():
        key, sep, zone = item.partition("=")
        key = key.strip().lower()
        if not sep or not key or not zone:
            raise ValueError(f"{item!r} is not KEY=ZONE")
        if not re.fullmatch(r"(?:\.[a-z0-9-]{1,63})+|[a-z]{2,3}", key):
            raise ValueError(f"{key!r} is neither a language code (zh) nor a domain suffix (.kr)")
        if zone_by_name(zone) is None:
            raise ValueError(f"{zone!r} is not a known time zone")
        table[key] = zone
    return table


@cache
def zone_table(text: str) -> dict[str, str]:
    """:func:`parse_zone_table` of the ``publisher_zones`` setting, parsed once per value
    (settings were validated at load, so a bad entry here is skipped, not raised)."""
    table: dict[str, str] = {}
    for item in text.split():
        try:
            table.update(parse_zone_table(item))
        except ValueError:
            continue
    return table


def publisher_zone(
    table: dict[str, str], url: str | None, language: str | None
) -> tuple[str | None, str]:
    """The zone a publisher most likely writes local times in, and why: the site's country
    (``.kr`` -> Asia/Seoul) first, then the article's language (``ko`` -> Asia/Seoul)."""
    try:
        host = (urlsplit(url).hostname or "") if url else ""
    except ValueError:
        host = ""
    # The longest domain suffix wins: ".hankookilbo.com" (one site) before ".kr" (a country).
    suffixes = sorted((k for k in table if k.startswith(".")), key=len, reverse=True)
    for key in suffixes:
        if host.endswith(key) or host == key[1:]:
            return table[key], f"site {key}"
    if language and language in table:
        return table[language], f"language {language}"
    return None, ""
