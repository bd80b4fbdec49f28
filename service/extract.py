"""Article text and metadata from decoded HTML (trafilatura) or plain text (our cleaner)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from lxml.html import HtmlElement

from . import _trafilatura
from ._trafilatura import PARSER_ERRORS, Engine, body_paragraphs
from .cleanup import FURNITURE_RULES, boilerplate_rule, clean_plain_text
from .errors import ExtractionError
from .records import Extracted
from .scripts import HAN, HANGUL, text_weight

logger = logging.getLogger("newsingest.extract")

_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_CANONICAL_RE = re.compile(r"<link\b[^>]*\brel=[\"']?canonical[\"']?[^>]*>", re.IGNORECASE)
_HREF_RE = re.compile(r"\bhref=[\"']([^\"']+)[\"']", re.IGNORECASE)
# Scan only the head-ish start of the page for tags; bounded so hostile pages stay cheap.
_HEAD_SCAN = 200_000
# Settings below were chosen by measurement on the dev corpus (docs/choices.md).
# trafilatura's fallback extractors (readability, jusText) cost ~6 ms a page but rescue
# pages its own pass gets wrong, so they stay on.
_FAST = False
# A table cell with more text than this (CJK x3) is prose, so its table is layout.
_LAYOUT_CELL_WEIGHT = 200
_BLOCK_TAGS = frozenset({"p", "div", "table", "ul", "ol", "blockquote", "article", "section",
                         "h1", "h2", "h3", "h4", "h5", "h6"})  # fmt: skip
# Embedded-article fallback: only when trafilatura's text is shorter than this weight, and
# only a candidate more than twice as heavy replaces it.
_SHORT_BODY_WEIGHT = 1500
_FALLBACK_RATIO = 2.0
_MIN_EMBEDDED_CHARS = 400
_MIN_EMBEDDED_PARAGRAPHS = 3
_MAX_SCRIPT_CHARS = 5_000_000
# The candidate must contain the start of what trafilatura found and this share of the
# headline's words (CJK: runs of characters, matched as substrings).
_ANCHOR_CHARS = 40
_MIN_TITLE_COVERAGE = 0.5
_WORD_RE = re.compile(r"[^\W_]+")
_SPACES_RE = re.compile(r"\s+")
# A JSON string literal; alternatives are disjoint, so matching is linear.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


# A comma splits authors only where a name follows: a capital, Hangul or Han.
_AUTHOR_SPLIT_RE = re.compile(rf"\s*[;|]\s*|\s+and\s+|\s*,\s*(?=[A-Z{HANGUL}{HAN}])")


def _split_authors(raw: str | None) -> list[str]:
    if not raw:
        return []
    parts = _AUTHOR_SPLIT_RE.split(raw)
    return [p.strip() for p in parts if p and p.strip()]


_SEPARATORS = "|\\-\u2013\u2014\u3163:_\u00b7"


def strip_site_suffix(title: str, site_name: str | None) -> str:
    """Drop a trailing "| Site" or "-Section|Site" that pages append to their <title>."""
    if not site_name or title.strip() == site_name.strip():
        return title
    pattern = re.compile(
        rf"\s*[{_SEPARATORS}]\s*(?:[^{_SEPARATORS}]{{1,12}}[{_SEPARATORS}]\s*)?"
        + re.escape(site_name.strip())
        + r"\s*$"
    )
    stripped = pattern.sub("", title).strip()
    return stripped or title


def strip_section_suffixes(title: str) -> str:
    """Drop "_Section_Site" tails ("…鉴定规定》_央广网"): real headlines do not use "_"."""
    while "_" in title:
        head, _, tail = title.rpartition("_")
        head, tail = head.strip(), tail.strip()
        if not tail or len(tail) > 12 or len(head) < max(6, len(tail)):
            break
        title = head
    return title


def _canonical_from_html(html: str) -> str | None:
    match = _CANONICAL_RE.search(html, 0, _HEAD_SCAN)
    if match:
        href = _HREF_RE.search(match.group(0))
        if href and href.group(1).lower().startswith(("http://", "https://")):
            return href.group(1).strip()
    return None


def _is_layout_table(table: HtmlElement) -> bool:
    """Readability's test, simplified: a table holding blocks or prose is page layout.

    Old portals (many Chinese pages here) lay the whole page out in nested tables;
    trafilatura renders those as ``| cell | cell |`` rows, navigation included.
    """
    if table.get("role") in ("presentation", "none"):
        return True
    if table.find(".//table") is not None:
        return True
    if any(table.find(f".//{tag}") is not None for tag in ("caption", "thead", "th")):
        return False
    rows = table.findall(".//tr")
    if len(rows) <= 1 or max((len(r.findall("td")) for r in rows), default=0) <= 1:
        return True
    for cell in table.iter("td"):
        if any(el.tag in _BLOCK_TAGS for el in cell.iterdescendants() if isinstance(el.tag, str)):
            return True
        if text_weight(cell.text_content().strip()) > _LAYOUT_CELL_WEIGHT:
            return True
    return False


def _unwrap_layout_tables(tree: HtmlElement) -> None:
    """Turn layout tables into divs so trafilatura judges their content as ordinary blocks."""
    for table in reversed(list(tree.iter("table"))):
        if _is_layout_table(table):
            for el in table.iter("tbody", "thead", "tfoot", "tr", "td", "th"):
                el.tag = "div"
            table.tag = "div"


def _walk_article_bodies(node: Any, out: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "articleBody" and isinstance(value, str):
                out.append(value)
            else:
                _walk_article_bodies(value, out)
    elif isinstance(node, list):
        for item in node:
            _walk_article_bodies(item, out)


def _embedded_candidates(engine: Engine, tree: HtmlElement, url: str | None) -> Iterator[list[str]]:
    """Article text that a page ships in scripts: JSON-LD ``articleBody``, and HTML inside
    JSON/JS strings (Next.js flight data, Nuxt/Redux state) that the browser renders."""
    for script in tree.iter("script"):
        code = script.text or ""
        if len(code) < _MIN_EMBEDDED_CHARS or len(code) > _MAX_SCRIPT_CHARS:
            continue
        if (script.get("type") or "").lower() == "application/ld+json":
            try:
                data = json.loads(code)
            except ValueError as exc:
                logger.debug(
                    "JSON-LD of %s is not JSON (%s); its articleBody is not read",
                    url or "a page without URL",
                    exc,
                    extra={"url": url},
                )
                continue
            bodies: list[str] = []
            _walk_article_bodies(data, bodies)
            for body in bodies:
                yield [line.strip() for line in body.split("\n") if line.strip()]
            continue
        if "<p" not in code and "\\u003cp" not in code:
            continue
        for match in _JSON_STRING.finditer(code):
            literal = match.group(0)
            if len(literal) < _MIN_EMBEDDED_CHARS:
                continue
            try:
                value = json.loads(literal)
            except ValueError:  # a probe: most string-like runs in script code are not JSON
                continue
            if isinstance(value, str) and value.count("<p") >= _MIN_EMBEDDED_PARAGRAPHS:
                yield body_paragraphs(_fragment_tree(engine, value), None)


def _fragment_tree(engine: Engine, fragment: str) -> HtmlElement:
    tree = engine.load_html(f"<html><body><article>{fragment}</article></body></html>")
    if tree is None:  # pragma: no cover - lxml parses any string with a body
        raise ExtractionError("embedded article HTML could not be parsed")
    return tree


def _title_words(title: str | None) -> set[str]:
    if not title:
        return set()
    return {w for w in _WORD_RE.findall(title.casefold()) if len(w) >= 2}


def _is_this_article(candidate: list[str], found: list[str], title_words: set[str]) -> bool:
    """Pages embed other articles too (teasers, "read next" state): a candidate must hold
    what trafilatura found, and most of the headline's words."""
    joined = " ".join(candidate)
    compact = _SPACES_RE.sub("", joined)
    if found and _SPACES_RE.sub("", found[0])[:_ANCHOR_CHARS] not in compact:
        return False
    if title_words:
        words = set(_WORD_RE.findall(joined.casefold()))
        hits = sum(1 for w in title_words if w in words or w in compact)
        if hits < _MIN_TITLE_COVERAGE * len(title_words):
            return False
    return True


