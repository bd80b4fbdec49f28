"""WARC files for tests and benchmarks, written with FastWARC (the library the service reads
them with): HTTP response records made from the shared corpus's pages, one gzip member per
record as Common Crawl writes them, plus the odd records a real crawl holds."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from fastwarc.stream_io import GzipWriter
from fastwarc.warc import WarcRecord, WarcRecordType

from .harness import EXTRACTION

_TYPES = {
    "response": WarcRecordType.response,
    "request": WarcRecordType.request,
    "revisit": WarcRecordType.revisit,
    "warcinfo": WarcRecordType.warcinfo,
    "metadata": WarcRecordType.metadata,
}


@dataclass
class Record:
    """One record to write: an HTTP response unless ``http`` is False."""

    url: str
    body: bytes
    date: str = "2024-03-01T12:00:00Z"
    status: int = 200
    content_type: str = "text/html"
    http_headers: Sequence[tuple[str, str]] = ()
    warc_headers: Sequence[tuple[str, str]] = ()
    kind: str = "response"
    http: bool = True
    raw_block: bytes | None = None  # the record's whole block as given (tests of bad records)
    extra: dict[str, str] = field(default_factory=dict)

    def block(self) -> bytes:
        if self.raw_block is not None:
            return self.raw_block
        if not self.http:
            return self.body
        reason = {200: "OK", 404: "Not Found", 301: "Moved Permanently"}.get(self.status, "X")
        lines = [f"HTTP/1.1 {self.status} {reason}", f"Content-Type: {self.content_type}"]
        names = {name.lower() for name, _ in self.http_headers}
        if "content-length" not in names and "transfer-encoding" not in names:
            lines.append(f"Content-Length: {len(self.body)}")
        lines += [f"{name}: {value}" for name, value in self.http_headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


def _warc_record(item: Record) -> WarcRecord:
    rec = WarcRecord()
    rec.init_headers(_TYPES[item.kind])
    rec.headers["WARC-Date"] = item.date
    rec.headers["WARC-Target-URI"] = item.url
    if item.http:
        rec.headers["Content-Type"] = "application/http; msgtype=response"
    for name, value in item.warc_headers:
        rec.headers[name] = value
    rec.set_bytes_content(item.block())
    return rec


def write_warc(path: Path, records: Iterable[Record], *, gzip: bool = True) -> list[int]:
    """Write ``records`` to ``path`` (a gzip member each, or plain); their offsets."""
    offsets: list[int] = []
    with path.open("wb") as fh:
        out: IO[bytes] | GzipWriter = GzipWriter(fh) if gzip else fh
        for item in records:
            offsets.append(fh.tell())
            _warc_record(item).write(out)
            if isinstance(out, GzipWriter):
                out.finish()
        if isinstance(out, GzipWriter):
            out.close()
    return offsets


@dataclass(frozen=True)
class Page:
    path: Path
    lang: str


def corpus_pages(languages: Iterable[str] | None = None) -> list[Page]:
    """The extraction corpus's pages (optionally only these languages), in index order."""
    wanted = set(languages) if languages is not None else None
    out = []
    with (EXTRACTION / "index.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            entry = json.loads(line)
            if wanted is None or entry["lang"] in wanted:
                out.append(Page(EXTRACTION / entry["html"], str(entry["lang"])))
    return out
