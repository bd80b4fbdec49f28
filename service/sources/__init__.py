"""Feeds and sitemaps as sources of article URLs.

``config/sources.toml`` lists what to poll (:mod:`._config`). One poll (:mod:`._poll`) is: a
conditional GET of the feed or sitemap (ETag / Last-Modified plus a body hash, because
validators lie both ways), parse (:mod:`._parse`: feedparser for RSS/Atom; lxml with entities
and network off for sitemaps, sitemap indexes and Google News sitemaps), canonicalise each
item's URL with :func:`service.normalise.canonical_url`, the canonicaliser the document id
comes from, so an article has one id however it arrives, and keep only items not seen before,
or seen with a different ``updated``/``lastmod`` (:mod:`._state`, in Redis). Items are marked
seen only after they were handed to ``enqueue``, so a crash between the two repeats an item
(publishing is idempotent) and never loses one.
"""

from ._config import (
    KINDS,
    SourceConfig,
    configured_sources,
    find_source,
    load_sources,
    sources_path,
)
from ._parse import Entry, Sitemap, parse_feed, parse_sitemap
from ._poll import PollResult, poll
from ._state import SeenStore, ValidatorStore

__all__ = [
    "KINDS",
    "Entry",
    "PollResult",
    "SeenStore",
    "Sitemap",
    "SourceConfig",
    "ValidatorStore",
    "configured_sources",
    "find_source",
    "load_sources",
    "parse_feed",
    "parse_sitemap",
    "poll",
    "sources_path",
]