def _embedded_fallback(
    engine: Engine, tree: HtmlElement, url: str | None, paragraphs: list[str], title: str | None
) -> list[str]:
    """Use embedded article text when trafilatura found nothing or much less of it."""
    found = text_weight("".join(paragraphs))
    if found >= _SHORT_BODY_WEIGHT:
        return paragraphs
    title_words = _title_words(title)
    best, best_weight = paragraphs, found
    for candidate in _embedded_candidates(engine, tree, url):
        weight = text_weight("".join(candidate))
        if weight > best_weight and _is_this_article(candidate, paragraphs, title_words):
            best, best_weight = candidate, weight
    return best if best_weight > _FALLBACK_RATIO * max(found, 1) else paragraphs


def extract_html(html: str, url: str | None = None, *, engine: Engine | None = None) -> Extracted:
    """Main text and metadata from one HTML page; raises ExtractionError when there is none.

    ``engine`` chooses how trafilatura runs (its internals or its public API only); by default
    the one :func:`service._trafilatura.engine` picked for the installed release.
    """
    engine = engine or _trafilatura.engine()
    try:
        tree = engine.load_html(html)
        if tree is None:
            raise ExtractionError("the page holds no HTML document", reason="no_content")
        _unwrap_layout_tables(tree)
        meta, paragraphs = engine.extract(tree, url, fast=_FAST)
        paragraphs = _embedded_fallback(engine, tree, url, paragraphs, meta.title)
        paragraphs = trim_furniture(paragraphs)
    except PARSER_ERRORS as exc:
        raise ExtractionError(f"trafilatura could not parse the page: {exc}") from exc
    if not paragraphs:
        raise ExtractionError("no article text found in the page", reason="no_content")
    title = meta.title
    if not title:
        found = _TITLE_RE.search(html, 0, _HEAD_SCAN)
        title = re.sub(r"\s+", " ", found.group(1)).strip() if found else None
    canonical = _canonical_from_html(html)
    if not canonical and meta.url and meta.url.startswith(("http://", "https://")):
        canonical = meta.url
    site_name = meta.sitename or None
    if title:
        title = strip_section_suffixes(strip_site_suffix(title, site_name))
    return Extracted(
        title=title or None,
        paragraphs=paragraphs,
        authors=_split_authors(meta.author),
        date=meta.date or None,
        site_name=site_name,
        canonical_url=canonical or url,
        description=meta.description or None,
    )


_EDGE_PARAGRAPHS = 6


def trim_furniture(paragraphs: list[str]) -> list[str]:
    """Drop copyright, reprint, credit, byline and social lines that trail the article.

    trafilatura keeps short footer lines that sit inside the article container ("编辑:李楠",
    "原创版权禁止商业转载", "© Reuters"); only the last few paragraphs are examined, so a
    sentence about copyright in the middle of a story is never touched.
    """
    out = list(paragraphs)
    examined = 0
    while out and examined < _EDGE_PARAGRAPHS and boilerplate_rule(out[-1]) in FURNITURE_RULES:
        out.pop()
        examined += 1
    return out or list(paragraphs)


def extract_text(text: str) -> Extracted:
    """Article from a plain-text input, with line-level boilerplate removed."""
    cleaned = clean_plain_text(text)
    if not cleaned.paragraphs:
        raise ExtractionError("the text holds no article paragraphs", reason="no_content")
    return Extracted(title=cleaned.title, paragraphs=list(cleaned.paragraphs))
