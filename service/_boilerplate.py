"""Page furniture that trafilatura keeps, found by general properties of the markup and
text: paywall, newsletter and donation prompts, related-story teasers and "read more" lists.

Three kinds of evidence, none of them one site's sentence:

* **Markup words.** Class and id tokens that name a prompt (paywall, subscribe, newsletter,
  donate, disclosure) or a teaser block (related, recommended, read-more, more-stories,
  trending, outbrain). A block with such a name is removed only when it is not the article:
  no ``<h1>``, no run of prose paragraphs; a teaser name only on a block that links fill
  (a "read-more" class on the article's own text is common), a prompt name only on a short
  box or one whose words are a prompt's.
* **Teaser structure.** Teasers are links with headlines: a list whose items are each one
  headline-long link, a grid of sibling cards of one kind (a headline link and a line of
  summary each), or a block that a teaser label ("Related stories", "相关阅读", "관련기사")
  heads and links fill. A label inside a sentence ("<b>Related</b> charges were filed") is
  a word of it and stays.
* **Prompt text.** :mod:`service._prompts` names a short block of text as a prompt or label;
  :func:`drop_prompts` drops those blocks from trafilatura's paragraphs, and with a label
  the run of headlines it heads.

Lists, tables and fact boxes inside the article have little link text and no such names, so
these rules leave them; :mod:`service._lists` puts back the ones trafilatura drops.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import islice
from typing import Final

from lxml import etree
from lxml.html import HtmlElement

from ._prompts import (
    DONATION,
    NEWSLETTER,
    PAYWALL,
    SUBSCRIPTION,
    TEASER,
    is_teaser_label,
    prompt_kind,
)
from .scripts import CJK_WEIGHT, text_weight

__all__ = ["PROMPT", "drop_prompts", "furniture_name", "prune"]

# --- markup words -------------------------------------------------------------------------
_CTA_WORD = r"(?:^|[\s_-])cta(?:[\s_-]|$)"
_PROMPT_NAME_RE = re.compile(
    r"pay-?wall|reg-?wall|subscri(?:be|ption|ber)|newsletter|sign-?up|donat(?:e|ion)|upsell"
    rf"|support-?us|membership-?(?:prompt|cta|ask|banner|promo)|{_CTA_WORD}"
    r"|disclosure|contribution-?(?:ask|banner|epic)",
    re.IGNORECASE,
)
_TEASER_NAME_RE = re.compile(
    r"related|recommend|read-?(?:more|next|also)|more-?(?:stories|articles|news|from|on)"
    r"|also-?(?:read|like)|you-?may|most-?(?:read|popular|viewed)|popular-?(?:posts|stories)"
    r"|trending|recirc|outbrain|taboola|next-?(?:article|story|post)|up-?next|further-?reading"
    r"|around-?the-?web|sponsored|promoted",
    re.IGNORECASE,
)
# Never removed: the page itself and the elements that hold an article as a whole.
_KEEP_TAGS = frozenset({"html", "body", "head", "main"})
# Only whole blocks are removed by name: a "related-link" inside a sentence is words of it.
_BLOCK_TAGS = frozenset({"div", "section", "aside", "ul", "ol", "li", "p", "form", "figure",
                         "table", "article", "dl", "nav", "header", "footer", "h2", "h3", "h4",
                         "h5", "h6", "blockquote", "details", "iframe", "center"})  # fmt: skip
# Elements whose text is one block: a teaser label is one of these, holding inline ones only.
_LABEL_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6", "p", "div", "span", "strong", "b",
                         "header", "dt", "li", "section", "td"})  # fmt: skip
_INLINE_TAGS = frozenset({"a", "span", "strong", "b", "em", "i", "font", "img", "br", "small",
                          "u", "svg", "abbr"})  # fmt: skip
# A generic prompt: a box named for one whose words the prompt rules do not know.
PROMPT: Final = "prompt"
# The tags prune visits: either rule's.
_WALK_TAGS = tuple(sorted(_BLOCK_TAGS | _LABEL_TAGS))
_NOT_TEXT = frozenset({"script", "style", "noscript", "template"})

# A paragraph of prose: this much text (CJK x3) with little of it in links.
_PROSE_WEIGHT = 120
_PROSE_LINK_DENSITY = 0.2
# A named container holding this many prose paragraphs is the article, whatever its name.
_ARTICLE_PROSE = 3
# A block whose text is at least this share links is a link block.
_LINK_BLOCK_DENSITY = 0.5
# A prompt box is short; one longer than this is only removed when links fill it, and one
# longer than the small size only when its words are a prompt's too.
_PROMPT_BOX_WEIGHT = 1200
_SMALL_BOX_WEIGHT = 300
# A block named for teasers is removed when this share of its text is links, or when it is
# no bigger than a label.
_TEASER_DENSITY = 0.4
_LABEL_WEIGHT = 40
# A teaser headline: a link with at least this much text (CJK x3), and a list of at least
# this many of them.
_HEADLINE_WEIGHT = 24
_TEASER_ITEMS = 3
_TEASER_ITEM_LINK_SHARE = 0.7
_TEASER_LIST_SHARE = 0.8
# A card: a block of one headline link and a short summary; a grid holds them.
_GRID_TAGS = frozenset({"div", "section", "ul", "ol", "aside"})
_CARD_TAGS = frozenset({"div", "article", "li", "section"})
_CARD_WEIGHT = 500
_CARD_LINKS = 0.3
# A label is a short block with a few inline elements at most.
_LABEL_CHARS = 80
_LABEL_CHILDREN = 3
# How far a teaser label may climb to the block it heads.
_LABEL_CLIMB = 3
_LABEL_BLOCK_WEIGHT = 4000


def furniture_name(name: str) -> bool:
    """A class or id that names a prompt or teaser block."""
    return bool(_PROMPT_NAME_RE.search(name) or _TEASER_NAME_RE.search(name))


def _name(el: HtmlElement) -> str:
    cls, id_ = el.get("class"), el.get("id")
    if cls and id_:
        return f"{cls} {id_}"
    return cls or id_ or ""


def _text(el: HtmlElement) -> str:
    """The element's text, a space between its pieces: blocks do not run into each other."""
    return " ".join(" ".join(el.itertext()).split())


