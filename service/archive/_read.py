"""One WARC record, read again by its offset, as the pipeline's :class:`Fetched`.

The payload is what the server sent, so it may still carry its transfer coding (chunked)
and its content coding (gzip, deflate, brotli): both are undone here, in bounded pieces,
with the same decoder live fetches use. A record that is cut short (``WARC-Truncated``, or
a file that ends inside it), that does not inflate, or whose codings cannot be undone, is an
:class:`IngestError` with a reason that names it: a dead letter, never a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastwarc.warc import ArchiveIterator

from ..errors import FetchError, IngestError, SourceError
from ..fetch import FetchPolicy, check_file
from ..fetch._decompress import _decoder_for
from ..fetch._policy import HTML_TYPES, TEXT_TYPES
from ..normalise import canonical_url
from ..records import Fetched, Source
from ._head import media_type_of, warc_date
from ._scan import READ_ERRORS, open_warc

# HTTP response headers larger than this are not a response we can use.
MAX_HTTP_HEADER = 64 * 1024


def read_record(source: Source, policy: FetchPolicy, roots: Sequence[Path] | None) -> Fetched:
    """The record ``source.warc`` names, decoded, as if it had just been fetched."""
    origin = source.warc
    if origin is None:
        raise SourceError(f"{source.location}: a warc source without file and offset")
    check_file(origin.file, roots)
    fh, _fmt = open_warc(origin.file)
    with fh:
        fh.seek(origin.offset)
        try:
            rec = next(iter(ArchiveIterator(fh, parse_http=False, auto_decode="none")), None)
            if rec is None or int(rec.stream_pos) != origin.offset:
                raise SourceError(
                    f"{origin.file}: no WARC record at offset {origin.offset}",
                    reason="warc_no_record",
                )
            headers = rec.headers
            declared = int(rec.content_length)
            limit = policy.max_bytes + MAX_HTTP_HEADER
            if declared > limit:
                raise FetchError(
                    f"{where(source)}: the record holds {declared} bytes, over the "
                    f"{policy.max_bytes}-byte limit (fetch_max_bytes)",
                    reason="too_large",
                )
            block = rec.reader.read(declared)
        except READ_ERRORS as exc:
            raise FetchError(
                f"{where(source)}: the record cannot be read: {type(exc).__name__}: {exc}",
                reason="warc_corrupt",
            ) from exc
    truncated = headers.get("WARC-Truncated")
    if truncated:
        raise FetchError(
            f"{where(source)}: the archive kept only part of this response "
            f"(WARC-Truncated: {truncated}); fetch the URL live for the whole page",
            reason="warc_truncated",
        )
    if len(block) < declared:
        raise FetchError(
            f"{where(source)}: the file ends inside this record ({len(block)} of {declared} "
            "bytes); the WARC file was cut short",
            reason="warc_truncated",
        )
    status, http, payload = split_http(block, where(source))
    if status != 200:
        raise FetchError(f"{where(source)}: HTTP {status} in the archive", reason=f"http_{status}")
    media, charset = media_type_of(http.get("content-type"))
    if media not in HTML_TYPES | TEXT_TYPES:
        raise FetchError(
            f"{where(source)}: the archived response is {media or 'untyped'}, not HTML or text",
            reason="unsupported_type",
        )
    if "chunked" in http.get("transfer-encoding", "").lower():
        payload = dechunk(payload, policy.max_bytes, where(source))
    body = decode_content(payload, http.get("content-encoding", ""), policy, where(source))
    return Fetched(
        source=source,
        body=body,
        media_type="html" if media in HTML_TYPES else "text",
        charset=charset,
        final_url=canonical_url(source.location) or source.location,
        fetched_at=warc_date(headers.get("WARC-Date")) or "1970-01-01T00:00:00Z",
        headers=http,
        status=status,
    )


def where(source: Source) -> str:
    origin = source.warc
    at = f"{origin.file}@{origin.offset}" if origin is not None else "?"
    return f"{source.location} ({at})"


def split_http(block: bytes, where: str) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, payload) of an HTTP response block."""
    end = block.find(b"\r\n\r\n", 0, MAX_HTTP_HEADER)
    sep = 4
    if end < 0:
        end, sep = block.find(b"\n\n", 0, MAX_HTTP_HEADER), 2
    if end < 0:
        raise FetchError(f"{where}: no HTTP response header in the record", reason="warc_no_http")
    lines = block[:end].decode("latin-1").replace("\r\n", "\n").split("\n")
    parts = lines[0].split(None, 2)
    if len(parts) < 2 or not parts[0].upper().startswith("HTTP/") or not parts[1].isdigit():
        raise FetchError(
            f"{where}: not an HTTP response: {lines[0][:100]!r}", reason="warc_no_http"
        )
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon and name.strip():
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return int(parts[1]), headers, block[end + sep :]


def dechunk(data: bytes, cap: int, where: str) -> bytes:
    """The body of a chunked transfer coding (RFC 9112 7.1), at most ``cap`` bytes."""
    out: list[bytes] = []
    total = 0
    pos = 0
    while True:
        eol = data.find(b"\n", pos)
        if eol < 0:
            raise FetchError(f"{where}: chunked body without its last chunk", reason="bad_chunking")
        size_text = data[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise FetchError(
                f"{where}: bad chunk size {size_text[:20]!r} in a chunked body",
                reason="bad_chunking",
            ) from None
        pos = eol + 1
        if size == 0:
            return b"".join(out)
        if pos + size > len(data):
            raise FetchError(f"{where}: a chunk runs past the record's end", reason="bad_chunking")
        total += size
        if total > cap:
            raise FetchError(
                f"{where}: the chunked body is over the {cap}-byte limit (fetch_max_bytes)",
                reason="too_large",
            )
        out.append(data[pos : pos + size])
        pos += size
        if data[pos : pos + 2] == b"\r\n":
            pos += 2
        elif data[pos : pos + 1] == b"\n":
            pos += 1


def decode_content(payload: bytes, encoding: str, policy: FetchPolicy, where: str) -> bytes:
    """Undo the Content-Encoding with the bounded decoder of live fetches."""
    names = [n.strip().lower() for n in encoding.split(",") if n.strip()]
    if not [n for n in names if n != "identity"]:
        return payload
    decoder = _decoder_for(encoding, where)
    cap = policy.decompressed_cap
    out: list[bytes] = []
    total = 0
    try:
        for pieces in (decoder.feed(payload), decoder.flush()):
            for piece in pieces:
                total += len(piece)
                if total > cap:
                    raise FetchError(
                        f"{where}: the {encoding} body decompresses to more than {cap} bytes "
                        "(fetch_max_decompressed_bytes)",
                        reason="too_large",
                    )
                out.append(piece)
    except IngestError:
        raise
    except Exception as exc:  # zlib.error, brotli.error: the data, not our code
        raise FetchError(
            f"{where}: the body does not decode as {encoding}: {type(exc).__name__}: {exc}",
            reason="bad_encoding",
        ) from exc
    return b"".join(out)
