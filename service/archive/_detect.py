"""Is this file a WARC? Told by its first bytes, never by its name: a gzip member whose
content starts with ``WARC/`` (a .warc.gz, one member per record), or plain ``WARC/1.``."""

from __future__ import annotations

import os
import stat
import zlib

GZIP_MAGIC = b"\x1f\x8b\x08"
PLAIN_MAGIC = b"WARC/1."
# Enough compressed bytes for the first few decompressed ones of any sane gzip header
# (the optional FNAME/FEXTRA/FCOMMENT fields come first).
_HEAD = 64 * 1024

GZIP = "gzip"
PLAIN = "plain"


def warc_format_of(head: bytes) -> str | None:
    """``gzip`` or ``plain`` for the first bytes of a WARC file, else None."""
    if head.startswith(PLAIN_MAGIC):
        return PLAIN
    if head.startswith(GZIP_MAGIC):
        try:
            out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 16)
        except zlib.error:
            return None
        return GZIP if out.startswith(b"WARC/") else None
    return None


def warc_format(path: str | os.PathLike[str]) -> str | None:
    """``gzip`` or ``plain`` when the file at ``path`` is a WARC, else None (also when it
    cannot be read, or is no regular file: the caller's own checks name that). A FIFO or a
    device is never opened here: opening a FIFO waits for a writer, for ever."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as fh:
            return warc_format_of(fh.read(_HEAD))
    except OSError:
        return None


def is_gzip_member_start(head: bytes) -> bool:
    """``head`` (bytes from some offset) begins a gzip member holding a WARC record."""
    return head.startswith(GZIP_MAGIC) and warc_format_of(head) == GZIP
