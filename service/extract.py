"""Article text and metadata from decoded HTML (trafilatura) or plain text (our cleaner)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from copy import deepcopy
from typing import Any

import lxml.html
import trafilatura
import trafilatura.metadata as tmeta
import trafilatura.utils as tutils
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction
from trafilatura.json_metadata import normalize_authors
from trafilatura.utils import is_dubious_html, repair_faulty_html, trim
from trafilatura.xml import delete_element

from .cleanup import FURNITURE_RULES, boilerplate_rule, clean_plain_text
from .errors import ExtractionError
from .records import Extracted

_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_CANONICAL_RE = re.compile(r"<link\b[^>]*\brel=[\"']?canonical[\"']?[^>]*>", re.IGNORECASE)
_HREF_RE = re.compile(r"\bhref=[\"']([^\"']+)[\"']", re.IGNORECASE)
# Scan only the head-ish start of the page for tags; bounded so hostile pages stay cheap.
_HEAD_SCAN = 200_000
# What trafilatura, htmldate and lxml raise on hostile markup (htmldate asserts, for one).
# Deliberately not Exception: a task's soft time limit must still get through.
_PARSER_ERRORS = (
    ValueError,
    TypeError,
    RecursionError,
    AssertionError,
    AttributeError,
    IndexError,
    KeyError,
    etree.LxmlError,
)
_WIDE_RE = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7a3\uf900-\ufaff]")
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


# lxml.html's parser chooses each element's Python class (FormElement for <form>, ...) in a
# Python callback, run every time lxml hands an element to Python: thousands of times a page
# in trafilatura, a few percent of our time. This copy of trafilatura's parser makes every
# element a plain HtmlElement without the callback (nothing here uses the form classes), and
# the copies trafilatura and htmldate make of our tree keep it.
_HTML_PARSER = tutils.HTML_PARSER.copy()
_HTML_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
    )
)


def _load_html(html: str) -> HtmlElement | None:
    """trafilatura's load_html for a decoded page, with the parser above."""
    beginning = html[:50].lower()
    html = repair_faulty_html(html, beginning)
    tree: HtmlElement | None = None
    with contextlib.suppress(ValueError, etree.LxmlError):  # a string declaring an encoding
        tree = lxml.html.fromstring(html, parser=_HTML_PARSER)
    if tree is None or len(tree) < 1:  # retry as bytes, as trafilatura does
        data, tree = html.encode("utf-8", "surrogatepass"), None
        with contextlib.suppress(ValueError, etree.LxmlError):
            tree = lxml.html.fromstring(data, parser=_HTML_PARSER)
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        return None  # not HTML at all
    return tree


def _split_authors(raw: str | None) -> list[str]:
    if not raw:
        return []
    parts = re.split(r"\s*[;|]\s*|\s+and\s+|\s*,\s*(?=[A-Z\u3131-\uD7A3\u4E00-\u9FFF])", raw)
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


def _weight(text: str) -> int:
    """Text size with CJK characters counted three times, about their share of a sentence."""
    return len(text) + 2 * len(_WIDE_RE.findall(text))


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
        if _weight(cell.text_content().strip()) > _LAYOUT_CELL_WEIGHT:
            return True
    return False


def _unwrap_layout_tables(tree: HtmlElement) -> None:
    """Turn layout tables into divs so trafilatura judges their content as ordinary blocks."""
    for table in reversed(list(tree.iter("table"))):
        if _is_layout_table(table):
            for el in table.iter("tbody", "thead", "tfoot", "tr", "td", "th"):
                el.tag = "div"
            table.tag = "div"


def _find_date(tree: HtmlElement, url: str | None) -> str | None:
    """htmldate's quick pass (markup, meta, URL) first, the extensive text search only if it
    finds nothing: on the dev corpus 2.0 ms a page instead of 12.6, and 34/48 dates right on
    the same day instead of 33/48 (the quick pass prefers explicit markup)."""
    for extensive in (False, True):
        config: dict[str, Any] = tmeta.set_date_params(extensive)  # type: ignore[attr-defined]
        config["url"] = url
        date: str | None = find_date(tree, **config)
        if date:
            return date
    return None


