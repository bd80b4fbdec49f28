"""The page as a reader sees it: visible text in lines, in document order.

Date lines and bylines are found by where they stand: just above or below the article, next
to its headline, not in a list of related stories or a comment thread. :class:`PageLines`
gives the visible lines of a page and :func:`article_span` finds the headline and the
article's first and last paragraph among them, so callers can ask "is this line in the
article's header or footer?".
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, count, islice
from operator import add, attrgetter

from lxml import etree
from lxml.html import HtmlElement

_BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "title",
})  # fmt: skip
_SKIP = frozenset({"script", "style", "noscript", "template", "head", "select", "option",
                   "textarea", "svg", "iframe", "object", "button", "math"})  # fmt: skip
# What ends a line, at its start and at its end.
_BREAKS = _BLOCK | {"br"}
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
# What extraction writes around a paragraph that the page does not show: list and quote
# markers, table pipes.
_MARKUP = re.compile(r"^(?:[-*•>#]+|\d+\.)\s+|^\|\s*|\s*\|$")
_MARKUP_STARTS = "-*•>#|"  # or a digit; at the end, a pipe
# Bounds, so a hostile page costs what an ordinary one does.
MAX_LINES = 20_000
MAX_LINE_CHARS = 3_000
# How far above the text a headline may stand, and how far below it a byline or date line.
_HEAD_REACH = 25
_FOOT_REACH = 10
# The text's first lines count as its head too: extraction keeps date and byline lines there.
_TOP_LINES = 6
# Paragraphs shorter than this at the end of the text ("文章评论", "Comments") are not where
# the article ends.
_MIN_LAST_CHARS = 15


@dataclass(slots=True)
class Line:
    """One visible line: its text, the block element it belongs to and how much of it is
    link text (lists of related stories are links)."""

    text: str
    element: HtmlElement
    link_chars: int = 0
    heading: int = 0  # 1..6 inside <h1>..<h6>

    @property
    def linked(self) -> bool:
        return self.link_chars * 2 > len(self.text)


_TEXT = attrgetter("text")


@dataclass
class PageLines:
    lines: list[Line] = field(default_factory=list)
    _compact: list[str] = field(default_factory=list)
    # The compact lines joined by newlines (which none holds), and where each one starts:
    # a search for a needle reads them all in one str.find.
    _joined: str = ""
    _starts: list[int] = field(default_factory=list)

    def compact(self, index: int) -> str:
        """The line without whitespace, for matching text that other code re-spaced."""
        self._index()
        return self._compact[index]

    def _index(self) -> None:
        """Build the compact lines, their join and starts, unless they cover every line."""
        if len(self._compact) == len(self.lines):
            return
        # A line's words are joined by single spaces and it holds no other whitespace.
        self._joined = "\n".join(map(_TEXT, self.lines)).replace(" ", "")
        self._compact = self._joined.split("\n") if self.lines else []
        # Line i starts after the lengths of the lines before it and i newlines.
        sizes = accumulate(map(len, self._compact[:-1]), initial=0)
        self._starts = list(map(add, sizes, count()))

    def find(self, needle: str, start: int = 0, stop: int | None = None) -> int:
        """The first line at or after ``start`` holding ``needle`` (whitespace ignored)."""
        key = "".join(needle.split())
        if not key:
            return -1
        end = len(self.lines) if stop is None else min(stop, len(self.lines))
        begin = max(0, start)
        if begin >= end:
            return -1
        self._index()
        found = self._joined.find(key, self._starts[begin])
        if found < 0:
            return -1
        index = bisect_right(self._starts, found) - 1  # the key holds no newline: one line
        return index if index < end else -1


def page_lines(root: HtmlElement) -> PageLines:
    """The visible lines of ``root``'s body (or the whole tree when it has none).

    One walk over the tree (lxml's iterwalk, in C): a block element or ``<br>`` ends the
    line at its start and at its end; text goes to the line being read with the link depth
    and heading level of the element it stands in (a tail: of the element's parent).
    """
    body = root.find(".//body")
    start = body if body is not None else root
    out = PageLines()
    parts: list[str] = []
    words = False  # whether the line being read holds more than whitespace
    links = heading = 0  # link characters and heading level of the line being read
    owner = start
    in_link = level = 0  # link depth and heading level of the element being read
    # For each open element: its parent's link depth and heading, and whether it ends a line.
    context: list[tuple[int, int, bool]] = []
    walk = etree.iterwalk(start, events=("start", "end", "comment", "pi"))
    for event, el in walk:
        if event == "start":
            tag = el.tag
            breaks = tag in _BREAKS
            context.append((in_link, level, breaks))
            if tag in _SKIP or (
                # hidden: written out here, not a function call per element; one call
                # lists the attribute names (a fifth of elements have none)
                (names := el.keys())
                and (
                    "hidden" in names
                    or ("aria-hidden" in names and el.get("aria-hidden") == "true")
                    or ("style" in names and _HIDDEN_STYLE.search(el.get("style") or ""))
                )
            ):
                walk.skip_subtree()  # the element's "end" comes next, for its tail
                continue
            if tag == "a":
                in_link += 1
            elif tag in _HEADINGS:
                level = _HEADINGS[tag]
            text = el.text
        else:
            breaks = False
            if event == "end":
                in_link, level, breaks = context.pop()
            text = el.tail
        if breaks:  # the line ends; the next one belongs to the element (at its end: parent)
            if words:
                _flush(out, parts, owner, links, heading, start)
            parts.clear()
            words = False
            links = heading = 0
            if event == "start":
                owner = el
            else:
                parent = el.getparent()
                owner = parent if parent is not None else start
        if text:
            parts.append(text)
            if not text.isspace():
                words = True
                if in_link:
                    links += len(text.strip())
                if level:
                    heading = level
    if words:
        _flush(out, parts, owner, links, heading, start)
    return out


def _flush(
    out: PageLines,
    parts: list[str],
    owner: HtmlElement,
    links: int,
    heading: int,
    start: HtmlElement,
) -> None:
    """End the line being read: ``parts`` make one line (blanks collapsed)."""
    if len(out.lines) < MAX_LINES:
        text = " ".join("".join(parts).split())[:MAX_LINE_CHARS]
        owner = owner if isinstance(owner, HtmlElement) else start
        out.lines.append(Line(text, owner, min(links, len(text)), heading))


@dataclass(frozen=True)
class Span:
    """Where the headline and the article's text are among the lines (-1: not found)."""

    title: int
    first: int
    last: int

    @property
    def anchor(self) -> int:
        """The headline's line when it stands just above the text, else the text's first."""
        if 0 <= self.title < self.first and self.first - self.title <= _HEAD_REACH:
            return self.title
        return self.first

    def header(self) -> range:
        """Lines from just above the headline to the article's first paragraph (or, when
        the text was not found among the lines, to a few lines below the headline)."""
        if self.first < 0:
            return range(max(0, self.title - 2), self.title + 10) if self.title >= 0 else range(0)
        top = self.anchor - 2 if self.anchor != self.first else self.first - 12
        return range(max(0, top), self.first + _TOP_LINES)

    def footer(self) -> range:
        """Lines from the article's last paragraph to a few below it."""
        if self.last < 0:
            return range(0)
        return range(self.last, self.last + _FOOT_REACH)


def article_span(lines: PageLines, title: str | None, paragraphs: Sequence[str]) -> Span:
    """Find the headline and the first and last paragraph of the extracted text."""
    last = -1
    title_key = "".join((title or "").split())
    first = _first_line(lines, paragraphs, title_key)
    if first >= 0:
        # Where the article ends: not at a short "Comments" line, nor in a list of links.
        longest: list[str] = []  # the last six long paragraphs, last first
        latest: list[str] = []  # the last three, for a text of short ones
        for text in _body(reversed(paragraphs), title_key):
            if len(latest) < 3:
                latest.append(text[:24])
            if len(text) >= _MIN_LAST_CHARS:
                longest.append(text[:24])
                if len(longest) == 6:
                    break
        for key in longest or latest:
            index = lines.find(key, first)
            if index >= 0 and not lines.lines[index].linked:
                last = index
                break
        last = max(last, first)
    title_line = -1
    if title_key:
        key = title_key[:40]
        stop = first + 1 if first >= 0 else None
        candidates = [
            i for i in _find_all(lines, key, stop) if len(lines.compact(i)) <= 3 * len(key)
        ]
        headed = [i for i in candidates if lines.lines[i].heading]
        pool = headed or candidates
        if pool:
            title_line = pool[-1]  # the one nearest the text: page titles repeat in navigation
    return Span(title_line, first, last)


def first_line(lines: PageLines, paragraphs: Sequence[str]) -> int:
    """The line of the text's first paragraph (-1: not found), as :func:`article_span` finds
    it without a headline."""
    return _first_line(lines, paragraphs, "")


def _first_line(lines: PageLines, paragraphs: Sequence[str], title_key: str) -> int:
    # The first paragraph may be one the page does not show as a line: three are tried.
    first = -1
    for text in islice(_body(paragraphs, title_key), 3):
        first = lines.find(text[:24])
        if first >= 0:
            break
    return first


def _body(paragraphs: Iterable[str], title_key: str) -> Iterator[str]:
    """The paragraphs as lines hold them (no markup, no whitespace), in the order given; the
    headline is often the text's first paragraph, and the text starts after it."""
    for paragraph in paragraphs:
        if paragraph[:1] in _MARKUP_STARTS or paragraph[:1].isdigit() or "|" in paragraph[-2:]:
            paragraph = _MARKUP.sub("", paragraph)
        text = "".join(paragraph.split())
        if text and not (title_key and text in title_key):
            yield text


def _find_all(lines: PageLines, key: str, stop: int | None) -> list[int]:
    out: list[int] = []
    index = lines.find(key, 0, stop)
    while index >= 0 and len(out) < 50:
        out.append(index)
        index = lines.find(key, index + 1, stop)
    return out
