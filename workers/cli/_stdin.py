"""Lines from stdin for `detect` and `translate`, read in bounded pieces: memory stays flat
whatever comes in (``/dev/zero``, a binary file), a line longer than ``stdin_max_line_chars``
is cut with a warning on stderr, and bytes that are not UTF-8 are replaced, not fatal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

_SKIP_CHUNK = 1 << 16
REPLACEMENT = "\ufffd"


def read_lines(stream: BinaryIO, max_chars: int, warn: Callable[[str], None]) -> Iterator[str]:
    """Each line of ``stream`` without its line ending, at most ``max_chars`` characters."""
    limit = 4 * max_chars + 2  # a character is at most 4 bytes in UTF-8; then "\r\n"
    number = 0
    while raw := stream.readline(limit):
        number += 1
        cut = not raw.endswith(b"\n") and len(raw) == limit
        text = raw.removesuffix(b"\n").removesuffix(b"\r").decode("utf-8", "replace")
        if cut or len(text) > max_chars:
            text = text[:max_chars]
            warn(
                f"newsingest: WARNING: stdin line {number} is longer than {max_chars} characters "
                "(stdin_max_line_chars); only its beginning is used"
            )
        yield text
        if cut:  # after the answer: the rest of the line may never end (/dev/zero)
            _skip_rest_of_line(stream)


def _skip_rest_of_line(stream: BinaryIO) -> None:
    while piece := stream.readline(_SKIP_CHUNK):
        if piece.endswith(b"\n"):
            return


def mostly_replaced(text: str) -> bool:
    """A line that was mostly not UTF-8 (binary, or another encoding): no language to find."""
    return text.count(REPLACEMENT) * 4 > len(text)
