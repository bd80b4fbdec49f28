"""Local files: a path named on the command line, read boundedly and without blocking.

Work from the queue (a file source that a worker reads) is confined to the configured
``file_roots``, checked on the path with its symlinks resolved, so that whoever can put a
task on the queue cannot make a worker publish ``/etc/passwd`` or a key from a home
directory; ``newsingest process`` reads whatever its user names (``roots=None``). Anything
but a regular file (a directory, a FIFO, a device, a socket) is refused from its ``stat``,
before it is opened, so that ``/dev/zero`` is not read forever and a FIFO does not block;
the open itself is non-blocking and checked again, in case the path changed in between.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import SourceError
from ..records import Fetched, Source, utc_now

_HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
_TEXT_SUFFIXES = {".txt", ".text", ".md"}
_CHUNK = 1 << 20
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def source_from_arg(arg: str) -> Source:
    """Interpret a CLI argument: an http(s) URL, else a local path (made absolute, its
    symlinks resolved where they resolve; a loop is left for :func:`read_file` to report)."""
    try:
        scheme = urlsplit(arg).scheme.lower()
    except ValueError as exc:
        raise SourceError(f"not a URL or a path: {arg!r} ({exc})") from None
    if scheme in {"http", "https"}:
        return Source("url", arg)
    if scheme and len(scheme) > 1:
        raise SourceError(f"unsupported URL scheme {scheme!r} in {arg!r}: only http(s) and files")
    return Source("file", os.path.realpath(_absolute(arg)))


def _absolute(location: str) -> str:
    if "\0" in location:
        raise SourceError(f"not a path: {location!r} holds a NUL character")
    return os.path.abspath(os.path.expanduser(location))


def _within(real: str, roots: Sequence[Path]) -> bool:
    for root in roots:
        base = os.path.realpath(root)
        if real == base or real.startswith(base.rstrip("/") + "/"):
            return True
    return False


def _outside(path: str, real: str, roots: Sequence[Path]) -> SourceError:
    shown = path if real == path else f"{path} (= {real})"
    allowed = ":".join(str(r) for r in roots) or "none"
    return SourceError(
        f"{shown} is outside the directories files are read from (file_roots: {allowed}); "
        "add its directory to NEWSINGEST_FILE_ROOTS (':'-separated) for the workers and submit",
        reason="outside_file_roots",
    )


def _os_error(path: str, exc: OSError) -> SourceError:
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return SourceError(f"file not found: {path}", reason="file_not_found")
    if exc.errno == errno.ELOOP:
        return SourceError(f"{path} is a symlink loop", reason="symlink_loop")
    return SourceError(f"cannot read {path}: {exc.strerror}", reason="file_unreadable")


def _regular(path: str, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a file")
        raise SourceError(f"{path} is {kind}, not a regular file", reason="not_a_file")


def check_file(location: str, roots: Sequence[Path] | None = None) -> os.stat_result:
    """The ``stat`` of the regular file at ``location`` if it may be read, without opening
    it; otherwise a SourceError whose reason says why not (``outside_file_roots``,
    ``file_not_found``, ``symlink_loop``, ``not_a_file``, ``file_unreadable``).

    ``roots``: the directories it must lie in once its symlinks are resolved; None: any.
    The roots are checked first, so nothing is said about files outside them."""
    path = _absolute(location)
    if roots is not None:
        real = os.path.realpath(path)
        if not _within(real, roots):
            raise _outside(path, real, roots)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise _os_error(path, exc) from None
    _regular(path, st)
    return st


def read_file(source: Source, max_bytes: int, *, roots: Sequence[Path] | None = None) -> Fetched:
    """Read a local HTML or plain-text file, refusing ones over ``max_bytes``.

    ``roots``: for work from the queue, the directories the file must lie in (symlinks
    resolved; ``settings.file_root_paths``); None when the user named the file themselves.
    """
    st = check_file(source.location, roots)
    path = _absolute(source.location)
    if st.st_size > max_bytes:
        raise _too_large(path, str(st.st_size), max_bytes)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise _os_error(path, exc) from None
    try:
        _regular(path, os.fstat(fd))
        if roots is not None:
            real = _opened_path(fd, path)
            if not _within(real, roots):
                raise _outside(path, real, roots)
        body = _read_at_most(fd, max_bytes + 1, path)
    finally:
        os.close(fd)
    if len(body) > max_bytes:  # it grew after the stat
        raise _too_large(path, f"more than {max_bytes}", max_bytes)
    suffix = Path(path).suffix.lower()
    if suffix in _HTML_SUFFIXES:
        media = "html"
    elif suffix in _TEXT_SUFFIXES:
        media = "text"
    else:
        media = "html" if body.lstrip()[:1] == b"<" else "text"
    return Fetched(source, body, media, None, None, utc_now())


def _opened_path(fd: int, path: str) -> str:
    """The path of what was actually opened (Linux), so a symlink swapped in after the
    check cannot lead outside the roots; elsewhere the path resolved again."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(path)


def _read_at_most(fd: int, limit: int, path: str) -> bytes:
    chunks: list[bytes] = []
    total = 0
    try:
        while total < limit:
            chunk = os.read(fd, min(_CHUNK, limit - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise _os_error(path, exc) from None
    return b"".join(chunks)


def _too_large(path: str, size: str, max_bytes: int) -> SourceError:
    return SourceError(
        f"{path} is {size} bytes, over the {max_bytes}-byte limit (file_max_bytes)",
        reason="too_large",
    )
