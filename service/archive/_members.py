"""A .warc.gz read member by member, inflated with ISA-L's igzip, for the scan's fast path.

Inflating is most of a scan's cost: igzip inflates twice as fast as the standard zlib and
as fast as the zlib-rs inside FastWARC or a little faster, and reading the headers from a
member's first bytes here costs less than asking FastWARC's bindings for each one
(docs/choices.md has the figures). Each member is inflated in bounded pieces from its
compressed offset; only its first bytes (headers and the payload's first bytes) are kept,
and its end is where the next member starts.

:func:`record_head` reads a :class:`Head` from those first bytes, for the plain records
that make up a crawl, exactly as FastWARC would. Anything less plain (a duplicate or
folded header, a non-ASCII header block, an odd status line, a member that does not hold
exactly one record) gives None, and the scan lets FastWARC read that record instead.
"""

from __future__ import annotations

from typing import IO, cast

from isal import isal_zlib

from ._head import Head, date_of, media_type_of

INFLATER = "isal (igzip)"
# What a member that does not inflate raises (isal's stub calls it an instance).
InflateError = cast("type[Exception]", isal_zlib.error)
# WARC and HTTP header blocks longer than this go to FastWARC (its own limit is 32 KiB).
MAX_HEADER = 16 * 1024
_GZIP = 31  # wbits: one gzip member
_WINDOW = 1 << 20  # compressed bytes read at a time
_PIECE = 16 * 1024  # compressed bytes inflated at a time
_OUT = 256 * 1024  # decompressed bytes produced at a time, at most
_WARC_VERSIONS = (b"WARC/1.0\r\n", b"WARC/1.1\r\n")
_HTTP = "application/http"
_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\t"

__all__ = ["INFLATER", "MAX_HEADER", "Cut", "GzipMember", "InflateError", "Window", "record_head"]


class Cut(Exception):
    """The file ends inside a gzip member."""


