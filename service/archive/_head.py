"""What the scan knows of a record before any filter: :class:`Head`, or :class:`Broken`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple


class Head(NamedTuple):
    """One record as the scan sees it, before any filter.

    A named tuple rather than a frozen dataclass: the scan makes one per record, and a
    frozen dataclass's ``__init__`` (an ``object.__setattr__`` per field) took about 4.5 µs
    against the tuple's 1.5. Fields are read by name, as before; it is immutable too."""

    offset: int
    type: str  # WARC-Type: response, request, revisit, warcinfo, metadata, ...
    url: str | None  # WARC-Target-URI as written
    date: str | None  # WARC-Date, ISO 8601 UTC ("...Z"), None when missing or unreadable
    record_id: str | None
    truncated: str | None  # WARC-Truncated: length, time, disconnect, unspecified
    is_http: bool
    status: int | None
    media_type: str  # lower case, without parameters; "" when none
    charset: str | None
    content_encoding: str
    transfer_encoding: str
    content_language: str
    prefix: bytes  # the payload's first bytes as stored (still chunked/compressed if so)


@dataclass(frozen=True, slots=True)
class Broken:
    """A record that could not be read: where it starts (as far as can be told) and why."""

    offset: int
    reason: str  # warc_corrupt (bad gzip member), warc_unparseable (bad WARC record)
    error: str


def warc_date(value: str | None) -> str | None:
    """WARC-Date as ISO 8601 UTC with a ``Z``; None when missing or unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.strftime(fmt)


def date_of(value: str | None) -> str | None:
    """WARC-Date as :func:`warc_date` gives it; the usual form is already that."""
    if value and len(value) == 20 and value[10] == "T" and value[19] == "Z":
        return value
    return warc_date(value)


def media_type_of(content_type: str | None) -> tuple[str, str | None]:
    """(media type in lower case, charset or None) from a Content-Type value."""
    if not content_type:
        return "", None
    parts = content_type.split(";")
    charset = None
    for param in parts[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower() or None
    return parts[0].strip().lower(), charset
