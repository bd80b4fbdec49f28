"""``config/sources.toml``: which feeds and sitemaps to poll, read and checked once."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import SourceError
from ..settings import Settings

KINDS = frozenset({"rss", "atom", "feed", "sitemap"})
_KEYS = frozenset({"name", "url", "kind", "interval", "language", "host_delay"})


@dataclass(frozen=True)
class SourceConfig:
    """One entry of sources.toml."""

    name: str
    url: str
    kind: str  # rss | atom | feed (either) | sitemap (urlset, index or Google News)
    interval: float  # seconds between polls
    language: str | None = None  # hint passed to every item
    host_delay: float | None = None  # seconds between requests to this feed's host

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
        if self.language:
            out["language"] = self.language
        if self.host_delay:
            out["host_delay"] = self.host_delay
        return out


def sources_path(settings: Settings) -> Path:
    """``sources_file`` when set, else ``<config_dir>/sources.toml``."""
    if settings.sources_file:
        return Path(settings.sources_file).expanduser()
    return settings.config_dir / "sources.toml"


def _float(entry: dict[str, Any], key: str, where: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise SourceError(
            f"{where}: {key} must be a positive number of seconds, not {value!r}",
            reason="bad_sources_file",
        )
    return float(value)


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
        unknown = set(entry) - _KEYS
        if unknown:
            raise SourceError(f"{where}: unknown keys {sorted(unknown)}", reason="bad_sources_file")
        name = str(entry.get("name") or "").strip()
        url = str(entry.get("url") or "").strip()
        kind = str(entry.get("kind") or "").strip().lower()
        if not name or not url:
            raise SourceError(f"{where} needs a name and a url", reason="bad_sources_file")
        if name in names:
            raise SourceError(f"{where}: duplicate name {name!r}", reason="bad_sources_file")
        if urlsplit(url).scheme.lower() not in {"http", "https"}:
            raise SourceError(
                f"{where}: url must be http(s), not {url!r}", reason="bad_sources_file"
            )
        if kind not in KINDS:
            raise SourceError(
                f"{where}: kind must be one of {sorted(KINDS)}, not {kind!r}",
                reason="bad_sources_file",
            )
        interval = _float(entry, "interval", where)
        if interval is None:
            raise SourceError(f"{where} needs interval (seconds)", reason="bad_sources_file")
        language = entry.get("language")
        names.add(name)
        out.append(
            SourceConfig(
                name=name,
                url=url,
                kind=kind,
                interval=interval,
                language=str(language).strip().lower() if language else None,
                host_delay=_float(entry, "host_delay", where),
            )
        )
    return out


def configured_sources(settings: Settings) -> list[SourceConfig]:
    """The sources to poll: ``sources_file`` must exist when set; the default
    ``<config_dir>/sources.toml`` may be absent (nothing to poll)."""
    path = sources_path(settings)
    if not settings.sources_file and not path.exists():
        return []
    return load_sources(path)


def find_source(sources: Iterable[SourceConfig], name: str) -> SourceConfig:
    for source in sources:
        if source.name == name:
            return source
    raise SourceError(f"no source named {name!r} in the sources file", reason="unknown_source")
