"""Who wrote an article, from the most trusted place that names a person.

JSON-LD ``author`` (a Person; an Organization is a site or an agency), then meta tags, then
``rel=author`` links, then bylines on the lines around the article, then trafilatura's own
author search. Agencies found anywhere on the way (a JSON-LD Organization, "新华社北京电",
"(서울=연합뉴스)", "(Reuters) -", "来源：新华社") are collected apart. Editors count only
when no writer is named; trafilatura's guess comes last.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._bylines import (
    agencies_in,
    agency_of,
    bracket_name,
    clean_name,
    find_bylines,
    is_byline_line,
    is_site_name,
    lone_name,
    normal,
    split_names,
)
from ._lines import PageLines, Span
from ._markup import Markup

_META_AUTHORS = (
    "author", "article:author", "og:article:author", "byl", "dc.creator", "dcterms.creator",
    "citation_author", "sailthru.author", "parsely-author", "dable:author", "bt:author",
    "cxenseparse:author", "authors", "writer",
)  # fmt: skip
_SOURCE_METAS = ("source", "contentsource", "og:article:source", "article:source")
_EDGE_FIRST = 3
_EDGE_LAST = 4
_MAX_AUTHORS = 12


@dataclass
class People:
    authors: list[str] = field(default_factory=list)
    source: str | None = None
    agencies: list[str] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)  # paragraph indexes that are bylines


class _Collector:
    def __init__(self, sites: Sequence[str]) -> None:
        self.sites = sites
        self.agencies: list[str] = []

    def agency(self, name: str | None) -> None:
        if name and name not in self.agencies:
            self.agencies.append(name)

    def names(self, raw: Iterable[str]) -> list[str]:
        """Person names from raw strings: agencies set aside, sites and junk dropped."""
        out: list[str] = []
        for text in raw:
            if "://" in text or text.strip().startswith("www."):
                continue  # a profile link (article:author), not a name
            wire = agency_of(text)
            if wire:
                self.agency(wire)
                continue
            bylines = list(find_bylines(text))
            parts = [n for b in bylines if not b.editor for n in b.names] or split_names(text)
            for part in parts:
                name = clean_name(part)
                if name is None:
                    continue
                wire = agency_of(part) or agency_of(name)
                if wire:
                    self.agency(wire)
                elif not is_site_name(name, self.sites) and name not in out:
                    out.append(_without_site(name, self.sites))
        return [n for n in out if n][:_MAX_AUTHORS]


def _without_site(name: str, sites: Sequence[str]) -> str:
    """ "ADAM AARONSON PhillyVoice" -> "ADAM AARONSON": a site name glued to the byline."""
    words = name.split()
    keys = {normal(s) for s in sites}
    while len(words) > 1 and normal(words[-1]) in keys:
        words.pop()
    return " ".join(words)


def _jsonld_authors(markup: Markup, collector: _Collector) -> list[str]:
    node = markup.article
    if node is None:
        return []
    value: Any = node.data.get("author") or node.data.get("creator")
    items = value if isinstance(value, list) else [value]
    raw: list[str] = []
    for item in items[:_MAX_AUTHORS]:
        item = markup.resolve(item)
        if isinstance(item, str):
            raw.append(item)
        elif isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, list):
                name = name[0] if name else None
            if not isinstance(name, str):
                continue
            kinds = item.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if any(str(k).lower() in ("organization", "newsmediaorganization", "corporation")
                   for k in kinds):  # fmt: skip
                collector.agency(agency_of(name))
                continue
            raw.append(name)
    return collector.names(raw)


def _rel_authors(markup: Markup, collector: _Collector) -> list[str]:
    raw = []
    for el in markup.rel_authors[:6]:
        text = " ".join(el.text_content().split())
        if text and len(text) <= 60:
            raw.append(text)
    return collector.names(raw)


def find_people(
    markup: Markup,
    lines: PageLines,
    span: Span,
    paragraphs: Sequence[str],
    sites: Sequence[str],
    fallback: str | None,
) -> People:
    collector = _Collector(sites)
    found = People()
    for value in markup.meta(*_SOURCE_METAS):
        collector.agency(agency_of(value))
    writers: list[str] = []
    editors: list[str] = []
    header = span.header()
    footer_writers = footer_editors = False
    for index in dict.fromkeys([*header, *span.footer()]):
        if index >= len(lines.lines):
            continue
        text = lines.lines[index].text
        for wire in agencies_in(text):
            collector.agency(wire)
        in_header = index in header
        if len(text) > 300 and not in_header:
            continue
        bylines = list(find_bylines(text))
        # Below the text only the first byline counts: later ones sign the comments.
        for byline in bylines:
            if not in_header and (footer_editors if byline.editor else footer_writers):
                continue
            target = editors if byline.editor else writers
            target.extend(n for n in byline.names if n not in target)
        if not in_header:
            footer_writers = footer_writers or any(not b.editor for b in bylines)
            footer_editors = footer_editors or any(b.editor for b in bylines)
        if in_header and not writers:
            name = bracket_name(text)  # only on a date line: "2004年7月16日08:19 [ 黄宇 ]"
            if name is not None and not any(ch.isdigit() for ch in text):
                name = None
            if name is None and 0 < index - span.title <= 2 and not lines.lines[index].linked:
                name = lone_name(text)  # "胡平" on its own line under an essay's headline
            if name:
                writers.append(name)
    edges = list(range(min(_EDGE_FIRST, len(paragraphs))))
    edges += range(max(len(paragraphs) - _EDGE_LAST, len(edges)), len(paragraphs))
    for index in edges:
        for wire in agencies_in(paragraphs[index]):
            collector.agency(wire)
        for byline in find_bylines(paragraphs[index]):
            target = editors if byline.editor else writers
            target.extend(n for n in byline.names if n not in target)
    attempts: list[tuple[str, list[str]]] = [
        ("jsonld", _jsonld_authors(markup, collector)),
        ("meta", collector.names(markup.meta(*_META_AUTHORS))),
        ("rel", _rel_authors(markup, collector)),
        ("text", collector.names(writers)),
        ("text", collector.names(editors)),
        ("markup", collector.names([fallback] if fallback else [])),
    ]
    for source, names in attempts:
        if names:
            found.authors, found.source = names, source
            break
    found.agencies = collector.agencies
    known = [*found.authors, *writers, *editors]
    for index in edges:
        if len(paragraphs) - len(found.removed) <= 1:
            break
        if is_byline_line(paragraphs[index], known):
            found.removed.append(index)
    return found
