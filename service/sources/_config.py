"""What a source is, checked once: from ``config/sources.toml`` (the seed of the registry),
from the command line, or from an OPML file."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import SourceError
from ..settings import Settings

KINDS = frozenset({"rss", "atom", "feed", "sitemap"})
SCOPES = ("full", "lead", "title")
_KEYS = frozenset(
    {"name", "url", "kind", "interval", "language", "host_delay", "max_age", "max_items",
     "include", "exclude", "headers", "translate_scope"}
)  # fmt: skip
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
# Headers the fetcher owns: a source may not change what it accepts or how it is encoded.
_OWN_HEADERS = frozenset({"accept", "accept-encoding", "if-none-match", "if-modified-since",
                          "content-length", "host", "transfer-encoding", "connection"})  # fmt: skip


@dataclass(frozen=True)
class SourceConfig:
    """One source: where to poll, how often, and its rules."""

    name: str
    url: str
    kind: str  # rss | atom | feed (any feed, or a sitemap found from the body) | sitemap
    interval: float  # seconds between polls
    language: str | None = None  # a prior for every item's detection, never a verdict
    host_delay: float | None = None  # seconds between requests to this feed's host
    max_age: float | None = None  # items dated longer ago than this (seconds) are skipped
    max_items: int | None = None  # at most this many new items per poll (the first listed)
    include: tuple[str, ...] = ()  # regular expressions: an item URL must match one
    exclude: tuple[str, ...] = ()  # regular expressions: an item URL matching one is skipped
    headers: tuple[tuple[str, str], ...] = ()  # extra request headers (a cookie, a token)
    translate_scope: str | None = None  # full | lead | title; else the translate_scope setting

    @property
    def is_sitemap(self) -> bool:
        return self.kind == "sitemap"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "url": self.url,
            "kind": self.kind,
            "interval": self.interval,
        }
        for key in ("language", "host_delay", "max_age", "max_items", "translate_scope"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        for key in ("include", "exclude"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        if self.headers:
            out["headers"] = dict(self.headers)
        return out

    @classmethod
    def from_dict(cls, entry: dict[str, Any], where: str = "source") -> SourceConfig:
        """Check one entry; every problem is a SourceError naming ``where``."""
        unknown = set(entry) - _KEYS
        if unknown:
            raise SourceError(f"{where}: unknown keys {sorted(unknown)}", reason="bad_source")
        name = str(entry.get("name") or "").strip()
        url = str(entry.get("url") or "").strip()
        kind = str(entry.get("kind") or "feed").strip().lower()
        if not name or not url:
            raise SourceError(f"{where} needs a name and a url", reason="bad_source")
        if not _NAME.fullmatch(name):
            raise SourceError(
                f"{where}: name {name!r} must be letters, digits, '.', '_' or '-' (at most 100)",
                reason="bad_source",
            )
        if urlsplit(url).scheme.lower() not in {"http", "https"}:
            raise SourceError(f"{where}: url must be http(s), not {url!r}", reason="bad_source")
        if kind not in KINDS:
            raise SourceError(
                f"{where}: kind must be one of {sorted(KINDS)}, not {kind!r}", reason="bad_source"
            )
        interval = _positive(entry, "interval", where)
        if interval is None:
            raise SourceError(f"{where} needs interval (seconds)", reason="bad_source")
        language = entry.get("language")
        max_items = _positive(entry, "max_items", where)
        scope = entry.get("translate_scope")
        if scope is not None and scope not in SCOPES:
            raise SourceError(
                f"{where}: translate_scope must be one of {list(SCOPES)}, not {scope!r}",
                reason="bad_source",
            )
        return cls(
            name=name,
            url=url,
            kind=kind,
            interval=interval,
            language=str(language).strip().lower() if language else None,
            host_delay=_positive(entry, "host_delay", where),
            max_age=_positive(entry, "max_age", where),
            max_items=int(max_items) if max_items else None,
            include=_patterns(entry, "include", where),
            exclude=_patterns(entry, "exclude", where),
            headers=_headers(entry.get("headers"), where),
            translate_scope=scope,
        )


def _positive(entry: dict[str, Any], key: str, where: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise SourceError(
            f"{where}: {key} must be a positive number, not {value!r}", reason="bad_source"
        )
    return float(value)


def _patterns(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        raise SourceError(f"{where}: {key} must be a list of patterns", reason="bad_source")
    for pattern in value:
        try:
            re.compile(str(pattern))
        except re.error as exc:
            raise SourceError(
                f"{where}: {key} pattern {pattern!r} is not a regular expression: {exc}",
                reason="bad_source",
            ) from exc
    return tuple(str(p) for p in value)


def _headers(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not value:
        return ()
    if not isinstance(value, dict):
        raise SourceError(f"{where}: headers must be a table of name = value", reason="bad_source")
    out = []
    for name, text in value.items():
        name, text = str(name).strip(), str(text).strip()
        if not _HEADER_NAME.fullmatch(name) or any(c in text for c in "\r\n\0"):
            raise SourceError(
                f"{where}: header {name!r} is not a valid header", reason="bad_source"
            )
        if name.lower() in _OWN_HEADERS:
            raise SourceError(
                f"{where}: header {name!r} is set by the fetcher, not per source",
                reason="bad_source",
            )
        out.append((name, text))
    return tuple(out)


def sources_path(settings: Settings) -> Path:
    """``sources_file`` when set, else ``<config_dir>/sources.toml``."""
    if settings.sources_file:
        return Path(settings.sources_file).expanduser()
    return settings.config_dir / "sources.toml"


def load_sources(path: Path) -> list[SourceConfig]:
    """Read and validate sources.toml; a missing ``sources`` list means nothing to poll."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SourceError(
            f"sources file {path} is missing; create it or set NEWSINGEST_SOURCES_FILE",
            reason="bad_sources_file",
        ) from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SourceError(
            f"cannot read sources file {path}: {exc}", reason="bad_sources_file"
        ) from exc
    entries = data.get("sources", [])
    if not isinstance(entries, list):
        raise SourceError(
            f"{path}: 'sources' must be an array of tables ([[sources]])", reason="bad_sources_file"
        )
    out: list[SourceConfig] = []
    names: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{path}: source #{index + 1}"
        if not isinstance(entry, dict):
            raise SourceError(f"{where} is not a table", reason="bad_sources_file")
        if "kind" not in entry:
            raise SourceError(f"{where} needs a kind", reason="bad_sources_file")
        try:
            config = SourceConfig.from_dict(entry, where)
        except SourceError as exc:
            raise SourceError(exc.message, reason="bad_sources_file") from None
        if config.name in names:
            raise SourceError(f"{where}: duplicate name {config.name!r}", reason="bad_sources_file")
        names.add(config.name)
        out.append(config)
    return out


def configured_sources(settings: Settings) -> list[SourceConfig]:
    """The sources of the seed file: ``sources_file`` must exist when set; the default
    ``<config_dir>/sources.toml`` may be absent (nothing to seed)."""
    path = sources_path(settings)
    if not settings.sources_file and not path.exists():
        return []
    return load_sources(path)


def find_source(sources: Iterable[SourceConfig], name: str) -> SourceConfig:
    for source in sources:
        if source.name == name:
            return source
    raise SourceError(f"no source named {name!r}", reason="unknown_source")
