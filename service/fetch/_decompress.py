"""Bounded decompression: decoders that hand out at most ``_PIECE`` bytes at a time, so a gzip
or brotli bomb stops at the cap instead of filling memory."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from ..errors import FetchError

# Decompression hands out at most this much at a time, so the caps are checked often.
_PIECE = 64 * 1024


def _load_brotli() -> Any:
    try:
        import brotli
    except ImportError:
        return None
    return brotli


_BROTLI: Any = _load_brotli()
ACCEPT_ENCODING = "gzip, deflate, br" if _BROTLI is not None else "gzip, deflate"


class _Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def flush(self) -> Iterator[bytes]: ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        yield data

    def flush(self) -> Iterator[bytes]:
        yield from ()


class _Zlib:
    """gzip (multi-member) or deflate (zlib-wrapped or raw), at most _PIECE bytes per step."""

    def __init__(self, gzip: bool) -> None:
        self.gzip = gzip
        self.started = False
        self.d = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self.started and data:
            self.started = True
            if not self.gzip:
                try:
                    zlib.decompressobj().decompress(data[:64], 1)
                except zlib.error:
                    self.d = zlib.decompressobj(-zlib.MAX_WBITS)
        buf = data
        while True:
            out = self.d.decompress(buf, _PIECE)
            if out:
                yield out
            buf = self.d.unconsumed_tail
            if self.gzip and self.d.eof and self.d.unused_data[:2] == b"\x1f\x8b":
                buf = self.d.unused_data
                self.d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                continue
            if not buf and len(out) < _PIECE:
                return

    def flush(self) -> Iterator[bytes]:
        out = self.d.flush()
        if out:
            yield out


class _Brotli:
    def __init__(self) -> None:
        self.d = _BROTLI.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        out = self.d.process(data, output_buffer_limit=_PIECE)
        if out:
            yield out
        while not self.d.can_accept_more_data():
            out = self.d.process(b"", output_buffer_limit=_PIECE)
            if not out:
                return
            yield out

    def flush(self) -> Iterator[bytes]:
        yield from ()


class _Chain:
    """Content-Encoding: a, b means a was applied first, so b is undone first."""

    def __init__(self, decoders: list[_Decoder]) -> None:
        self.decoders = decoders

    def _through(self, pieces: Iterable[bytes], index: int) -> Iterator[bytes]:
        if index == len(self.decoders):
            yield from pieces
            return
        decoder = self.decoders[index]
        for piece in pieces:
            yield from self._through(decoder.feed(piece), index + 1)

    def feed(self, data: bytes) -> Iterator[bytes]:
        yield from self._through([data], 0)

    def flush(self) -> Iterator[bytes]:
        for index, decoder in enumerate(self.decoders):
            yield from self._through(decoder.flush(), index + 1)


def _decoder_for(content_encoding: str, url: str) -> _Decoder:
    names = [n.strip().lower() for n in content_encoding.split(",")]
    names = [n for n in names if n and n != "identity"]
    decoders: list[_Decoder] = []
    for name in reversed(names):
        if name in {"gzip", "x-gzip"}:
            decoders.append(_Zlib(gzip=True))
        elif name == "deflate":
            decoders.append(_Zlib(gzip=False))
        elif name == "br" and _BROTLI is not None:
            decoders.append(_Brotli())
        else:
            raise FetchError(
                f"{url} sent Content-Encoding {content_encoding!r}, which we do not decode",
                reason="unsupported_encoding",
            )
    if len(decoders) > 2:
        raise FetchError(f"{url} stacks {len(decoders)} encodings", reason="unsupported_encoding")
    if not decoders:
        return _Identity()
    return decoders[0] if len(decoders) == 1 else _Chain(decoders)


def _gunzip(body: bytes, cap: int, url: str) -> bytes:
    out: list[bytes] = []
    total = 0
    decoder = _Zlib(gzip=True)
    try:
        for piece in _concat(decoder.feed(body), decoder.flush()):
            total += len(piece)
            if total > cap:
                raise FetchError(
                    f"{url} decompresses to more than {cap} bytes (fetch_max_decompressed_bytes)",
                    reason="too_large",
                )
            out.append(piece)
    except zlib.error as exc:
        raise FetchError(f"{url}: corrupt gzip file: {exc}", reason="bad_encoding") from exc
    return b"".join(out)


def _concat(*parts: Iterator[bytes]) -> Iterator[bytes]:
    for part in parts:
        yield from part
