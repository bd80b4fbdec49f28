"""Lists, tables and fact boxes of the article that trafilatura dropped, put back in place.

trafilatura leaves out a list inside an ``<aside>``, one whose box has a class it discards
("recipe-meta", "widget", "expand"), and one whose items are too short to look like text: an
ingredients list, a fact box, a table of figures. Such a list belongs to the article when it
lies inside the element that holds the article's paragraphs (found from the paragraphs
trafilatura did keep), after the first of them, and reads as content rather than page
furniture: its text is not links, it is not hidden, no navigation, share or comment block
holds it, and its items are short entries, not comments. It goes back after the paragraph
that precedes it on the page, with the heading that names it ("Ingredients") when that was
dropped too. A list outside that element (a recipe card after the post's own block) is not
restored: past the article's element, short unlinked lists are as often a page's widgets
(feedback options, mastheads) as its content.
"""

from __future__ import annotations

import re
from typing import Final

from lxml import etree
from lxml.html import HtmlElement

from ._boilerplate import furniture_name
from ._prompts import prompt_kind
from .scripts import text_weight

__all__ = ["restore_lists"]

_LIST_TAGS: Final = ("ul", "ol", "table", "dl")
_HEADINGS: Final = frozenset({"h2", "h3", "h4", "h5", "h6"})
# Blocks whose lists are page furniture, by tag and by name.
_FURNITURE_TAGS: Final = frozenset({"nav", "footer", "form", "header", "menu", "select", "button"})
# (Prompt and teaser names are service._boilerplate's.)
_FURNITURE_NAME_RE: Final = re.compile(
    r"nav|menu|share|social|footer|comment|breadcrumb|pagination|pager|tags?(?:[\s_-]|$)"
    r"|toc|table-of-contents|sidebar|advert|promo|cookie|consent|login|feedback|dislike"
    r"|tool-?bar|tool-?box|modal|popup|pop-up|dialog|dropdown|tooltip|overlay",
    re.IGNORECASE,
)
# A paragraph is found on the page by the first characters of its text (whitespace left out).
_KEY_CHARS = 32
_MIN_KEY_CHARS = 16
# The element holding the paragraphs is the deepest that holds this share of those found.
_CONTAINER_SHARE = 0.8
_MIN_ANCHORS = 2
# A list of content: little of its text in links, at least two entries, each short.
_MAX_LINK_DENSITY = 0.3
_MIN_ITEMS = 2
_MAX_ITEM_WEIGHT = 400
_MAX_MEAN_ITEM_WEIGHT = 200
_MAX_LIST_WEIGHT = 4000
# Restored only when most of its entries are missing from the text.
_MISSING_SHARE = 0.5
# A heading that names the list: a short block right before it.
_MAX_HEADING_WEIGHT = 80
# A list after the article's last paragraph is its own (a recipe card's ingredients) only when
# little text lies between them: past that, it is the page's (a masthead, a footer).
_MAX_TRAILING_GAP = 800


def _key(text: str) -> str:
    """The first ``_KEY_CHARS`` characters of ``text`` that are not whitespace."""
    # Whitespace removed from a prefix is a prefix of it removed from the whole: a long
    # paragraph is read no further than needed.
    key = "".join(text[: 2 * _KEY_CHARS].split())
    if len(key) < _KEY_CHARS and len(text) > 2 * _KEY_CHARS:
        key = "".join(text.split())
    return key[:_KEY_CHARS]


_NON_WORD = re.compile(r"[\W_]+")


def _letters(text: str) -> str:
    """Letters and digits only: a list's "▢" or "•" does not hide that its entry is there."""
    return _NON_WORD.sub("", text)


def _text(el: HtmlElement) -> str:
    """The element's text, a space between its pieces: blocks do not run into each other."""
    return " ".join(" ".join(el.itertext()).split())


def _anchors(root: HtmlElement, paragraphs: list[str]) -> list[tuple[HtmlElement, int]]:
    """Elements whose own leading text starts one of the paragraphs, with its index."""
    keys: dict[str, tuple[int, str]] = {}
    for i, para in enumerate(paragraphs):
        key = _key(para)
        if len(key) >= _MIN_KEY_CHARS:
            keys.setdefault(key[:_MIN_KEY_CHARS], (i, key))
    if not keys:
        return []
    out: list[tuple[HtmlElement, int]] = []
    for el in root.iter(etree.Element):  # elements only: a comment's text is not the page's
        head = el.text
        if not head or len(head) < _MIN_KEY_CHARS:
            continue
        key = _key(head)
        if len(key) < _MIN_KEY_CHARS:
            continue
        hit = keys.get(key[:_MIN_KEY_CHARS])
        if hit is not None and hit[1].startswith(key):
            out.append((el, hit[0]))
    return out


