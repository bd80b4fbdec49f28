"""`newsingest sources discover URL`: the feeds and sitemaps a site offers, as proposed
registry entries. Three places are looked at: the page's ``<link rel="alternate">`` feeds,
a few common feed paths, and the ``Sitemap:`` lines of robots.txt (else /sitemap.xml).
Every candidate is fetched and parsed, so a proposal is a feed that works today."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import lxml.html

from ..errors import IngestError
from ..fetch import ARTICLE, FEED, ROBOTS, FetchPolicy, Source, fetch_url, make_client
from ._opml import _slug
from ._parse import looks_like_sitemap, parse_feed, parse_sitemap

_FEED_LINK_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml",
     "application/feed+json", "application/json"}
)  # fmt: skip
COMMON_PATHS = ("/feed", "/rss", "/rss.xml", "/atom.xml", "/feed.xml", "/index.xml",
                "/feed.json", "/feeds/posts/default")  # fmt: skip
SITEMAP_PATHS = ("/sitemap.xml", "/sitemap_index.xml", "/news-sitemap.xml")


def feed_links(html: bytes, base: str) -> list[str]:
    """The feeds a page announces with ``<link rel="alternate" type="...">``, in order."""
    try:
        root = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    out: list[str] = []
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in _FEED_LINK_TYPES and href:
            url = urljoin(base, href)
            if url not in out:
                out.append(url)
    return out


def robots_sitemaps(body: bytes, base: str) -> list[str]:
    out: list[str] = []
    for line in body.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            url = urljoin(base, value.strip())
            if url not in out:
                out.append(url)
    return out


def _probe(url: str, policy: FetchPolicy, http: httpx.Client) -> dict[str, Any] | None:
    """What ``url`` holds when it is a feed or a sitemap that parses; else None."""
    try:
        got = fetch_url(Source("url", url), policy, http, accept=FEED)
        final = got.final_url or url
        if looks_like_sitemap(got.body):
            sitemap = parse_sitemap(got.body, final)
            return {"url": final, "kind": "sitemap", "items": len(sitemap.entries),
                    "sitemaps": len(sitemap.children)}  # fmt: skip
        entries = parse_feed(got.body, final, got.headers.get("content-type"))
    except IngestError:
        return None
    languages = sorted({e.language for e in entries if e.language})
    out: dict[str, Any] = {"url": final, "kind": "feed", "items": len(entries)}
    if len(languages) == 1:
        out["language"] = languages[0]
    return out


def discover(
    url: str, policy: FetchPolicy, client: httpx.Client | None = None, *, interval: float = 900.0
) -> list[dict[str, Any]]:
    """Proposed sources for the site of ``url``, each with ``via`` (link, path, robots)."""
    http = make_client(policy) if client is None else client
    try:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        candidates: list[tuple[str, str]] = []
        try:
            page = fetch_url(Source("url", url), policy, http, accept=ARTICLE)
            candidates += [(u, "link") for u in feed_links(page.body, page.final_url or url)]
        except IngestError:
            pass
        if not candidates:
            candidates += [(origin + path, "path") for path in COMMON_PATHS]
        try:
            robots = fetch_url(Source("url", origin + "/robots.txt"), policy, http, accept=ROBOTS)
            sitemaps = robots_sitemaps(robots.body, origin) if robots.status == 200 else []
        except IngestError:
            sitemaps = []
        candidates += [(u, "robots") for u in sitemaps]
        if not sitemaps:
            candidates += [(origin + path, "path") for path in SITEMAP_PATHS]
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        host = _slug(parts.hostname or "site").removeprefix("www-").removeprefix("www.")
        for candidate, via in candidates:
            if candidate in seen:
                continue
            seen.add(candidate)
            probe = _probe(candidate, policy, http)
            if probe is None or probe["url"] in {f["url"] for f in found}:
                continue
            path = _slug(urlsplit(probe["url"]).path) or probe["kind"]
            found.append({"name": f"{host}-{path}"[:100], "interval": interval, "via": via,
                          **probe})  # fmt: skip
        return found
    finally:
        if client is None:
            http.close()
