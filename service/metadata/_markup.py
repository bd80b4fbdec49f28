"""What a page says about itself in markup: meta tags, JSON-LD, microdata, <time>, rel=author.

One pass over the tree collects it all; :class:`Markup` answers the questions the metadata
rules ask ("the article's JSON-LD node", "the first value of these meta keys"). JSON-LD is
parsed with the bounds extraction uses elsewhere (a script over 1 MB is skipped) and walked
without recursion.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml.html import HtmlElement

_JSON_LD_MAX_CHARS = 1_000_000
_JSON_LD_PAGE_CHARS = 4_000_000
_MAX_NODES = 5_000
_MAX_H1 = 30
_MAX_SUBHEADS = 40
_ARTICLE_TYPES = frozenset({
    "article", "newsarticle", "blogposting", "reportagenews", "analysisnewsarticle",
    "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "askpublicnewsarticle",
    "liveblogposting", "report", "scholarlyarticle", "techarticle", "socialmediaposting",
    "discussionforumposting", "posting", "review", "satiricalarticle", "advertisercontentarticle",
    "medicalscholarlyarticle", "creativework", "videoobject", "howto", "recipe",
})  # fmt: skip
_PAGE_TYPES = frozenset({"webpage", "itempage", "collectionpage", "medicalwebpage", "aboutpage"})
_TAGS = re.compile(r"<[^>]{0,200}>")
# data-* attributes that name a point in time ("data-deploy-dt", "data-publish-date"), as
# analytics and CMS templates leave them on an article's header; not display settings.
_DATA_TIME_NAME = re.compile(r"date|time|(?<![a-z])dt(?![a-z])|publish|deploy|posted|issued", re.I)
_DATA_NOT_TIME = re.compile(
    r"show|sort|timer|refresh|collapse|expire|zone|format|width|height|ago|relative|now|today"
    r"|current|server|duration|interval|delay|start|end",
    re.IGNORECASE,
)
_MAX_DATA_TIMES = 200
# What read_markup reads by tag; every other element is read only for its attributes.
_READ_TAGS = frozenset({"meta", "script", "time", "title", "h1", "h2", "h3", "a", "span", "link"})


@dataclass
class Node:
    """One JSON-LD object and how likely it is to describe this page's article."""

    data: dict[str, Any]
    rank: int

    def text(self, *keys: str) -> str | None:
        for key in keys:
            value = self.data.get(key)
            if isinstance(value, list) and value:
                value = value[0]
            if isinstance(value, str | int | float) and str(value).strip():
                return str(value).strip()
        return None


@dataclass
class Markup:
    metas: dict[str, list[str]] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    times: list[HtmlElement] = field(default_factory=list)
    rel_authors: list[HtmlElement] = field(default_factory=list)
    h1s: list[str] = field(default_factory=list)
    # <h2>/<h3> text with the links inside it, for pages without an <h1>.
    subheads: list[tuple[str, list[str]]] = field(default_factory=list)
    title_tag: str | None = None
    itemprops: dict[str, list[HtmlElement]] = field(default_factory=dict)
    # Elements with a data-* attribute that names a time: (element, attribute, value).
    data_times: list[tuple[HtmlElement, str, str]] = field(default_factory=list)
    # Every element, held while the page is read: lxml makes a node's Python object anew
    # each time a walk reaches it unless one is alive, so later walks reuse these.
    elements: list[HtmlElement] = field(default_factory=list)

    def meta(self, *keys: str) -> list[str]:
        """Every value of these meta keys (lower case), in the order of ``keys``."""
        out: list[str] = []
        for key in keys:
            out.extend(self.metas.get(key, ()))
        return out

    @property
    def article(self) -> Node | None:
        """The JSON-LD node that describes the article (the best-ranked one)."""
        return self.nodes[0] if self.nodes else None

    def resolve(self, value: Any) -> Any:
        """A JSON-LD reference ``{"@id": ...}`` replaced by the node it names."""
        if isinstance(value, dict) and set(value) == {"@id"}:
            return self.by_id.get(str(value["@id"]), value)
        return value

    def self_linked_subheads(self, url: str | None) -> list[str]:
        """<h2>/<h3> that link to the page itself: a post's own title, as blogs and review
        pages set it when they give the page no <h1>."""
        page = _url_key(url)
        if not page or not url:
            return []
        out = []
        for text, links in self.subheads:
            if any(href and _url_key(_join(url, href)) == page for href in links):
                out.append(text)
        return out

    def site_names(self) -> list[str]:
        names = self.meta("og:site_name", "application-name", "apple-mobile-web-app-title")
        names += [
            n.lstrip("@") for n in self.meta("twitter:site") if n and not n.startswith("http")
        ]
        for node in self.nodes:
            publisher = self.resolve(node.data.get("publisher"))
            if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
                names.append(publisher["name"])
        for data in self.by_id.values():
            if _types(data) & {"website", "organization", "newsmediaorganization"}:
                name = data.get("name")
                if isinstance(name, str):
                    names.append(name)
        return [n.strip() for n in names if n and n.strip()]


