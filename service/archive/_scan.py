"""Reading a WARC file record by record, from any record's offset.

:func:`scan` gives the :class:`Head` of each record: its WARC and HTTP headers and the
first bytes of its payload, which is all the prefilters need; the file is streamed, never
held. A .warc.gz is inflated member by member with ISA-L (``_members``), and FastWARC reads
every record that is not plain, and every uncompressed file. A corrupt gzip member or an
unparseable record comes out as a :class:`Broken` with a reason, and the scan finds the
next good record and goes on: one bad record never ends a file, let alone a worker.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Generator, Iterator
from typing import IO, Any

from fastwarc.warc import ArchiveIterator

from ..errors import SourceError
from ._detect import GZIP, GZIP_MAGIC, PLAIN_MAGIC, is_gzip_member_start, warc_format
from ._head import Broken, Head, date_of, media_type_of
from ._members import MAX_HEADER, Cut, GzipMember, InflateError, Window, record_head

# What FastWARC raises for a record it cannot read (bad gzip data, a bad header).
READ_ERRORS = (OSError, ValueError, UnicodeError)
_WINDOW = 1 << 20


def head_of(rec: Any, prefix_bytes: int) -> Head:
    """The :class:`Head` of a FastWARC record parsed with ``parse_http=True``."""
    h = rec.headers
    status = None
    media, charset = "", None
    encoding = transfer = language = ""
    prefix = b""
    is_http = bool(rec.is_http)
    if is_http:
        hh = rec.http_headers
        status = hh.status_code
        media, charset = media_type_of(hh.get("Content-Type"))
        encoding = (hh.get("Content-Encoding") or "").strip().lower()
        transfer = (hh.get("Transfer-Encoding") or "").strip().lower()
        language = hh.get("Content-Language") or ""
        if prefix_bytes:
            prefix = rec.reader.read(prefix_bytes)
    return Head(
        offset=int(rec.stream_pos),
        type=str(h.get("WARC-Type") or "").strip().lower(),
        url=(h.get("WARC-Target-URI") or "").strip().strip("<>") or None,
        date=date_of(h.get("WARC-Date")),
        record_id=h.get("WARC-Record-ID"),
        truncated=h.get("WARC-Truncated"),
        is_http=is_http,
        status=status,
        media_type=media,
        charset=charset,
        content_encoding=encoding,
        transfer_encoding=transfer,
        content_language=language,
        prefix=prefix,
    )


def open_warc(path: str) -> tuple[IO[bytes], str]:
    """The file, unbuffered (FastWARC buffers itself), and its format; a SourceError when it
    is not a WARC."""
    fmt = warc_format(path)
    if fmt is None:
        raise SourceError(
            f"{path} is not a WARC file: it starts neither with 'WARC/1.' nor with a gzip "
            "member holding a WARC record",
            reason="not_warc",
        )
    return open(path, "rb", buffering=0), fmt


def scan(path: str, start: int = 0, *, prefix_bytes: int = 0) -> Iterator[Head | Broken]:
    """Every record from the one at byte ``start`` (0 or a record's offset) to the end.

    Offsets must grow from record to record: a .warc.gz compressed as one gzip stream
    (rather than a member per record) cannot be split or resumed and is refused as
    ``warc_not_seekable``.
    """
    fh, fmt = open_warc(path)
    with fh:
        size = os.fstat(fh.fileno()).st_size
        if fmt == GZIP:
            yield from _by_member(fh, path, size, start, prefix_bytes)
        else:
            yield from _by_library(fh, path, fmt, size, start, prefix_bytes)


def _by_member(
    fh: IO[bytes], path: str, size: int, start: int, prefix_bytes: int
) -> Iterator[Head | Broken]:
    """A .warc.gz a member at a time. A member that does not inflate is a broken record; one
    that is not a single plain record (see ``_members``) goes to FastWARC, which reads on
    from it to the next record after it: the same records, offsets and reasons as FastWARC
    alone gives (tests/test_warc.py compares them)."""
    window = Window(fh)
    keep = 2 * MAX_HEADER + 8 + prefix_bytes  # both header blocks and the prefix
    pos = start
    while pos < size:
        member = GzipMember(window, pos)
        try:
            found = record_head(pos, member.head(keep), prefix_bytes)
            end = member.end(found[1]) if found is not None else None
        except InflateError as exc:
            yield _corrupt(pos, exc)
            pos = resync_gzip(fh, pos + 1, size)
            continue
        except Cut:
            found = end = None
        if found is None or end is None:
            pos = yield from _one_by_library(fh, path, size, pos, prefix_bytes)
            continue
        yield found[0]
        pos = end


def _one_by_library(
    fh: IO[bytes], path: str, size: int, pos: int, prefix_bytes: int
) -> Generator[Head | Broken, None, int]:
    """FastWARC's reading of the record at ``pos`` (or of why it is broken); returns the
    offset of the next record after it, or ``size``. When that record does not start a
    gzip member of its own (several records in one member), FastWARC reads on to the end."""
    for item in _by_library(fh, path, GZIP, size, pos, prefix_bytes):
        if item.offset > pos and _starts_member(fh, item.offset):
            return item.offset
        yield item
    return size


def _starts_member(fh: IO[bytes], at: int) -> bool:
    """A gzip member holding a WARC record starts at ``at`` (FastWARC's place in the file
    is kept)."""
    here = fh.tell()
    try:
        fh.seek(at)
        return is_gzip_member_start(fh.read(4096))
    finally:
        fh.seek(here)


def _by_library(
    fh: IO[bytes], path: str, fmt: str, size: int, start: int, prefix_bytes: int
) -> Iterator[Head | Broken]:
    """The file streamed through FastWARC from ``start``."""
    pos = start
    while pos < size:
        fh.seek(pos)
        pending: Head | None = None
        last = -1
        try:
            for rec in ArchiveIterator(fh, parse_http=True, auto_decode="none"):
                head = head_of(rec, prefix_bytes)
                if head.offset <= last:
                    raise SourceError(
                        f"{path}: records do not start at distinct offsets (one gzip "
                        "stream for the whole file?); recompress it with a gzip member "
                        "per record (`warcio recompress`)",
                        reason="warc_not_seekable",
                    )
                last = head.offset
                if pending is not None:
                    yield pending
                pending = head
        except READ_ERRORS as exc:
            recover = _recover_gzip if fmt == GZIP else _recover_plain
            good, broken, resume = recover(fh, pending, pos, size, exc)
            if good is not None:
                yield good
            yield broken
            pos = max(resume, pos + 1)
            continue
        if pending is not None:
            yield pending
        return


# ---- after a read error ------------------------------------------------------------------


def _recover_gzip(
    fh: IO[bytes], pending: Head | None, pos: int, size: int, exc: BaseException
) -> tuple[Head | None, Broken, int]:
    """Which member is bad, and where the next good one starts. The record last read
    (``pending``) is only good if its own member inflates to the end."""
    at = pending.offset if pending is not None else pos
    end = member_end(fh, at)
    if end is None:
        return None, _corrupt(at, exc), resync_gzip(fh, at + 1, size)
    if pending is None:  # the member inflates: its record is what FastWARC could not read
        return None, Broken(at, "warc_unparseable", _say(exc)), end
    if end >= size:
        return pending, Broken(at, "warc_unparseable", _say(exc)), size
    after = member_end(fh, end)
    if after is None:
        return pending, _corrupt(end, exc), resync_gzip(fh, end + 1, size)
    return pending, Broken(end, "warc_unparseable", _say(exc)), after


def _recover_plain(
    fh: IO[bytes], pending: Head | None, pos: int, size: int, exc: BaseException
) -> tuple[Head | None, Broken, int]:
    """An uncompressed file has no member boundaries: the next record is the next
    ``WARC/1.`` that parses. When that comes right after the record last read, its own
    length was wrong, so it is the broken one."""
    base = pending.offset if pending is not None else pos
    candidate = _find(fh, PLAIN_MAGIC, base + 1, size)
    bad: int | None = None
    while candidate < size and not _parses(fh, candidate):
        bad = candidate if bad is None else bad
        candidate = _find(fh, PLAIN_MAGIC, candidate + 1, size)
    if bad is None:
        return None, Broken(base, "warc_unparseable", _say(exc)), candidate
    return pending, Broken(bad, "warc_unparseable", _say(exc)), candidate


def member_end(fh: IO[bytes], at: int) -> int | None:
    """Where the gzip member starting at ``at`` ends, or None when it does not inflate
    (corrupt, or cut short by the end of the file). Inflates in bounded pieces."""
    fh.seek(at)
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    fed = 0
    try:
        while not d.eof:
            chunk = fh.read(_WINDOW)
            if not chunk:
                return None
            fed += len(chunk)
            buf = chunk
            while buf and not d.eof:
                d.decompress(buf, _WINDOW)
                buf = d.unconsumed_tail
    except zlib.error:
        return None
    return at + fed - len(d.unused_data)


def resync_gzip(fh: IO[bytes], start: int, size: int) -> int:
    """The offset of the next gzip member at or after ``start`` that holds a WARC record,
    or ``size``."""
    at = start
    while at < size:
        at = _find(fh, GZIP_MAGIC, at, size)
        if at >= size:
            return size
        fh.seek(at)
        if is_gzip_member_start(fh.read(4096)):
            return at
        at += 1
    return size


def _find(fh: IO[bytes], needle: bytes, start: int, size: int) -> int:
    """The first offset of ``needle`` at or after ``start``, or ``size``; reads in windows."""
    at = start
    while at < size:
        fh.seek(at)
        window = fh.read(_WINDOW + len(needle))
        if not window:
            return size
        hit = window.find(needle)
        if hit >= 0:
            return at + hit
        at += _WINDOW
    return size


def _parses(fh: IO[bytes], at: int) -> bool:
    fh.seek(at)
    try:
        rec = next(iter(ArchiveIterator(fh, parse_http=True, auto_decode="none")))
    except (StopIteration, *READ_ERRORS):
        return False
    return int(rec.stream_pos) == at


def _corrupt(at: int, exc: BaseException) -> Broken:
    return Broken(at, "warc_corrupt", f"corrupt gzip member: {_say(exc)}")


def _say(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
