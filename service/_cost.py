"""What one input may cost: the elements and nesting of a page, the lines of a text, and the
parts of a page that trafilatura reads with quadratic patterns.

A page of 10 MB can hold a million elements, and a 30 KB gzip ten million short lines; what
the stages after decoding build for them (trees, element copies, line records) takes
gigabytes and minutes. These checks run first, cost one pass over the text at most, keep
nothing, and refuse with the limit's name as the reason (``too_many_elements``,
``too_deep``, ``too_many_lines``, ``line_too_long``). Limits are settings
(``parse_max_elements``, ``parse_max_depth``, ``text_max_lines``, ``text_max_line_chars``);
the defaults below are theirs.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from functools import cache
from itertools import islice

from lxml import etree
from lxml.html import HtmlElement

from .errors import ExtractionError

__all__ = [
    "PARSE_MAX_DEPTH",
    "PARSE_MAX_ELEMENTS",
    "TEXT_MAX_LINES",
    "TEXT_MAX_LINE_CHARS",
    "bounded_json_ld",
    "check_markup",
    "check_text",
    "check_tree",
    "defuse_doctype",
    "strip_doctype",
]

PARSE_MAX_ELEMENTS = 200_000
PARSE_MAX_DEPTH = 400
TEXT_MAX_LINES = 50_000
TEXT_MAX_LINE_CHARS = 100_000

# libxml2 (without XML_PARSE_HUGE, as trafilatura parses) stops reading a page at this depth:
# everything after the 256th nested element is lost, so such a tree is refused as too deep.
_PARSER_MAX_DEPTH = 256
# Every element the parser builds starts at "<" and a letter (the implied html, head and
# body aside), so counting those bounds the tree before it is built.
_TAG_START = re.compile(r"<[A-Za-z]")
_FEED_BYTES = 1 << 16
# What str.splitlines() splits on (the plain-text cleaner splits so).
_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def check_markup(html: str, max_elements: int = PARSE_MAX_ELEMENTS) -> None:
    """Refuse a page with more than ``max_elements`` elements, before its tree is built.

    Raises ExtractionError(reason="too_many_elements"). Cheap first: a page with fewer "<"
    than the limit passes at once; one with more tag starts is parsed in a streaming pass that
    keeps no tree and stops at the limit (script text can hold "<x" that are no elements).
    """
    if html.count("<") <= max_elements:
        return
    if sum(1 for _ in islice(_TAG_START.finditer(html), max_elements + 1)) <= max_elements:
        return
    if _streamed_elements(html, max_elements) > max_elements:
        raise ExtractionError(
            f"the page has more elements than parse_max_elements ({max_elements}); "
            "it is refused before its tree is built",
            reason="too_many_elements",
        )


def _streamed_elements(html: str, limit: int) -> int:
    """Elements libxml2 builds for ``html``, counted up to ``limit`` + 1 without a tree."""
    parser = etree.HTMLPullParser(events=("start", "end"), remove_comments=True, encoding="utf-8")
    data = html.encode("utf-8", "replace")  # lone surrogates: lxml refuses them in a str
    seen = 0
    for offset in range(0, len(data), _FEED_BYTES):
        parser.feed(data[offset : offset + _FEED_BYTES])
        for event, element in parser.read_events():
            if event == "start":
                seen += 1
                continue
            element.clear()  # an element is done: drop it and its finished siblings
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
        if seen > limit:
            return seen
    with contextlib.suppress(etree.LxmlError):  # recover mode reports, it does not raise
        parser.close()
    return seen


@cache
def _deeper_than(depth: int) -> etree.XPath:
    """An XPath that finds an element below ``depth`` levels (the root is level 1); linear:
    each step visits the elements of one level once."""
    return etree.XPath("boolean(" + "/".join(["*"] * depth) + ")")


def check_tree(tree: etree._Element, max_depth: int = PARSE_MAX_DEPTH) -> None:
    """Refuse a parsed page nested deeper than ``max_depth`` (or as deep as the parser reads).

    Raises ExtractionError(reason="too_deep").
    """
    root = tree.getroottree().getroot()
    depth = min(max_depth, _PARSER_MAX_DEPTH - 1)
    if not _deeper_than(depth)(root):
        return
    if depth < max_depth:
        message = (
            f"the page nests elements {_PARSER_MAX_DEPTH} deep, where the HTML parser stops "
            f"reading (parse_max_depth is {max_depth}): the rest of the page is lost"
        )
    else:
        message = f"the page nests elements deeper than parse_max_depth ({max_depth})"
    raise ExtractionError(message, reason="too_deep")


def check_text(
    text: str, max_lines: int = TEXT_MAX_LINES, max_line_chars: int = TEXT_MAX_LINE_CHARS
) -> None:
    """Refuse plain text with more than ``max_lines`` lines (blank ones too) or a line longer
    than ``max_line_chars`` characters; stops at the first line over either limit.

    Raises ExtractionError(reason="too_many_lines" or "line_too_long").
    """
    lines, start = 1, 0
    for match in _LINE_BREAK.finditer(text):
        if match.start() - start > max_line_chars:
            break
        start = match.end()
        lines += 1
        if lines > max_lines:
            raise ExtractionError(
                f"the text has more than text_max_lines ({max_lines}) lines",
                reason="too_many_lines",
            )
    else:
        if len(text) - start <= max_line_chars:
            return
    raise ExtractionError(
        f"line {lines} of the text is longer than text_max_line_chars ({max_line_chars})",
        reason="line_too_long",
    )


# trafilatura reads JSON-LD with patterns that are quadratic in a script's length (its
# normalize_json strips tags with "<[^>]*>", rescanning from every "<"; its fallbacks for
# broken JSON search lazily from every "author"): 0.4 s for 20,000 characters, 17 minutes for
# a megabyte. Scripts longer than this, or past this many characters on one page, are hidden
# from trafilatura and htmldate while they run (the dev corpus's longest is 30,025).
_JSON_LD_MAX_CHARS = 50_000
_JSON_LD_PAGE_CHARS = 100_000
_JSON_LD_TYPES = frozenset({"application/ld+json", "application/settings+json"})


@contextlib.contextmanager
def bounded_json_ld(tree: HtmlElement) -> Iterator[None]:
    """Hide the JSON-LD scripts over the limits from what runs inside; then put them back
    (the embedded-article reader parses them with json, in linear time)."""
    hidden: list[tuple[HtmlElement, str]] = []
    budget = _JSON_LD_PAGE_CHARS
    for script in tree.iter("script"):
        text = script.text
        if not text or script.get("type") not in _JSON_LD_TYPES:
            continue
        if len(text) > min(_JSON_LD_MAX_CHARS, budget):
            hidden.append((script, text))
            script.text = None
        else:
            budget -= len(text)
    try:
        yield
    finally:
        for script, text in hidden:
            script.text = text


# trafilatura's repair_faulty_html removes a doctype from the first line with
# "^< ?! ?DOCTYPE[^>]*/[^<>]*>", which retries "[^<>]*" from every "/": a first line of
# 20,000 slashes takes 6 s, of a megabyte hours. strip_doctype removes what it removes.
_DOCTYPE_START = re.compile(r"< ?! ?DOCTYPE", re.IGNORECASE)
_DOCTYPE_NEAR = 1000  # a doctype's ">" within this many characters costs the pattern little


def strip_doctype(html: str) -> str:
    """The first line without the doctype trafilatura's pattern removes, joined to the rest by
    a newline as trafilatura joins it (even where the page had none)."""
    first, _, rest = html.partition("\n")
    start = _DOCTYPE_START.match(first)
    if start is not None:
        close = first.find(">", start.end())
        slash = first.rfind("/", start.end(), close) if close >= 0 else -1
        if slash >= 0 and "<" not in first[slash + 1 : close]:
            first = first[close + 1 :]
    return first + "\n" + rest


def defuse_doctype(html: str) -> str:
    """For trafilatura's public load_html, which runs that pattern itself: a doctype whose ">"
    is not near gets a newline after "<!DOCTYPE", so the first line the pattern reads is short
    (it then removes nothing; libxml2 reads the doctype as before)."""
    start = _DOCTYPE_START.match(html)
    if start is None:
        return html
    near = html[start.end() : start.end() + _DOCTYPE_NEAR]
    if ">" in near or "\n" in near:
        return html
    return html[: start.end()] + "\n" + html[start.end() :]
