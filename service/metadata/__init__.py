"""Article metadata a newsroom can sort and filter by: headline, bylines, agency, and the
publication time with its precision, its zone and the evidence it came from.

Two steps, because the zone of a local time depends on what extraction cannot know yet:

- :func:`read_page` (extraction) reads the page: the headline by agreement of og:title,
  JSON-LD and <h1> (:mod:`._titles`), the people who wrote it and the agency it came from
  (:mod:`._people`, :mod:`._bylines`), the publication and modification time as the page
  gives them (:mod:`._dates`, :mod:`._stamps`), and the paragraphs without standalone
  byline lines;
- :func:`settle` (after language detection) fills gaps from the feed item that announced the
  page, or the HTTP Last-Modified header, and gives a local time without an offset the
  publisher's zone (:mod:`._zones`), marking it inferred.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from ._dates import find_dating
from ._lines import PageLines, article_span, first_line, page_lines
from ._markup import host_label, read_markup
from ._people import find_people
from ._stamps import PRECISIONS, SOURCES, Stamp, parse_iso, plausible
from ._titles import choose_title, subhead_headline
from ._zones import parse_zone_table, publisher_zone, zone_by_name, zone_table
from .settle import Settled, document_fields, settle, settle_extracted

__all__ = [
    "PRECISIONS",
    "SOURCES",
    "PageMeta",
    "Settled",
    "Stamp",
    "document_fields",
    "parse_iso",
    "parse_zone_table",
    "plausible",
    "publisher_zone",
    "read_page",
    "settle",
    "settle_extracted",
    "zone_by_name",
    "zone_table",
]


logger = logging.getLogger("newsingest.extract")
# What a bug in these rules may raise on a hostile page: the page keeps trafilatura's
# metadata instead of being lost. Not Exception: a task's time limit must get through.
_ERRORS = (ValueError, TypeError, RecursionError, AttributeError, IndexError, KeyError,
           OverflowError, etree.LxmlError)  # fmt: skip


@dataclass(frozen=True)
class PageMeta:
    """What a page says about its article, each field with where it came from."""

    title: str | None = None
    title_source: str | None = None
    authors: list[str] = field(default_factory=list)
    authors_source: str | None = None
    agency: str | None = None
    published: Stamp | None = None
    modified: Stamp | None = None
    site_name: str | None = None
    paragraphs: list[str] = field(default_factory=list)

    @property
    def date(self) -> str | None:
        """The publication time as the page gives it (ISO 8601, offset when known)."""
        return self.published.local_iso() if self.published else None

    @property
    def meta(self) -> dict[str, Any]:
        """What :class:`service.records.Extracted` carries beyond its core fields."""
        published = self.published
        out: dict[str, Any] = {
            "title_source": self.title_source,
            "authors_source": self.authors_source,
            "agency": self.agency,
            "date_precision": published.precision if published else None,
            "date_source": published.source if published else None,
            "date_zone": published.zone if published else None,
            "modified": self.modified.local_iso() if self.modified else None,
        }
        return {k: v for k, v in out.items() if v is not None}


def read_page(
    tree: HtmlElement,
    url: str | None,
    paragraphs: Sequence[str],
    *,
    title: str | None = None,
    author: str | None = None,
    date: str | Callable[[], str | None] | None = None,
    site_name: str | None = None,
    now: datetime | None = None,
) -> PageMeta:
    """The metadata of one parsed page whose main text is ``paragraphs``.

    ``title``, ``author``, ``date`` and ``site_name`` are what trafilatura found: the last
    resort for each field (its date is htmldate's guess, counted as text evidence of a day;
    a function that finds it is called only when no other evidence dates the page).
    """
    try:
        return _read_page(tree, url, paragraphs, title, author, date, site_name, now)
    except _ERRORS as exc:
        logger.warning(
            "metadata rules failed on %s (%s: %s); trafilatura's metadata kept",
            url or "a page without URL",
            type(exc).__name__,
            exc,
            extra={"url": url},
        )
        guess = date() if callable(date) else date
        published = parse_iso(guess, "text") if guess else None
        return PageMeta(
            title=title,
            title_source="title" if title else None,
            authors=[author] if author else [],
            authors_source="markup" if author else None,
            published=published,
            site_name=site_name,
            paragraphs=list(paragraphs),
        )


# A linked <h1> this many lines above the text is the site's logo, not the headline.
_LOGO_DISTANCE = 10


def _logos(lines: PageLines, first: int) -> list[str]:
    """Linked <h1>s far above the text (its first line: ``first``): the site's name as a
    logo link."""
    if first < 0:
        return []
    return [
        line.text
        for line in lines.lines[: max(0, first - _LOGO_DISTANCE)]
        if line.heading == 1 and line.linked
    ]


def _read_page(
    tree: HtmlElement,
    url: str | None,
    paragraphs: Sequence[str],
    title: str | None,
    author: str | None,
    date: str | Callable[[], str | None] | None,
    site_name: str | None,
    now: datetime | None,
) -> PageMeta:
    now = now or datetime.now(UTC)
    markup = read_markup(tree, url)
    sites = markup.site_names() + ([site_name] if site_name else [])
    host = host_label(url)
    candidates = {
        "jsonld": [markup.article.text("headline", "title") or ""] if markup.article else [],
        "meta": markup.meta("og:title", "twitter:title", "dc.title", "citation_title",
                            "articletitle", "dable:title", "title"),
        "h1": markup.h1s or subhead_headline(markup.self_linked_subheads(url),
                                             [text for text, _ in markup.subheads],
                                             markup.title_tag or title),
        "title": [markup.title_tag] if markup.title_tag else ([title] if title else []),
    }  # fmt: skip
    lines = page_lines(tree)
    logos = _logos(lines, first_line(lines, paragraphs))
    headline, title_source = choose_title(candidates, sites + logos, host)
    if headline is None and title:
        headline, title_source = title, "title"
    span = article_span(lines, headline, paragraphs)
    people = find_people(markup, lines, span, paragraphs, sites + ([host] if host else []), author)
    dating = find_dating(markup, lines, span, url, date, now, headline)
    removed = set(people.removed)
    kept = [p for i, p in enumerate(paragraphs) if i not in removed]
    return PageMeta(
        title=headline,
        title_source=title_source,
        authors=people.authors,
        authors_source=people.source,
        agency=", ".join(people.agencies) or None,
        published=dating.published,
        modified=dating.modified,
        site_name=site_name or next(iter(markup.meta("og:site_name")), None),
        paragraphs=kept,
    )
