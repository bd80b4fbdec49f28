"""The last step of dating an article, once its language and its source are known.

:func:`settle` takes what the page said (a local ISO time with its precision and source),
fills the gap from the feed item or the HTTP ``Last-Modified`` header when the page said
nothing, and gives a local time without an offset the publisher's zone: the source's own
``timezone`` first, else the default for the site's country or the article's language
(``publisher_zones``), marked inferred. :func:`utc_fields` then writes the document's
``published_at`` (an instant in UTC when the zone is known, else the publisher's day at
midnight UTC) from the settled values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from ..records import Extracted, Source
from ._bylines import agency_of, clean_name, split_names
from ._stamps import PRECISIONS, SOURCES, Stamp, parse_iso, plausible
from ._zones import publisher_zone, zone_by_name

_UNTIMED = ("month", "day")
# A Last-Modified this close to the fetch is the server's clock, not the article's.
_DYNAMIC_LAST_MODIFIED = timedelta(hours=1)


@dataclass(frozen=True)
class Settled:
    """A publication time ready for the document."""

    date: str | None = None  # local ISO 8601: a day, or a time with its offset when known
    precision: str | None = None
    source: str | None = None
    zone: str | None = None
    zone_inferred: bool = False
    modified: str | None = None


def _parse_local(value: str | None) -> datetime | None:
    if not value:
        return None
    if len(value) == 7 and value[4] == "-":  # a month: YYYY-MM
        value += "-01"
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _fetched(fetched_at: str | None) -> datetime:
    parsed = _parse_local(fetched_at)
    if parsed is None:
        return datetime.now(UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _last_modified(header: str | None, fetched: datetime) -> Stamp | None:
    if not header:
        return None
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None or abs(fetched - when) < _DYNAMIC_LAST_MODIFIED:
        return None
    return Stamp(when.astimezone(UTC), "second", "fetch", "UTC")


def settle(
    date: str | None,
    precision: str | None,
    source: str | None,
    modified: str | None = None,
    *,
    zone: str | None = None,
    language: str | None = None,
    url: str | None = None,
    zones: Mapping[str, str] | None = None,
    zone_override: str | None = None,
    feed_published: str | None = None,
    last_modified: str | None = None,
    fetched_at: str | None = None,
) -> Settled:
    """The publication time to publish, from the page's, the feed's or the server's word.

    ``zone`` names the zone the page gave (kept when the offset agrees); ``zones`` is the
    ``publisher_zones`` table; ``zone_override`` a source's own zone.
    """
    fetched = _fetched(fetched_at)
    when = _parse_local(date)
    if when is not None and precision not in PRECISIONS:
        precision = _precision_of(date or "", when)  # a record from before precisions
    if when is None:
        fallback = parse_iso(feed_published, "feed") if feed_published else None
        if fallback is None or not plausible(fallback, fetched):
            fallback = _last_modified(last_modified, fetched)
        if fallback is None:
            return Settled(modified=modified)
        when, precision, source, zone = fallback.when, fallback.precision, fallback.source, None
        if precision in _UNTIMED:
            when = when.replace(tzinfo=None)
    label = _zone_label(when) if when.tzinfo is not None else None
    if label is not None and zone is not None:
        named = zone_by_name(zone)
        if named is None or named(when.replace(tzinfo=None)).utcoffset() != when.utcoffset():
            zone = label
    else:
        zone = label
    inferred = False
    localise = None
    if when.tzinfo is None and precision not in _UNTIMED:
        name = zone_override
        if not name:
            name, _why = publisher_zone(dict(zones or {}), url, language)
        localise = zone_by_name(name) if name else None
        if localise is not None:
            when, zone, inferred = _whole_minutes(localise(when)), name, not zone_override
    modified_when = _parse_local(modified)
    if modified_when is not None and modified_when.tzinfo is None and localise is not None:
        modified_when = _whole_minutes(localise(modified_when))
    return Settled(
        date=_local_iso(when, precision),
        precision=precision,
        source=source if source in SOURCES else None,
        zone=zone if precision not in _UNTIMED else None,
        zone_inferred=inferred,
        modified=modified_when.isoformat() if modified_when is not None else modified,
    )


def _local_iso(when: datetime, precision: str | None) -> str:
    if precision == "month":
        return when.strftime("%Y-%m")
    return when.date().isoformat() if precision == "day" else when.isoformat()


def _precision_of(text: str, when: datetime) -> str:
    if len(text) == 7:
        return "month"
    if len(text) <= 10 or (when.hour, when.minute, when.second) == (0, 0, 0):
        return "day"
    return "second" if when.second else "minute"


def _whole_minutes(when: datetime) -> datetime:
    """Local mean time before a zone's standard time has offsets in seconds (Shanghai in
    1900: +08:05:43); ISO 8601 as published carries minutes, so the offset is rounded."""
    offset = when.utcoffset()
    if offset is None or not offset.seconds % 60:
        return when
    minutes = round(offset.total_seconds() / 60)
    return when.replace(tzinfo=timezone(timedelta(minutes=minutes)))


def _zone_label(when: datetime) -> str | None:
    offset = when.utcoffset()
    if offset is None:
        return None
    if offset == timedelta(0):
        return "UTC"
    total = int(offset.total_seconds() // 60)
    return f"{'-' if total < 0 else '+'}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


def utc_instant(local: str | None, precision: str | None) -> str | None:
    """``published_at``: the instant in UTC when ``local`` has an offset and a time, else its
    day (a month's first day) at midnight UTC (the publisher's calendar day, not an instant)."""
    when = _parse_local(local)
    if when is None:
        return None
    if precision in _UNTIMED or when.tzinfo is None or precision not in ("minute", "second"):
        return when.strftime("%Y-%m-%dT00:00:00Z")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_precision(local: str | None, precision: str | None) -> str | None:
    """The precision of :func:`utc_instant`'s value: a day (or a month) unless the instant
    is known."""
    when = _parse_local(local)
    if when is None or precision is None:
        return None
    if precision == "month":
        return precision
    return precision if when.tzinfo is not None and precision != "day" else "day"


def settle_extracted(
    extracted: Extracted,
    source: Source,
    *,
    url: str | None,
    language: str | None,
    zones: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
    fetched_at: str | None = None,
) -> Extracted:
    """``extracted`` with its publication time settled and the feed item's title and author
    filling what the page left empty (each recorded as coming from the feed)."""
    meta = dict(extracted.meta)
    item = source.feed
    settled = settle(
        extracted.date,
        meta.get("date_precision"),
        meta.get("date_source"),
        meta.get("modified"),
        zone=meta.get("date_zone"),
        language=language,
        url=url,
        zones=zones,
        feed_published=item.published if item else None,
        last_modified=(headers or {}).get("last-modified"),
        fetched_at=fetched_at,
    )
    meta.update(
        date_precision=settled.precision,
        date_source=settled.source,
        date_zone=settled.zone,
        date_zone_inferred=settled.zone_inferred,
        modified=settled.modified,
    )
    title, authors = extracted.title, list(extracted.authors)
    if not title and item and item.title:
        title, meta["title_source"] = item.title, "feed"
    if not authors and item and item.author:
        names = [n for n in (clean_name(p) for p in split_names(item.author)) if n]
        wires = [agency_of(n) for n in names]
        authors = [n for n, wire in zip(names, wires, strict=True) if not wire]
        if authors:
            meta["authors_source"] = "feed"
        if not meta.get("agency") and any(wires):
            meta["agency"] = ", ".join(dict.fromkeys(w for w in wires if w))
    meta = {k: v for k, v in meta.items() if v is not None}
    return replace(extracted, title=title, authors=authors, date=settled.date, meta=meta)


def document_fields(extracted: Extracted) -> dict[str, Any]:
    """The document's date, provenance and agency fields from a settled :class:`Extracted`."""
    meta = extracted.meta
    precision = meta.get("date_precision")
    modified = meta.get("modified")
    return {
        "published_at": utc_instant(extracted.date, precision),
        "published_at_local": extracted.date,
        "published_at_precision": utc_precision(extracted.date, precision),
        "published_at_source": meta.get("date_source") if extracted.date else None,
        "published_at_zone": meta.get("date_zone") if extracted.date else None,
        "published_at_zone_inferred": bool(meta.get("date_zone_inferred"))
        if extracted.date
        else None,
        "modified_at": utc_instant(modified, "second") if modified else None,
        "agency": meta.get("agency"),
        "title_source": meta.get("title_source") if extracted.title else None,
        "authors_source": meta.get("authors_source") if extracted.authors else None,
    }