class Window:
    """A file read forward in windows of ``_WINDOW`` bytes; pieces by absolute offset."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self._buffer = memoryview(bytearray(_WINDOW))  # one buffer, filled again and again
        self._start = 0
        self._data = self._buffer[:0]

    def piece(self, at: int, size: int) -> memoryview:
        """Up to ``size`` bytes from offset ``at`` (fewer at the end of the file), valid
        until the next call."""
        i = at - self._start
        if i < 0 or i + size > len(self._data):
            self._fh.seek(at)
            got = self._fh.readinto(self._buffer)  # type: ignore[attr-defined]
            self._data, self._start, i = self._buffer[:got], at, 0
        return self._data[i : i + size]


class GzipMember:
    """The gzip member at offset ``at``: first its first bytes (:meth:`head`), then its end
    (:meth:`end`). Raises InflateError when it does not inflate, Cut when the file ends
    inside it."""

    def __init__(self, window: Window, at: int) -> None:
        self._window = window
        self._inflater = isal_zlib.decompressobj(wbits=_GZIP)
        self._pos = at  # the compressed offset of the next piece
        self.length = 0  # decompressed bytes so far
        self._tail = b""  # the last four of them

    def head(self, keep: int) -> bytes:
        """The member's first decompressed bytes: at least ``keep`` of them (all when it is
        shorter), at most ``keep`` and one more piece."""
        out: list[bytes] = []
        have = 0
        while have < keep and not self._inflater.eof:
            for data in self._inflate():
                if have < keep:
                    out.append(data)
                    have += len(data)
        return out[0] if len(out) == 1 else b"".join(out)

    def end(self, length: int) -> int | None:
        """The compressed offset where the member ends, when it holds exactly ``length``
        bytes ending in CRLF CRLF (one record); else None, as soon as that is known."""
        while not self._inflater.eof and self.length <= length:
            self._inflate()
        if self.length != length or self._tail != b"\r\n\r\n":
            return None
        return self._pos

    def _inflate(self) -> list[bytes]:
        """The output of the next compressed piece, in parts of at most ``_OUT`` bytes."""
        inflater = self._inflater
        piece = self._window.piece(self._pos, _PIECE)
        data = inflater.decompress(piece, _OUT)
        out = [data]
        while len(data) == _OUT and not inflater.eof:  # more may be waiting
            data = inflater.decompress(inflater.unconsumed_tail, _OUT)
            out.append(data)
        if not piece and not inflater.eof:
            raise Cut(f"the file ends inside the gzip member before offset {self._pos}")
        self._pos += len(piece) - len(inflater.unused_data)
        for data in out:
            self.length += len(data)
            self._tail = data[-4:] if len(data) >= 4 else (self._tail + data)[-4:]
        return out


def record_head(offset: int, data: bytes, prefix_bytes: int) -> tuple[Head, int] | None:
    """(the record's Head, the record's length with its CRLF CRLF) from the first bytes of a
    member, or None when FastWARC should read it (see the module's docstring)."""
    if not data.startswith(_WARC_VERSIONS):
        return None
    block = data.find(b"\r\n\r\n", 0, MAX_HEADER) + 4
    if block < 4:
        return None
    lines = data[10 : block - 4]
    warc = _fields(lines, unique=True)
    if warc is None:
        return None
    length = warc.get("content-length", "")
    if not length.isdigit():
        return None
    content_type = warc.get("content-type", "")
    is_http = _HTTP in content_type.lower()
    if is_http and not _plain_http(lines, content_type):
        return None
    size = int(length)
    status: int | None = None
    http: dict[str, str] = {}
    prefix = b""
    if is_http:
        parsed = _http(data, block, block + size, warc.get("warc-type", ""))
        if parsed is None:
            return None
        status, http, payload = parsed
        if prefix_bytes:
            prefix = data[payload : min(payload + prefix_bytes, block + size)]
    media, charset = media_type_of(http.get("content-type"))
    head = Head(
        offset=offset,
        type=warc.get("warc-type", "").lower(),
        url=warc.get("warc-target-uri", "").strip("<>") or None,
        date=date_of(warc.get("warc-date")),
        record_id=warc.get("warc-record-id"),
        truncated=warc.get("warc-truncated"),
        is_http=is_http,
        status=status,
        media_type=media,
        charset=charset,
        content_encoding=http.get("content-encoding", "").lower(),
        transfer_encoding=http.get("transfer-encoding", "").lower(),
        content_language=http.get("content-language", ""),
        prefix=prefix,
    )
    return head, block + size + 4


def _plain_http(lines: bytes, content_type: str) -> bool:
    """FastWARC takes a record for HTTP when its header is spelt ``Content-Type`` and its
    value is ``application/http``, alone or followed by ``;``; anything near that (another
    spelling, case or spacing) is left to it to judge."""
    plain = content_type == _HTTP or content_type.startswith(_HTTP + ";")
    return plain and (lines.startswith(b"Content-Type:") or b"\r\nContent-Type:" in lines)


def _http(
    data: bytes, start: int, end: int, kind: str
) -> tuple[int | None, dict[str, str], int] | None:
    """(status, the first value of each header by lower-case name, payload offset) of the
    HTTP message in ``data[start:end]``; None when it is not plain."""
    stop = data.find(b"\r\n\r\n", start, min(end, start + MAX_HEADER))
    if stop < 0:
        return None
    line, _, rest = data[start:stop].partition(b"\r\n")
    parts = line.split(b" ", 2)
    status: int | None = None
    if parts[0].startswith(b"HTTP/"):
        if len(parts) < 2 or len(parts[1]) != 3 or not parts[1].isdigit():
            return None
        status = int(parts[1])
    elif kind != "request":
        return None
    headers = _fields(rest, unique=False) if rest else {}
    if headers is None:
        return None
    return status, headers, stop + 4


def _fields(lines: bytes, *, unique: bool) -> dict[str, str] | None:
    """Header fields by lower-case name, first value kept; None unless every line is a
    ``Name: value`` of printable ASCII (and tabs) ended by CRLF, and, with ``unique``, no
    name comes twice."""
    crlf = lines.count(b"\r\n")
    if lines.translate(None, _PRINTABLE) != b"\r\n" * crlf:
        return None
    out: dict[str, str] = {}
    rows = lines.decode("ascii").split("\r\n")
    for row in rows:  # the scan's costliest Python loop: kept to the fewest steps a row
        name, colon, value = row.partition(":")
        # Only spaces and tabs can be stripped from printable ASCII.
        if not colon or not name or name != name.strip():
            return None
        key = name.lower()
        if key not in out:
            out[key] = value.strip()
    if unique and len(out) != len(rows):
        return None
    return out
