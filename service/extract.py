"""Article text and metadata from decoded HTML (trafilatura) or plain text (our cleaner)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from lxml.html import HtmlElement

from . import _access, _boilerplate, _trafilatura
from ._cost import (
    PARSE_MAX_DEPTH,
    PARSE_MAX_ELEMENTS,
    TEXT_MAX_LINE_CHARS,
    TEXT_MAX_LINES,
    check_markup,
    check_text,
    check_tree,
)
from ._fragment import as_document
from ._lists import restore_lists
from ._trafilatura import PARSER_ERRORS, Engine, body_paragraphs
from .cleanup import FURNITURE_RULES, boilerplate_rule, clean_plain_text
from .errors import ExtractionError
from .metadata import read_page
from .records import Extracted
from .scripts import HAN, HANGUL, text_weight

logger = logging.getLogger("newsingest.extract")

# Tag scans find each "<title" or "<link" and then the tag's end with str.find: a pattern
# such as "<link[^>]*rel=..." rescans the rest of the page from every "<link" that is never
# closed, quadratic on a page of them.
_TITLE_OPEN = re.compile(r"<title", re.IGNORECASE)
_TITLE_CLOSE = re.compile(r"</title>", re.IGNORECASE)
_LINK_OPEN = re.compile(r"<link\b", re.IGNORECASE)
_CANONICAL_REL = re.compile(r"\brel=[\"']?canonical", re.IGNORECASE)
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
# Each HTML fragment found in script strings costs a trafilatura run: at most this many per
# page (the most on a dev corpus page is 14, TechCrunch's embedded state).
_MAX_EMBEDDED_FRAGMENTS = 32
# The candidate must contain the start of what trafilatura found and this share of the
# headline's words (CJK: runs of characters, matched as substrings).
_ANCHOR_CHARS = 40
_MIN_TITLE_COVERAGE = 0.5
# Only the start of a headline is compared with candidates: a real one is far shorter.
_TITLE_WORDS_CHARS = 1000
_WORD_RE = re.compile(r"[^\W_]+")
_SPACES_RE = re.compile(r"\s+")
# The inside of a JSON string literal after its opening quote: matched from one position
# only, never searched for, so each character is read once (see _json_strings).
_JSON_STRING_BODY = re.compile(r'(?:[^"\\]++|\\.)*+')


# A comma splits authors only where a name follows: a capital, Hangul or Han.
_AUTHOR_SPLIT_RE = re.compile(rf"\s*[;|]\s*|\s+and\s+|\s*,\s*(?=[A-Z{HANGUL}{HAN}])")


def _split_authors(raw: str | None) -> list[str]:
    if not raw:
        return []
    # Single spaces first: "\s*" from every position of a long blank run is quadratic.
    parts = _AUTHOR_SPLIT_RE.split(" ".join(raw.split()))
    return [p.strip() for p in parts if p and p.strip()]


_SEPARATORS = frozenset("|-\u2013\u2014\u3163:_\u00b7")


def strip_site_suffix(title: str, site_name: str | None) -> str:
    r"""Drop a trailing "| Site" or "-Section|Site" that pages append to their <title>.

    Removes what ``\s*[SEP]\s*(?:[^SEP]{1,12}[SEP]\s*)?Site\s*$`` matches, found from the
    end in one pass: the pattern reads a run of blanks again from each of its characters.
    """
    if not site_name or title.strip() == site_name.strip():
        return title
    site = site_name.strip()
    body = title.rstrip()
    last = _before_blanks(body, len(body) - len(site)) - 1  # "|" in "- Section | Site"
    if not body.endswith(site) or last < 0 or body[last] not in _SEPARATORS:
        return title.strip() or title
    cut = _before_blanks(body, last)
    section = last  # "Section": the run of non-separators before it, at most 12 characters
    while section > 0 and body[section - 1] not in _SEPARATORS:
        section -= 1
    if 0 < section < last:
        blanks = _blank_run(body, section, last - 1)  # those before the section's first char
        if last - min(section + blanks, last - 1) <= 12:
            cut = _before_blanks(body, section - 1)
    return body[:cut].strip() or title


def _blank_run(text: str, start: int, end: int) -> int:
    """How many whitespace characters ``text[start:end]`` starts with."""
    position = start
    while position < end and text[position].isspace():
        position += 1
    return position - start


def _before_blanks(text: str, end: int) -> int:
    """Where the run of whitespace that ends at ``end`` begins."""
    while end > 0 and text[end - 1].isspace():
        end -= 1
    return end


def strip_section_suffixes(title: str) -> str:
    """Drop "_Section_Site" tails ("…鉴定规定》_央广网"): real headlines do not use "_".

    One pass from the end: ``end`` marks the title kept so far, nothing is copied per step.
    """
    first = len(title) - len(title.lstrip())
    end = len(title)
    while (cut := title.rfind("_", 0, end)) >= 0:
        tail = title[cut + 1 : end].strip()
        head_end = _before_blanks(title, cut)
        if not tail or len(tail) > 12 or head_end - first < max(6, len(tail)):
            break
        end = head_end
    return title if end == len(title) else title[:end].strip()


def _title_from_html(html: str) -> str | None:
    """The first <title>'s text: what ``<title[^>]*>(.*?)</title>`` finds in the head."""
    limit = min(len(html), _HEAD_SCAN)
    opened = _TITLE_OPEN.search(html, 0, limit)
    if opened is None:
        return None
    start = html.find(">", opened.end(), limit) + 1
    closed = _TITLE_CLOSE.search(html, start, limit) if start else None
    if closed is None:  # no later <title> can be closed either
        return None
    return " ".join(html[start : closed.start()].split()) or None