def _weight_upto(el: HtmlElement, limit: int) -> int:
    """``text_weight(_text(el))``, or a number above ``limit`` as soon as the text passes it:
    a label's ancestor may be the whole page, read no further than needed."""
    # _text joins the words of all pieces with single spaces, so its weight is the weights
    # of the pieces' texts so joined, one chunk of pieces at a time (joins in C; chunks
    # double), plus a space between chunks.
    pieces = el.itertext()
    weight, size = -1, 64
    while chunk := list(islice(pieces, size)):
        words = " ".join(chunk).split()
        if words:
            weight += text_weight(" ".join(words)) + 1
            if weight > limit:
                break
        size *= 2
    return max(weight, 0)


def _link_weight(el: HtmlElement) -> int:
    # text_weight adds up over concatenation: one count of wide characters for all links.
    return text_weight("".join(map(_text, el.iter("a"))))


def _link_density(el: HtmlElement, weight: int) -> float:
    return _link_weight(el) / weight if weight else 0.0


def _prose_paragraphs(el: HtmlElement, limit: int) -> int:
    """How many prose paragraphs ``el`` holds, counted up to ``limit``."""
    count = 0
    for p in el.iter("p"):
        weight = text_weight(_text(p))
        if weight >= _PROSE_WEIGHT and _link_density(p, weight) < _PROSE_LINK_DENSITY:
            count += 1
            if count >= limit:
                break
    return count


def _holds_article(el: HtmlElement) -> bool:
    return next(el.iter("h1"), None) is not None or _prose_paragraphs(el, _ARTICLE_PROSE) >= (
        _ARTICLE_PROSE
    )


