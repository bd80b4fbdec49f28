"""The page as a reader sees it: visible text in lines, in document order.

Date lines and bylines are found by where they stand: just above or below the article, next
to its headline, not in a list of related stories or a comment thread. :class:`PageLines`
gives the visible lines of a page and :func:`article_span` finds the headline and the
article's first and last paragraph among them, so callers can ask "is this line in the
article's header or footer?".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml.html import HtmlElement

_BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "title",
})  # fmt: skip
_SKIP = frozenset({"script", "style", "noscript", "template", "head", "select", "option",
                   "textarea", "svg", "iframe", "object", "button", "math"})  # fmt: skip
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
# What extraction writes around a paragraph that the page does not show: list and quote
# markers, table pipes.
_MARKUP = re.compile(r"^(?:[-*•>#]+|\d+\.)\s+|^\|\s*|\s*\|$")
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


@dataclass
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


@dataclass
class PageLines:
    lines: list[Line] = field(default_factory=list)
    _compact: list[str] = field(default_factory=list)

    def compact(self, index: int) -> str:
        """The line without whitespace, for matching text that other code re-spaced."""
        if not self._compact:
            self._compact = [_SPACE.sub("", line.text) for line in self.lines]
        return self._compact[index]

    def find(self, needle: str, start: int = 0, stop: int | None = None) -> int:
        """The first line at or after ``start`` holding ``needle`` (whitespace ignored)."""
        key = _SPACE.sub("", needle)
        if not key:
            return -1
        end = len(self.lines) if stop is None else min(stop, len(self.lines))
        for index in range(max(0, start), end):
            if key in self.compact(index):
                return index
        return -1


def page_lines(root: HtmlElement) -> PageLines:
    """The visible lines of ``root``'s body (or the whole tree when it has none)."""
    body = root.find(".//body")
    start = body if body is not None else root
    out = PageLines()
    parts: list[str] = []
    state = {"links": 0, "owner": start, "heading": 0}

    def flush() -> None:
        if parts:
            text = _SPACE.sub(" ", "".join(parts)).strip()[:MAX_LINE_CHARS]
            if text and len(out.lines) < MAX_LINES:
                owner = state["owner"]
                owner = owner if isinstance(owner, HtmlElement) else start
                links = min(int(state["links"]), len(text))
                out.lines.append(Line(text, owner, links, int(state["heading"])))
            parts.clear()
        state["links"] = 0
        state["heading"] = 0

    # An explicit stack: ("open", element, link depth, heading) and ("tail", element, ...).
    stack: list[tuple[str, HtmlElement, int, int]] = [("open", start, 0, 0)]
    while stack:
        kind, el, in_link, heading = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else ""
        if kind == "tail":
            if tag in _BLOCK or tag == "br":
                flush()
                state["owner"] = el.getparent() if el.getparent() is not None else start
            if el.tail:
                _add(parts, state, el.tail, in_link, heading)
            continue
        stack.append(("tail", el, in_link, heading))
        if not tag or tag in _SKIP or _hidden(el):
            continue
        if tag in _BLOCK or tag == "br":
            flush()
            state["owner"] = el
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            heading = int(tag[1])
        link = in_link + (1 if tag == "a" else 0)
        if el.text:
            _add(parts, state, el.text, link, heading)
        for child in reversed(el):
            stack.append(("open", child, link, heading))
    flush()
    return out


def _add(parts: list[str], state: dict[str, object], text: str, in_link: int, heading: int) -> None:
    parts.append(text)
    if in_link:
        state["links"] = int(state["links"]) + len(text.strip())  # type: ignore[call-overload]
    if heading and text.strip():
        state["heading"] = heading


def _hidden(el: HtmlElement) -> bool:
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    return bool(style) and _HIDDEN_STYLE.search(style) is not None


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
    first = last = -1
    title_key = _SPACE.sub("", title or "")
    # The headline is often the text's first paragraph; the text starts after it.
    texts = [_SPACE.sub("", _MARKUP.sub("", p)) for p in paragraphs]
    body = [t for t in texts if t and not (title_key and t in title_key)]
    keys = [t[:24] for t in body]
    for key in keys[:3]:  # the first paragraph may be one the page does not show as a line
        first = lines.find(key)
        if first >= 0:
            break
    if first >= 0:
        # Where the article ends: not at a short "Comments" line, nor in a list of links.
        tail = [t[:24] for t in body if len(t) >= _MIN_LAST_CHARS]
        for key in reversed(tail[-6:] or keys[-3:]):
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


def _find_all(lines: PageLines, key: str, stop: int | None) -> list[int]:
    out: list[int] = []
    index = lines.find(key, 0, stop)
    while index >= 0 and len(out) < 50:
        out.append(index)
        index = lines.find(key, index + 1, stop)
    return out