def _canonical_from_html(html: str) -> str | None:
    """The href of the first <link rel=canonical> in the head, if it is absolute http(s)."""
    limit = min(len(html), _HEAD_SCAN)
    position = 0
    while (link := _LINK_OPEN.search(html, position, limit)) is not None:
        end = html.find(">", link.end(), limit)
        if end < 0:  # an unclosed tag: no later one is closed either
            return None
        tag = html[link.start() : end + 1]
        if _CANONICAL_REL.search(tag):
            href = _HREF_RE.search(tag)
            if href and href.group(1).lower().startswith(("http://", "https://")):
                return href.group(1).strip()
            return None
        position = end + 1
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


def _article_bodies(data: Any) -> list[str]:
    """Every ``articleBody`` string in parsed JSON-LD, in document order (no recursion: a
    deeply nested document cannot exhaust the stack)."""
    out: list[str] = []
    stack: list[tuple[object, Any]] = [(None, data)]
    while stack:
        key, node = stack.pop()
        if key == "articleBody" and isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            stack.extend(reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((None, item) for item in reversed(node))
    return out


def _json_strings(code: str) -> Iterator[str]:
    r"""The JSON string literals in script code, as ``"(?:[^"\\]|\\.)*"`` finds them, in one
    pass: searched for, that pattern reads the rest of the code again from every quote that
    a backslash-newline leaves open."""
    position = 0
    while (start := code.find('"', position)) >= 0:
        end = _JSON_STRING_BODY.match(code, start + 1).end()  # type: ignore[union-attr]
        if end < len(code) and code[end] == '"':
            yield code[start : end + 1]
        # Failed at a backslash-newline: the quotes before it were escaped, the same failure.
        position = end + 1


def _embedded_candidates(
    engine: Engine, tree: HtmlElement, url: str | None, max_elements: int, max_depth: int
) -> Iterator[list[str]]:
    """Article text that a page ships in scripts: JSON-LD ``articleBody``, and HTML inside
    JSON/JS strings (Next.js flight data, Nuxt/Redux state) that the browser renders."""
    fragments = 0
    for script in tree.iter("script"):
        code = script.text or ""
        if len(code) < _MIN_EMBEDDED_CHARS or len(code) > _MAX_SCRIPT_CHARS:
            continue
        if (script.get("type") or "").lower() == "application/ld+json":
            try:
                data = json.loads(code)
            except (ValueError, RecursionError) as exc:
                logger.debug(
                    "JSON-LD of %s is not JSON (%s); its articleBody is not read",
                    url or "a page without URL",
                    exc,
                    extra={"url": url},
                )
                continue
            for body in _article_bodies(data):
                yield [line.strip() for line in body.split("\n") if line.strip()]
            continue
        if "<p" not in code and "\\u003cp" not in code:
            continue
        for literal in _json_strings(code):
            if len(literal) < _MIN_EMBEDDED_CHARS:
                continue
            try:
                value = json.loads(literal)
            except ValueError:  # a probe: most string-like runs in script code are not JSON
                continue
            if not isinstance(value, str) or value.count("<p") < _MIN_EMBEDDED_PARAGRAPHS:
                continue
            if fragments == _MAX_EMBEDDED_FRAGMENTS:
                return
            fragments += 1
            try:
                fragment = _fragment_tree(engine, value, max_elements, max_depth)
            except ExtractionError as exc:
                logger.debug("embedded HTML of %s skipped: %s", url, exc, extra={"url": url})
                continue
            yield body_paragraphs(fragment, None)


def _fragment_tree(engine: Engine, fragment: str, max_elements: int, max_depth: int) -> HtmlElement:
    check_markup(fragment, max_elements)
    tree = engine.load_html(f"<html><body><article>{fragment}</article></body></html>")
    if tree is None:  # pragma: no cover - lxml parses any string with a body
        raise ExtractionError("embedded article HTML could not be parsed")
    check_tree(tree, max_depth)
    return tree


def _title_words(title: str | None) -> set[str]:
    if not title:
        return set()
    return {w for w in _WORD_RE.findall(title[:_TITLE_WORDS_CHARS].casefold()) if len(w) >= 2}


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
    engine: Engine,
    tree: HtmlElement,
    url: str | None,
    paragraphs: list[str],
    title: str | None,
    limits: tuple[int, int],
) -> list[str]:
    """Use embedded article text when trafilatura found nothing or much less of it."""
    found = text_weight("".join(paragraphs))
    if found >= _SHORT_BODY_WEIGHT:
        return paragraphs
    title_words = _title_words(title)
    best, best_weight = paragraphs, found
    for candidate in _embedded_candidates(engine, tree, url, *limits):
        weight = text_weight("".join(candidate))
        if weight > best_weight and _is_this_article(candidate, paragraphs, title_words):
            best, best_weight = candidate, weight
    return best if best_weight > _FALLBACK_RATIO * max(found, 1) else paragraphs


