"""What a fetch may do: its limits, and the content types each kind of fetch accepts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..settings import Settings

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain"})
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
        "application/xml",
        "text/xml",
    }
)
# Sitemaps may be published gzipped (sitemap.xml.gz) and served as a gzip file.
GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip"})

# RFC 9309 asks crawlers to parse at least 500 KiB of robots.txt; we read that much of it, on
# the wire and decompressed, and ignore the rest (the connection is closed, not drained).
ROBOTS_MAX_BYTES = 512 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    connect_timeout: float
    read_timeout: float
    deadline: float
    max_bytes: int
    max_redirects: int
    user_agent: str
    allow: tuple[str, ...] = ()
    # 0: the same as max_bytes.
    max_decompressed_bytes: int = 0
    # Longest wait for a turn at a host (politeness) before giving the fetch back for a retry.
    host_max_wait: float = 30.0
    # A server's Retry-After is clamped to this many seconds.
    retry_after_max: float = 3600.0

    @property
    def decompressed_cap(self) -> int:
        return self.max_decompressed_bytes or self.max_bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        return cls(
            connect_timeout=settings.fetch_connect_timeout,
            read_timeout=settings.fetch_read_timeout,
            deadline=settings.fetch_deadline,
            max_bytes=settings.fetch_max_bytes,
            max_redirects=settings.fetch_max_redirects,
            user_agent=settings.user_agent,
            allow=tuple(x.strip() for x in settings.fetch_allow.split(",") if x.strip()),
            max_decompressed_bytes=settings.fetch_max_decompressed_bytes,
            host_max_wait=settings.fetch_host_max_wait,
            retry_after_max=float(settings.fetch_retry_after_max),
        )
