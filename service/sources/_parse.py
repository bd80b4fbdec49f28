"""Feed and sitemap bodies to entries: plain data in, plain data out, no I/O."""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import feedparser
from lxml import etree

from ..errors import FetchError


@dataclass(frozen=True)
class Entry:
    """One item of a feed or sitemap; ``marker`` changes when the publisher updates it."""

    url: str
    marker: str = ""
    language: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Sitemap:
    entries: list[Entry]
    children: list[str]  # child sitemap URLs when this is a sitemap index


def _language(tag: str | None) -> str | None:
    """The primary subtag of a language tag: "zh-CN" -> "zh"."""
    if not tag:
        return None
    primary = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def _iso(parsed: Any) -> str | None:
    if parsed is None:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed)
    except (TypeError, ValueError):
        return None


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> list[Entry]:
    """RSS 0.9x/1.0/2.0 and Atom through feedparser; relative links resolve against ``url``."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # A stream, never bytes or str: feedparser would treat those as a path or URL to open.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
        detail = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise FetchError(f"{url} is not a readable feed: {detail}", reason="bad_feed")
    feed_language = _language(parsed.feed.get("language"))
    out: list[Entry] = []
    for item in parsed.entries:
        link = item.get("link")
        if not link:
            guid = str(item.get("id") or "")
            link = guid if guid.startswith(("http://", "https://")) else None
        if not link:
            continue
        # dict.get: FeedParserDict.get maps updated -> published with a DeprecationWarning.
        marker = (
            _iso(dict.get(item, "updated_parsed"))
            or dict.get(item, "updated")
            or _iso(dict.get(item, "published_parsed"))
            or dict.get(item, "published")
            or ""
        )
        out.append(
            Entry(
                url=str(link),
                marker=str(marker),
                language=_language(item.get("language")) or feed_language,
                title=str(item.get("title")) if item.get("title") else None,
            )
        )
    return out


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(element: Any, name: str) -> str | None:
    for child in element.iter():
        if _local(child.tag) == name and child.text and child.text.strip():
            return str(child.text.strip())
    return None


def parse_sitemap(body: bytes, url: str) -> Sitemap:
    """A <urlset> (with optional Google News tags) or a <sitemapindex>."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FetchError(f"{url} is not a readable sitemap: {exc}", reason="bad_sitemap") from exc
    if root is None:
        raise FetchError(f"{url} is not a readable sitemap: empty document", reason="bad_sitemap")
    kind = _local(root.tag)
    if kind == "sitemapindex":
        children = []
        for element in root:
            if _local(element.tag) == "sitemap":
                loc = _child_text(element, "loc")
                if loc:
                    children.append(urljoin(url, loc))
        return Sitemap([], children)
    if kind != "urlset":
        raise FetchError(f"{url} is not a sitemap (root <{kind}>)", reason="bad_sitemap")
    entries = []
    for element in root:
        if _local(element.tag) != "url":
            continue
        loc = _child_text(element, "loc")
        if not loc:
            continue
        marker = _child_text(element, "lastmod") or _child_text(element, "publication_date")
        entries.append(
            Entry(
                url=urljoin(url, loc),
                marker=marker or "",
                language=_language(_child_text(element, "language")),
                title=_child_text(element, "title"),
            )
        )
    return Sitemap(entries, [])


def looks_like_sitemap(body: bytes) -> bool:
    """For ``kind = "feed"``: a sitemap served where a feed was expected."""
    head = body[:2048].lower()
    return b"<urlset" in head or b"<sitemapindex" in head