def extract_html(
    html: str,
    url: str | None = None,
    *,
    engine: Engine | None = None,
    max_elements: int = PARSE_MAX_ELEMENTS,
    max_depth: int = PARSE_MAX_DEPTH,
) -> Extracted:
    """Main text and metadata from one HTML page; raises ExtractionError when there is none
    (reason ``no_content``), or when the page has more than ``max_elements`` elements
    (``too_many_elements``, checked before parsing) or nests them deeper than ``max_depth``
    (``too_deep``).

    ``engine`` chooses how trafilatura runs (its internals or its public API only); by default
    the one :func:`service._trafilatura.engine` picked for the installed release.
    """
    engine = engine or _trafilatura.engine()
    check_markup(html, max_elements)
    try:
        tree = engine.load_html(as_document(html))
        if tree is None:  # pragma: no cover - as_document gives lxml a document to parse
            raise ExtractionError("the page holds no HTML document", reason="no_content")
        check_tree(tree, max_depth)
        input_chars = _access.visible_chars(tree)
        declared = _access.access_from_markup(tree)
        _unwrap_layout_tables(tree)
        kinds = _boilerplate.prune(tree)
        meta, found = engine.extract(tree, url, fast=_FAST)
        limits = (max_elements, max_depth)
        found = _embedded_fallback(engine, tree, url, found, meta.title, limits)
        paragraphs, seen = _boilerplate.drop_prompts(found)
        kinds |= seen
        paragraphs = restore_lists(tree, trim_furniture(paragraphs))
    except PARSER_ERRORS as exc:
        raise ExtractionError(f"trafilatura could not parse the page: {exc}") from exc
    # Markup debris that trafilatura kept as text ("<<>>", stray brackets) is no article.
    paragraphs = [p for p in paragraphs if _has_words(p)]
    if not paragraphs:
        raise ExtractionError("no article text found in the page", reason="no_content")
    signals = _access.page_signals(declared, kinds, found, paragraphs, input_chars)
    title = meta.title or _title_from_html(html)
    canonical = _canonical_from_html(html)
    if not canonical and meta.url and meta.url.startswith(("http://", "https://")):
        canonical = meta.url
    site_name = meta.sitename or None
    if title:
        title = strip_section_suffixes(strip_site_suffix(title, site_name))
    # Title, bylines and dates: service.metadata, with trafilatura's as the last resort.
    try:
        page = read_page(
            tree,
            url,
            paragraphs,
            title=title,
            author=meta.author,
            date=meta.find_date,
            site_name=site_name,
        )
    except _trafilatura.DeferredError as exc:  # trafilatura's date search, run only now
        raise ExtractionError(f"trafilatura could not parse the page: {exc}") from exc.__cause__
    return Extracted(
        title=page.title or None,
        paragraphs=page.paragraphs,
        authors=page.authors,
        date=page.date,
        meta=page.meta,
        site_name=site_name,
        canonical_url=canonical or url,
        description=meta.description or None,
        access=signals.access,
        truncated=signals.truncated,
        kept_share=signals.kept_share,
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


def _has_words(paragraph: str) -> bool:
    """Whether a paragraph holds a letter or a digit, in any script."""
    return any(ch.isalnum() for ch in paragraph)


def extract_text(
    text: str, *, max_lines: int = TEXT_MAX_LINES, max_line_chars: int = TEXT_MAX_LINE_CHARS
) -> Extracted:
    """Article from a plain-text input, with line-level boilerplate removed.

    Raises ExtractionError: ``no_content``, or ``too_many_lines`` / ``line_too_long`` for a
    text with more than ``max_lines`` lines or a line longer than ``max_line_chars``.
    """
    check_text(text, max_lines, max_line_chars)
    cleaned = clean_plain_text(text)
    paragraphs = [p for p in cleaned.paragraphs if _has_words(p)]
    if not paragraphs:
        raise ExtractionError("the text holds no article paragraphs", reason="no_content")
    signals = _access.text_signals(text, paragraphs)
    return Extracted(
        title=cleaned.title,
        paragraphs=paragraphs,
        access=signals.access,
        truncated=signals.truncated,
        kept_share=signals.kept_share,
    )