def read_markup(root: HtmlElement, url: str | None) -> Markup:
    """Everything the metadata rules read from markup, in one pass over the tree's elements
    in document order: the tags read here, and the elements with ``itemprop`` (not <meta>)
    or a data-* attribute (scripts left out)."""
    out = Markup()
    scripts: list[str] = []
    budget = _JSON_LD_PAGE_CHARS
    out.elements = list(root.iter(etree.Element))  # elements only: no comments, no PIs
    for el in out.elements:
        tag = el.tag
        if tag == "script":
            kind = (el.get("type") or "").strip().lower()
            size = len(el.text or "")
            if kind == "application/ld+json" and 0 < size <= min(_JSON_LD_MAX_CHARS, budget):
                budget -= size
                scripts.append(el.text or "")
            continue
        names = el.keys()  # one call; most elements have neither itemprop nor data-*
        if names:
            if "itemprop" in names and tag != "meta":
                prop = el.get("itemprop")
                if prop:
                    for name in prop.split():
                        out.itemprops.setdefault(name, []).append(el)
            # A quick test that may pass without a data-* attribute: _data_times then adds none.
            if "data-" in " ".join(names) and len(out.data_times) < _MAX_DATA_TIMES:
                _data_times(out, el)
        if tag not in _READ_TAGS:
            continue
        if tag == "meta":
            _meta(out, el)
        elif tag == "time":
            out.times.append(el)
        elif tag == "title" and out.title_tag is None:
            text = " ".join((el.text_content() or "").split())
            out.title_tag = text or None
        elif tag == "h1" and len(out.h1s) < _MAX_H1:
            text = " ".join(el.text_content().split())
            if text:
                out.h1s.append(text)
        elif tag in ("h2", "h3") and len(out.subheads) < _MAX_SUBHEADS:
            text = " ".join(el.text_content().split())
            if text:
                links = [a.get("href") or "" for a in el.iter("a")][:5]
                out.subheads.append((text, links))
        elif tag in ("a", "span", "link"):
            rel = el.get("rel")
            if rel and "author" in rel.lower().split():
                out.rel_authors.append(el)
    _json_ld(out, scripts, url)
    return out


def _data_times(out: Markup, el: HtmlElement) -> None:
    for name, value in el.items():
        if name.startswith("data-"):
            value = value.strip()
            if (
                value[:1].isdigit()
                and 8 <= len(value) <= 40
                and _DATA_TIME_NAME.search(name, 5)
                and not _DATA_NOT_TIME.search(name, 5)
            ):
                out.data_times.append((el, name, value))


def _meta(out: Markup, el: HtmlElement) -> None:
    key = el.get("property") or el.get("name") or el.get("http-equiv")
    if not key and el.get("itemprop"):
        # Microdata can describe anything on the page (a reference list's authors and
        # years), so it is kept apart from the page's own meta tags.
        key = "itemprop:" + str(el.get("itemprop"))
    content = el.get("content")
    if not key or content is None:
        return
    value = " ".join((_TAGS.sub(" ", content) if "<" in content else content).split())
    if value:
        out.metas.setdefault(key.strip().lower(), []).append(value[:2000])


def _types(data: dict[str, Any]) -> set[str]:
    kind = data.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).rsplit("/", 1)[-1].lower() for k in kinds if isinstance(k, str)}


def _walk(data: Any) -> Iterator[dict[str, Any]]:
    """Every object in parsed JSON-LD, outermost first, without recursion."""
    stack = [data]
    seen = 0
    while stack and seen < _MAX_NODES:
        node = stack.pop()
        if isinstance(node, dict):
            seen += 1
            yield node
            stack.extend(reversed([v for v in node.values() if isinstance(v, dict | list)]))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def _json_ld(out: Markup, scripts: list[str], url: str | None) -> None:
    page = _url_key(url)
    candidates: list[Node] = []
    order = 0
    for code in scripts:
        try:
            data = json.loads(code, strict=False)
        except (ValueError, RecursionError):
            continue
        for node in _walk(data):
            order += 1
            node_id = node.get("@id")
            if isinstance(node_id, str) and len(node) > 1:
                out.by_id.setdefault(node_id, node)
            kinds = _types(node)
            rank = 0
            if kinds & _ARTICLE_TYPES:
                rank = 3
            elif not kinds and ("headline" in node or "pubDate" in node or "datePublished" in node):
                rank = 2  # Baidu's cambrian JSON-LD has no @type
            elif kinds & _PAGE_TYPES:
                rank = 1
            if not rank:
                continue
            for key in ("url", "@id", "mainEntityOfPage"):
                value = node.get(key)
                if isinstance(value, dict):
                    value = value.get("@id")
                if page and isinstance(value, str) and _url_key(value) == page:
                    rank += 2
                    break
            if "headline" in node or "datePublished" in node:
                rank += 1
            candidates.append(Node(node, rank * 100_000 - order))
    out.nodes = sorted(candidates, key=lambda n: n.rank, reverse=True)


def _join(base: str, href: str) -> str:
    try:
        return urljoin(base, href.strip())
    except ValueError:
        return ""


def _url_key(url: str | None) -> str | None:
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}" if host else None


def host_label(url: str | None) -> str | None:
    """The part of a host that names the site: "latimes" for www.latimes.com."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None
    labels = [x for x in host.split(".") if x and x not in ("www", "m", "news", "wap")]
    generic = {"com", "net", "org", "co", "cn", "kr", "uk", "jp", "tw", "hk", "gov", "edu", "ac"}
    labels = [x for x in labels if x not in generic]
    return labels[-1] if labels else None
