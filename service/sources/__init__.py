"""Feeds and sitemaps as sources of article URLs.

Sources are data: a registry in Redis (:mod:`._registry`), seeded from
``config/sources.toml`` (:mod:`._config`) and managed with `newsingest sources` and OPML
(:mod:`._opml`) while the service runs; beat reads it (workers/schedule.py). One poll
(:mod:`._poll`) is: a conditional GET of the feed or sitemap (ETag / Last-Modified plus a
body hash, because validators lie both ways), parse (:mod:`._parse`: feedparser for
RSS/Atom, JSON Feed by hand; lxml with entities and network off for sitemaps, sitemap
indexes and Google News sitemaps), the source's rules (:mod:`._rules`: tracker links
unwrapped, advertisements, ``max_age``, URL patterns, ``max_items``), canonicalise each
item's URL with :func:`service.normalise.canonical_url`, the canonicaliser the document id
comes from, and keep only items not seen before, or seen with a different
``updated``/``lastmod`` (:mod:`._state`). Items are marked seen only after they were handed
to ``enqueue``, so a crash between the two repeats an item (publishing is idempotent) and
never loses one. Each item carries its source's name and what the feed said about it
(``Source.feed``) into the document. :mod:`._health` records each scheduled poll's outcome:
back-off, one dead letter per failure episode, pause after repeated failures.
"""

from ._config import (
    KINDS,
    SourceConfig,
    configured_sources,
    find_source,
    load_sources,
    sources_path,
)
from ._discover import discover, feed_links, robots_sitemaps
from ._health import backoff, poll_registered, record_document
from ._opml import parse_opml, to_opml
from ._parse import Entry, Sitemap, parse_feed, parse_json_feed, parse_sitemap
from ._poll import PollResult, item_source, poll
from ._registry import Registry
from ._rules import is_advertisement, unwrap
from ._state import SeenStore, ValidatorStore

__all__ = [
    "KINDS",
    "Entry",
    "PollResult",
    "Registry",
    "SeenStore",
    "Sitemap",
    "SourceConfig",
    "ValidatorStore",
    "backoff",
    "configured_sources",
    "discover",
    "feed_links",
    "find_source",
    "is_advertisement",
    "item_source",
    "load_sources",
    "parse_feed",
    "parse_json_feed",
    "parse_opml",
    "parse_sitemap",
    "poll",
    "poll_registered",
    "record_document",
    "robots_sitemaps",
    "sources_path",
    "to_opml",
    "unwrap",
]