def _container(anchors: list[tuple[HtmlElement, int]]) -> HtmlElement | None:
    """The deepest element that holds most of the anchors."""
    counts: dict[HtmlElement, int] = {}
    depth: dict[HtmlElement, int] = {}
    for el, _ in anchors:
        chain = list(el.iterancestors())
        for d, ancestor in enumerate(reversed(chain)):
            counts[ancestor] = counts.get(ancestor, 0) + 1
            depth[ancestor] = d
    need = _CONTAINER_SHARE * len(anchors)
    best = [a for a, c in counts.items() if c >= need]
    return max(best, key=depth.__getitem__) if best else None


def _furniture(el: HtmlElement, container: HtmlElement) -> bool:
    """Inside navigation, share or comment blocks, or hidden, below ``container``."""
    node: HtmlElement | None = el
    while node is not None and node is not container:
        if node.tag in _FURNITURE_TAGS:
            return True
        name = f"{node.get('class') or ''} {node.get('id') or ''}"
        if name.strip() and (_FURNITURE_NAME_RE.search(name) or furniture_name(name)):
            return True
        style = (node.get("style") or "").replace(" ", "").lower()
        if node.get("hidden") is not None or "display:none" in style:
            return True
        if node.get("aria-hidden") == "true":
            return True
        node = node.getparent()
    return False


def _entries(el: HtmlElement) -> list[str]:
    """The list's entries as trafilatura writes them: "- item", "| cell | cell |"."""
    if el.tag in ("ul", "ol"):
        return [f"- {t}" for li in el if li.tag == "li" and (t := _text(li))]
    if el.tag == "dl":
        return [t for item in el if item.tag in ("dt", "dd") and (t := _text(item))]
    rows = []
    for tr in el.iter("tr"):
        cells = [_text(cell) for cell in tr if cell.tag in ("td", "th")]
        if any(cells):
            rows.append("| " + " | ".join(cells) + " |")
    return rows


def _reads_as_content(el: HtmlElement, entries: list[str]) -> bool:
    if len(entries) < _MIN_ITEMS:
        return False
    weights = [text_weight(e) for e in entries]
    total = sum(weights)
    if (
        max(weights) > _MAX_ITEM_WEIGHT
        or total > _MAX_LIST_WEIGHT
        or total > _MAX_MEAN_ITEM_WEIGHT * len(entries)
    ):
        return False
    links = sum(text_weight(_text(a)) for a in el.iter("a"))
    if links > _MAX_LINK_DENSITY * total:
        return False
    return not any(prompt_kind(e.lstrip("-| ")) for e in entries)


def _heading(el: HtmlElement) -> str | None:
    """The short block right before the list that names it ("Ingredients")."""
    previous = el.getprevious()
    while previous is not None and not isinstance(previous.tag, str):
        previous = previous.getprevious()
    if previous is None or (previous.tag not in _HEADINGS and previous.tag not in ("p", "div")):
        return None
    text = _text(previous)
    if not text or text_weight(text) > _MAX_HEADING_WEIGHT:
        return None
    return text


def _gap(container: HtmlElement, start: int, end: int) -> int:
    """Text weight between two positions of ``container.iter()`` (the first's own text
    left out)."""
    weight = 0
    for i, el in enumerate(container.iter()):
        if i > end:
            break
        if i > start and isinstance(el.tag, str) and el.tag not in ("script", "style"):
            weight += text_weight(el.text or "")
        if i >= start and i < end:
            weight += text_weight(el.tail or "")
    return weight


def restore_lists(tree: HtmlElement, paragraphs: list[str]) -> list[str]:
    """``paragraphs`` with the article's own lists and tables that are missing put back."""
    body = tree.find("body")
    root = body if body is not None else tree
    anchors = _anchors(root, paragraphs)
    if len(anchors) < _MIN_ANCHORS:
        return paragraphs
    container = _container(anchors)
    if container is None:
        return paragraphs
    open_ended = container is not root and container.tag not in ("body", "html")
    order = {el: i for i, el in enumerate(container.iter())}
    placed = sorted((order[el], index) for el, index in anchors if el in order)
    if len(placed) < _MIN_ANCHORS:
        return paragraphs
    first, last = placed[0][0], placed[-1][0]
    present = _letters("".join(paragraphs))
    inserts: dict[int, list[str]] = {}
    taken: set[HtmlElement] = set()
    for el in container.iter(*_LIST_TAGS):
        position = order.get(el, -1)
        if position <= first or (not open_ended and position >= last):
            continue
        if any(a in taken for a in el.iterancestors()):
            continue
        taken.add(el)
        entries = _entries(el)
        if not _reads_as_content(el, entries):
            continue
        missing = [e for e in entries if _letters(e)[:40] not in present]
        if len(missing) < _MISSING_SHARE * len(entries) or _furniture(el, container):
            continue
        if position > last and _gap(container, last, position) > _MAX_TRAILING_GAP:
            continue
        after = max(index for pos, index in placed if pos < position)
        block = entries
        heading = _heading(el)
        if heading and _letters(heading) not in present:
            block = [heading, *entries]
        inserts.setdefault(after, []).extend(block)
    if not inserts:
        return paragraphs
    out: list[str] = []
    for i, para in enumerate(paragraphs):
        out.append(para)
        out.extend(inserts.get(i, ()))
    return out