# trafilatura's extract_author copies the page, prunes it with AUTHOR_DISCARD_XPATHS and runs
# up to three AUTHOR_XPATHS over every element: 4.7 ms on a page whose meta tags name no
# author, as libxml2 evaluates attribute predicates slowly. _author applies the same tests
# (these tags, attributes and regexes) in one pass over the elements and copies only a
# candidate that holds a pruned element. tests/test_extract.py pins trafilatura's expressions
# and checks that both give the same author on every corpus page.
_AUTHOR_TAGS = frozenset({"a", "address", "div", "link", "p", "span", "strong"})
_BYLINE_TAGS = frozenset({"a", "div", "h3", "h4", "p", "span"})
_AUTHOR_NAME_CLASS = re.compile("author-?name|AuthorName|authorName")
_BYLINE_ID = re.compile("author|zuozhe|bianji|xiaobian")
_BYLINE_CLASS = re.compile(
    "author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name"
)
_LOOSE_ID = re.compile("[Aa]uthor")
_LOOSE_CLASS = re.compile("[Aa]uthor|screenname|writer|[Bb]yline")
_DISCARD_TAGS = frozenset({"a", "div", "section", "span"})
_DISCARD_ID = re.compile("^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile(
    "^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram"
    "|article-(?:share|support)|print|category|meta-date|meta-reviewer"
)
_AUTHOR_MAX_CHARS = 120


def _author_candidates(
    tree: HtmlElement,
) -> tuple[list[list[HtmlElement]], list[HtmlElement]]:
    """Elements each author expression selects, and the elements its pruning deletes (in the
    order trafilatura deletes them: the first discard expression's, then time and figure)."""
    ranks: list[list[HtmlElement]] = [[], [], []]
    discard: list[HtmlElement] = []
    times: list[HtmlElement] = []
    for el in tree.iter():
        tag = el.tag
        if not isinstance(tag, str):
            continue
        cls, id_ = el.get("class") or "", el.get("id") or ""
        itemprop, component = el.get("itemprop") or "", el.get("data-component") or ""
        if tag == "author" or (
            tag in _AUTHOR_TAGS
            and (
                el.get("rel") == "author"
                or id_ == "author"
                or cls == "author"
                or itemprop == "author name"
                or el.get("data-testid") in ("AuthorCard", "AuthorURL")
                or _AUTHOR_NAME_CLASS.search(cls)
            )
        ):
            ranks[0].append(el)
        if tag in _BYLINE_TAGS and (
            cls in ("byline", "username", "byl", "BBL")
            or "author" in itemprop
            or _BYLINE_ID.search(id_)
            or _BYLINE_CLASS.search(cls)
        ):
            ranks[1].append(el)
        if (
            "Byline" in component
            or "author" in itemprop
            or _LOOSE_ID.search(id_)
            or _LOOSE_CLASS.search(cls)
        ):
            ranks[2].append(el)
        if el is tree:  # the root of the copy has no parent and is never deleted
            continue
        if tag in _DISCARD_TAGS and (
            id_ == "comments"
            or cls in ("comments", "title", "date")
            or _DISCARD_ID.search(id_)
            or _DISCARD_CLASS.search(cls)
            or "Figure" in component
        ):
            discard.append(el)
        if tag in ("time", "figure"):
            times.append(el)
    return ranks, discard + times


def _pruned_text(
    el: HtmlElement, tree: HtmlElement, pruned: list[HtmlElement], gone: set[HtmlElement]
) -> str | None:
    """The element's text once the pruned elements are deleted; None if it is deleted too."""
    node: HtmlElement | None = el
    while node is not None and node is not tree:
        if node in gone:
            return None
        node = node.getparent()
    if not any(d in gone for d in el.iterdescendants()):
        return trim(" ".join(el.itertext()))
    copied = deepcopy(el)
    counterpart = dict(zip(el.iter(), copied.iter(), strict=True))
    for d in pruned:
        if d in counterpart:
            delete_element(counterpart[d])
    return trim(" ".join(copied.itertext()))


def _author(tree: HtmlElement) -> str | None:
    """trafilatura's extract_author, in one pass over the elements."""
    if next(tree.iter("rel"), None) is not None:
        # Its first expression tests a child <rel> element's text, which pruning can change.
        return tmeta.extract_author(tree)
    ranks, pruned = _author_candidates(tree)
    gone = set(pruned)
    for candidates in ranks:
        for el in candidates:
            content = _pruned_text(el, tree, pruned, gone)
            if content and 2 < len(content) < _AUTHOR_MAX_CHARS:
                return normalize_authors(None, content)
    return None


