"""Feed and sitemap bodies to entries: plain data in, plain data out, no I/O."""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from lxml import etree

from ..errors import FetchError


@dataclass(frozen=True)
class Entry:
    """One item of a feed or sitemap; ``marker`` changes when the publisher updates it.
    The rest is what the item said about itself (``published`` is ISO-8601 UTC)."""

    url: str
    marker: str = ""
    language: str | None = None
    title: str | None = None
    published: str | None = None
    author: str | None = None
    categories: tuple[str, ...] = ()
    guid: str | None = None


@dataclass(frozen=True)
class Sitemap:
    entries: list[Entry]
    children: list[str]  # child sitemap URLs when this is a sitemap index


def _language(tag: str | None) -> str | None:
    """The primary subtag of a language tag: "zh-CN" -> "zh"."""
    if not tag:
        return None
    primary = re.split(r"[-_]", str(tag).strip().lower(), maxsplit=1)[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def _iso(parsed: Any) -> str | None:
    if parsed is None:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed)
    except (TypeError, ValueError):
        return None


def _iso_text(value: Any) -> str | None:
    """An RFC 3339 date (JSON Feed, sitemaps) as ISO-8601 UTC; None when unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value else ""
    return text or None


# The closing tag of each feed format's root element (a namespace prefix may come first).
_ROOT_END = {
    "rss": re.compile(rb"</rss\s*>", re.I),
    "atom": re.compile(rb"</(?:[\w.-]+:)?feed\s*>"),
    "rdf": re.compile(rb"</(?:[\w.-]+:)?RDF\s*>", re.I),
}


def _truncated(body: bytes, version: str) -> bool:
    """A feed whose body never closes its root element was cut in transit or by the server:
    feedparser's forgiving parser would return the items before the cut. (Junk after the
    closing tag, which some servers append, is not a cut.)"""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or not version.startswith(("rss", "atom")):
        return False  # UTF-16 (nothing to compare byte-wise) or CDF: rare enough to pass
    family = "rdf" if version in ("rss090", "rss10") else "atom" if "atom" in version else "rss"
    return _ROOT_END[family].search(body, max(0, len(body) - 65536)) is None


def looks_like_json_feed(body: bytes, content_type: str | None = None) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> list[Entry]:
    """RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed 1.0/1.1 by hand; relative
    links resolve against ``url``. A body cut before its end is ``truncated_feed``; one
    that is no feed at all is ``bad_feed``."""
    if looks_like_json_feed(body, content_type):
        return parse_json_feed(body, url)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # A stream, never bytes or str: feedparser would treat those as a path or URL to open.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    version = str(parsed.get("version") or "")
    if not parsed.entries and (parsed.get("bozo") or not version):
        detail = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise FetchError(f"{url} is not a readable feed: {detail}", reason="bad_feed")
    if version and parsed.get("bozo") and _truncated(body, version):
        raise FetchError(
            f"{url} ends before its feed does ({len(body)} bytes, {len(parsed.entries)} items "
            f"read before the cut): {parsed.get('bozo_exception')}",
            reason="truncated_feed",
        )
    feed_language = _language(parsed.feed.get("language"))
    out: list[Entry] = []
    for item in parsed.entries:
        guid = _text(item.get("id"))
        # FeedBurner keeps the publisher's URL here and puts its own redirect in <link>.
        link = item.get("feedburner_origlink") or item.get("link")
        if not link and guid and guid.startswith(("http://", "https://")):
            link = guid
        if not link:
            continue
        # dict.get: FeedParserDict.get maps updated -> published with a DeprecationWarning.
        published = _iso(dict.get(item, "published_parsed")) or _iso(
            dict.get(item, "updated_parsed")
        )
        marker = (
            _iso(dict.get(item, "updated_parsed"))
            or dict.get(item, "updated")
            or _iso(dict.get(item, "published_parsed"))
            or dict.get(item, "published")
            or ""
        )
        tags = tuple(t for t in (_text(tag.get("term")) for tag in item.get("tags") or []) if t)
        out.append(
            Entry(
                url=urljoin(url, str(link).strip()),
                marker=str(marker),
                language=_language(item.get("language")) or feed_language,
                title=_text(item.get("title")),
                published=published,
                author=_text(item.get("author")),
                categories=tags,
                guid=guid,
            )
        )
    return out


def parse_json_feed(body: bytes, url: str) -> list[Entry]:
    """JSON Feed (https://jsonfeed.org/version/1.1, and 1.0's ``author``)."""
    try:
        text = body.decode("utf-8-sig")
        data = json.loads(text)
    except UnicodeDecodeError as exc:
        raise FetchError(f"{url} is not a readable JSON Feed: {exc}", reason="bad_feed") from exc
    except json.JSONDecodeError as exc:
        cut = not text.rstrip().endswith("}")  # a whole JSON Feed is an object
        raise FetchError(
            f"{url} is not a readable JSON Feed: {exc}",
            reason="truncated_feed" if cut else "bad_feed",
        ) from exc
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, str) or "jsonfeed.org" not in version:
        raise FetchError(f"{url} is JSON but not a JSON Feed (no version)", reason="bad_feed")
    items = data.get("items")
    if not isinstance(items, list):
        raise FetchError(f"{url}: a JSON Feed needs an items array", reason="bad_feed")
    feed_language = _language(data.get("language"))
    feed_author = _json_author(data)
    out: list[Entry] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        if not isinstance(link, str) or not link.strip():
            continue
        published = _iso_text(item.get("date_published"))
        modified = _iso_text(item.get("date_modified"))
        tags = item.get("tags")
        tags = tags if isinstance(tags, list) else []
        out.append(
            Entry(
                url=urljoin(url, link.strip()),
                marker=modified or published or "",
                language=_language(item.get("language")) or feed_language,
                title=_text(item.get("title")),
                published=published or modified,
                author=_json_author(item) or feed_author,
                categories=tuple(t for t in (_text(tag) for tag in tags) if t),
                guid=_text(item.get("id")),
            )
        )
    return out


def _json_author(obj: dict[str, Any]) -> str | None:
    authors = obj.get("authors")
    if not isinstance(authors, list):
        authors = [obj.get("author")]
    names = [_text(a.get("name")) for a in authors if isinstance(a, dict)]
    return ", ".join(n for n in names if n) or None


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
    if not body.rstrip().lower().endswith(b"urlset>"):
        raise FetchError(f"{url} ends before its <urlset> does", reason="truncated_sitemap")
    entries = []
    for element in root:
        if _local(element.tag) != "url":
            continue
        loc = _child_text(element, "loc")
        if not loc:
            continue
        news_date = _child_text(element, "publication_date")
        marker = _child_text(element, "lastmod") or news_date
        keywords = _child_text(element, "keywords") or ""
        entries.append(
            Entry(
                url=urljoin(url, loc),
                marker=marker or "",
                language=_language(_child_text(element, "language")),
                title=_child_text(element, "title"),
                published=_iso_text(news_date),
                categories=tuple(k.strip() for k in keywords.split(",") if k.strip()),
            )
        )
    return Sitemap(entries, [])


def looks_like_sitemap(body: bytes) -> bool:
    """For ``kind = "feed"``: a sitemap served where a feed was expected."""
    head = body[:2048].lower()
    return b"<urlset" in head or b"<sitemapindex" in head