def _remove(el: HtmlElement) -> None:
    """Drop an element but keep its tail text, which belongs to the parent."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


_ANY_NAME_RE = re.compile(
    f"(?P<prompt>{_PROMPT_NAME_RE.pattern})|{_TEASER_NAME_RE.pattern}", re.IGNORECASE
)


# The same words, matched case-sensitively in a lower-cased ASCII name (the words are lower
# case and ASCII): three times faster than a case-insensitive search, and the same match.
_ANY_NAME_LOWER_RE = re.compile(_ANY_NAME_RE.pattern)
# Most names hold none of the words. One flat alternation of them (the "cta" word without
# its edges) finds every name either pattern does, twice as fast: the search, only on those.
_SOME_NAME_LOWER_RE = re.compile(
    f"{_PROMPT_NAME_RE.pattern}|{_TEASER_NAME_RE.pattern}".replace(_CTA_WORD, "cta")
)

# A worker reads the same few hundred sites again and again, and their class names repeat:
# up to 65,536 names of up to 64 characters are kept (about 11 MB for names of 30 ASCII
# characters, 30 MB at most); a longer one is searched each time.
_CACHED_NAME_CHARS = 64


@lru_cache(maxsize=65536)
def _cached_name_kind(name: str) -> str | None:
    return _search_name_kind(name)


def _name_kind(name: str) -> str | None:
    """What a class/id names (pages repeat their class names: cached; one search)."""
    if len(name) > _CACHED_NAME_CHARS:
        return _search_name_kind(name)
    return _cached_name_kind(name)


def _search_name_kind(name: str) -> str | None:
    # Beyond ASCII, case folding matches more ("ſ" is "s"): the case-insensitive search.
    if name.isascii():
        lower = name.lower()
        if _SOME_NAME_LOWER_RE.search(lower) is None:
            return None
        found = _ANY_NAME_LOWER_RE.search(lower)
    else:
        found = _ANY_NAME_RE.search(name)
    if found is None:
        return None
    return TEASER if found.group("prompt") is None else PROMPT


def _named_block(el: HtmlElement) -> str | None:
    """The kind of prompt or teaser container ``el`` (one of the block tags) is by its class
    and id, if it is not the article."""
    name = _name(el)
    kind = _name_kind(name) if name else None
    if kind is None:
        return None
    text = _text(el)
    weight = text_weight(text)
    if weight == 0:
        return None  # empty slots: nothing to remove, nothing learnt
    density = _link_density(el, weight)
    if kind == TEASER:
        # Teasers are links: a "read-more" or "related" name on prose is the article's.
        if density < _TEASER_DENSITY and weight > _LABEL_WEIGHT:
            return None
    elif weight > _PROMPT_BOX_WEIGHT and density < _LINK_BLOCK_DENSITY:
        return None
    elif weight > _SMALL_BOX_WEIGHT and density < _LINK_BLOCK_DENSITY and not prompt_kind(text):
        return None  # a long box whose words are no prompt's: the name is not enough
    if _holds_article(el):
        return None
    if kind != TEASER:
        # The words say what the box asks for; a box named "subscribe" that asks for
        # nothing the prompt rules know is still furniture, but says nothing about access.
        seen = prompt_kind(text)
        kind = seen if seen in (PAYWALL, SUBSCRIPTION, NEWSLETTER, DONATION) else PROMPT
        if kind == PAYWALL and _hidden(el):
            kind = PROMPT  # a gate the page keeps hidden is not where this text stops
    return kind


def _hidden(el: HtmlElement) -> bool:
    """Hidden by its page: a ``hidden`` attribute or ``display:none`` on it or an ancestor."""
    node: HtmlElement | None = el
    while node is not None:
        style = (node.get("style") or "").replace(" ", "").lower()
        if (
            node.get("hidden") is not None
            or "display:none" in style
            or node.get("aria-hidden") == "true"
        ):
            return True
        node = node.getparent()
    return False


def _is_teaser_list(el: HtmlElement) -> bool:
    """A list whose items are each one headline-long link: "more stories" without a name."""
    items = [li for li in el if li.tag == "li"]
    if len(items) < _TEASER_ITEMS:
        return False
    allowed = len(items) - _TEASER_LIST_SHARE * len(items)  # items that may be no link
    for li in items:
        if not _is_headline_link(li, _TEASER_ITEM_LINK_SHARE):
            allowed -= 1
            if allowed < 0:
                return False  # menus and content lists fail on their first items
    return True


def _is_card_grid(el: HtmlElement) -> bool:
    """Sibling cards of one kind, each a headline link with at most a line of summary: the
    grid of other stories under an article, unnamed and unlabelled."""
    # The first card's tag first: most blocks fail there, before their children are listed.
    first = next(el.iterchildren(etree.Element), None)  # elements only, no comments
    if first is None or first.tag not in _CARD_TAGS:
        return False
    cards = list(el.iterchildren(etree.Element))
    if len(cards) < _TEASER_ITEMS:
        return False
    kind = (cards[0].tag, cards[0].get("class"))
    if sum(1 for c in cards if (c.tag, c.get("class")) == kind) < _TEASER_LIST_SHARE * len(cards):
        return False
    allowed = len(cards) - _TEASER_LIST_SHARE * len(cards)
    for card in cards:
        if _longer_than(card, _CARD_WEIGHT) or not _is_headline_link(card, _CARD_LINKS):
            allowed -= 1
            if allowed < 0:
                return False
    return True


def _longer_than(el: HtmlElement, chars: int) -> bool:
    """Whether ``el`` holds more than ``chars`` characters of text (of any script: a cheap
    bound, read no further than needed)."""
    size = 0
    for piece in el.itertext():
        size += len(piece)
        if size > chars:
            return True
    return False


def _is_headline_link(item: HtmlElement, share: float) -> bool:
    """Holds a headline-long link, and links are ``share`` of its text at least."""
    texts = [_text(a) for a in item.iter("a") if not (a.get("href") or "").startswith("#")]
    # A text weighs from its length to three times it: the longest link's weight is only
    # counted when its length leaves the answer open.
    longest = max(map(len, texts), default=0)
    if CJK_WEIGHT * longest < _HEADLINE_WEIGHT:
        return False
    if longest < _HEADLINE_WEIGHT and max(map(text_weight, texts)) < _HEADLINE_WEIGHT:
        return False
    total = text_weight("".join(texts))  # weights add up over concatenation
    return total >= share * text_weight(_text(item))


def _label_block(label: HtmlElement) -> list[HtmlElement]:
    """What a teaser label heads: the smallest ancestor that links fill, or else the label
    and the link blocks right after it."""
    block = label
    for _ in range(_LABEL_CLIMB):
        parent = block.getparent()
        if parent is None or parent.tag in _KEEP_TAGS:
            break
        weight = _weight_upto(parent, _LABEL_BLOCK_WEIGHT)
        if weight > _LABEL_BLOCK_WEIGHT or next(parent.iter("h1"), None) is not None:
            break
        rest = weight - text_weight(_text(label))
        if rest <= 0:
            block = parent  # a wrapper around the label alone
            continue
        if _link_weight(parent) < _LINK_BLOCK_DENSITY * rest or _prose_paragraphs(parent, 1):
            break
        block = parent
    if block is not label:
        return [block]
    if label.tag in _INLINE_TAGS:
        return []  # a word in a sentence ("<b>Related</b> charges were filed")
    out = [label]
    sibling = label.getnext()
    while sibling is not None:
        if not isinstance(sibling.tag, str):
            sibling = sibling.getnext()
            continue
        weight = text_weight(_text(sibling))
        if not weight or _link_density(sibling, weight) < _LINK_BLOCK_DENSITY:
            break
        out.append(sibling)
        sibling = sibling.getnext()
    return out


# Short texts repeat across a site's pages ("Share", "Related", its menus): up to 16,384 of
# them (at most 160 characters each: 13 MB at most, 3 MB usually) are kept.
_is_label = lru_cache(maxsize=16384)(is_teaser_label)


def _label_text(el: HtmlElement, children: int) -> str | None:
    """The text of a block short enough to be a label, holding inline elements only (as many
    as ``children``)."""
    head = el.text or ""
    if len(head) > _LABEL_CHARS:
        return None
    if not children:
        return head.strip()
    for child in el:
        if child.tag not in _INLINE_TAGS:
            return None
    pieces, size = [], 0
    for piece in el.itertext():
        size += len(piece.strip())
        if size > _LABEL_CHARS:
            return None  # a paragraph, not a label: stop reading it
        pieces.append(piece)
    return " ".join(" ".join(pieces).split())


def prune(tree: HtmlElement) -> set[str]:
    """Remove prompt and teaser blocks from ``tree``; return the prompt kinds seen.

    One walk over the tags either rule needs (lxml filters them in C), two rules at each:
    blocks by their name or shape, then teaser labels and what they head. A block found
    first hides what it holds from both.
    """
    body = tree.find("body")
    root = body if body is not None else tree
    blocks: list[HtmlElement] = []
    labelled: list[HtmlElement] = []
    kinds: set[str] = set()
    walk = root.iter(*_WALK_TAGS)
    for el in walk:
        tag, size = el.tag, len(el)
        if tag in _BLOCK_TAGS:
            kind = _named_block(el)
            if (
                kind is None
                and size >= _TEASER_ITEMS
                and (
                    (tag in ("ul", "ol") and _is_teaser_list(el))
                    or (tag in _GRID_TAGS and _is_card_grid(el))
                )
            ):
                kind = TEASER
            if kind is not None:
                blocks.append(el)
                kinds.add(kind)
                # The walk is in document order: its next elements are the block's own of
                # these tags, as many as it holds. Pass them (neither rule looks inside).
                held = sum(1 for _ in el.iterdescendants(*_WALK_TAGS))
                if held:
                    next(islice(walk, held - 1, None), None)
        if tag in _LABEL_TAGS and size <= _LABEL_CHILDREN:
            text = _label_text(el, size)
            if text and _is_label(text):
                block = _label_block(el)
                labelled.extend(block)
                if block:
                    kinds.add(TEASER)
    # All blocks, then all labels' blocks: of two adjacent removals, the first found decides
    # where the whitespace between them goes.
    _remove_outermost(blocks + labelled)
    return kinds


def _remove_outermost(doomed: Iterable[HtmlElement]) -> None:
    # A dict, not a set: in the order found (a set's follows memory addresses and changes
    # from run to run), and of two adjacent removals the first decides where the whitespace
    # between them goes.
    chosen = dict.fromkeys(doomed)
    for el in chosen:
        if not any(a in chosen for a in el.iterancestors()):
            _remove(el)


# --- text -----------------------------------------------------------------------------------
# A run of headline-like lines after a teaser label is its list: short, no sentence end.
_HEADLINE_LINE_WEIGHT = 240
_TERMINAL = ".!?。！？…"
_CLOSERS = "\"'”’」』）)]】》"


def _headline_like(text: str) -> bool:
    core = text.rstrip(_CLOSERS + " ")
    return text_weight(text) <= _HEADLINE_LINE_WEIGHT and not (core and core[-1] in _TERMINAL)


def drop_prompts(paragraphs: list[str]) -> tuple[list[str], set[str]]:
    """Paragraphs without prompts and teaser labels (with the headlines a label heads), and
    the prompt kinds seen. Everything is kept when the rules would leave nothing."""
    kept: list[str] = []
    kinds: set[str] = set()
    i = 0
    while i < len(paragraphs):
        para = paragraphs[i]
        kind = prompt_kind(para)
        i += 1
        if kind is None:
            kept.append(para)
            continue
        kinds.add(kind)
        if kind == TEASER and is_teaser_label(para):
            run = i
            while run < len(paragraphs) and _headline_like(paragraphs[run]):
                run += 1
            if run - i >= 2 or (run == len(paragraphs) and run > i):
                i = run  # two or more headlines, or the headlines that end the page
    if not kept:
        return list(paragraphs), kinds
    return kept, kinds