def _metadata(tree: HtmlElement, url: str | None) -> dict[str, Any]:
    """trafilatura's metadata steps minus categories, tags and licence (a third of its time)."""
    meta = tmeta.examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None  # one-word "authors" in meta tags are site or desk names
    # trafilatura guards its own JSON-LD reader the same way: bugs there must not lose the page.
    with contextlib.suppress(Exception):
        meta = tmeta.extract_meta_json(tree, meta)
    title = meta.title or tmeta.extract_title(tree)
    author = meta.author or _author(tree)
    page_url = meta.url or tmeta.extract_url(tree, url)
    date = _find_date(tree, page_url)
    sitename = meta.sitename or tmeta.extract_sitename(tree)
    if sitename:
        sitename = sitename.lstrip("@")
        if sitename and "." not in sitename and not sitename[0].isupper():
            sitename = sitename.title()
    return {
        "title": title,
        "author": author,
        "url": page_url,
        "date": date,
        "sitename": sitename,
        "description": meta.description,
    }


def _body(tree: HtmlElement, url: str | None, *, fast: bool = True) -> list[str]:
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
        with_metadata=False,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
    )
    text = str(getattr(doc, "text", None) or "") if doc is not None else ""
    return [line.strip() for line in text.split("\n") if line.strip()]


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


def _embedded_candidates(tree: HtmlElement) -> Iterator[list[str]]:
    """Article text that a page ships in scripts: JSON-LD ``articleBody``, and HTML inside
    JSON/JS strings (Next.js flight data, Nuxt/Redux state) that the browser renders."""
    for script in tree.iter("script"):
        code = script.text or ""
        if len(code) < _MIN_EMBEDDED_CHARS or len(code) > _MAX_SCRIPT_CHARS:
            continue
        if (script.get("type") or "").lower() == "application/ld+json":
            try:
                data = json.loads(code)
            except ValueError:
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
            except ValueError:
                continue
            if isinstance(value, str) and value.count("<p") >= _MIN_EMBEDDED_PARAGRAPHS:
                yield _body(_fragment_tree(value), None)


def _fragment_tree(fragment: str) -> HtmlElement:
    tree = _load_html(f"<html><body><article>{fragment}</article></body></html>")
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


def _embedded_fallback(tree: HtmlElement, paragraphs: list[str], title: str | None) -> list[str]:
    """Use embedded article text when trafilatura found nothing or much less of it."""
    found = _weight("".join(paragraphs))
    if found >= _SHORT_BODY_WEIGHT:
        return paragraphs
    title_words = _title_words(title)
    best, best_weight = paragraphs, found
    for candidate in _embedded_candidates(tree):
        weight = _weight("".join(candidate))
        if weight > best_weight and _is_this_article(candidate, paragraphs, title_words):
            best, best_weight = candidate, weight
    return best if best_weight > _FALLBACK_RATIO * max(found, 1) else paragraphs


def extract_html(html: str, url: str | None = None) -> Extracted:
    """Main text and metadata from one HTML page; raises ExtractionError when there is none."""
    try:
        tree = _load_html(html)
        if tree is None:
            raise ExtractionError("the page holds no HTML document", reason="no_content")
        _unwrap_layout_tables(tree)
        data = _metadata(tree, url)
        paragraphs = _body(tree, url, fast=_FAST)
        paragraphs = trim_furniture(_embedded_fallback(tree, paragraphs, data.get("title")))
    except _PARSER_ERRORS as exc:
        raise ExtractionError(f"trafilatura could not parse the page: {exc}") from exc
    if not paragraphs:
        raise ExtractionError("no article text found in the page", reason="no_content")
    title = data.get("title")
    if not title:
        found = _TITLE_RE.search(html, 0, _HEAD_SCAN)
        title = re.sub(r"\s+", " ", found.group(1)).strip() if found else None
    canonical = _canonical_from_html(html)
    meta_url = data.get("url")
    if not canonical and isinstance(meta_url, str) and meta_url.startswith(("http://", "https://")):
        canonical = meta_url
    site_name = data.get("sitename") or None
    if title:
        title = strip_section_suffixes(strip_site_suffix(title, site_name))
    return Extracted(
        title=title or None,
        paragraphs=paragraphs,
        authors=_split_authors(data.get("author")),
        date=data.get("date") or None,
        site_name=site_name,
        canonical_url=canonical or url,
        description=data.get("description") or None,
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
