"""The signals a consumer filters on besides the text: whether the article is behind a
paywall, whether the text looks cut short, and how much of the input was kept.

``access`` is the publisher's own word first: JSON-LD or microdata ``isAccessibleForFree``
(schema.org's markup for paywalled content, which Google asks paywalled sites to use) or an
``article:content_tier`` meta tag. A page that says nothing is ``paywalled`` when a paywall
gate was seen (service._prompts), else ``unknown``: no markup and no gate is not proof of
free access. ``truncated`` is about the text in hand: a gate was seen, or the text ends the
way excerpts end. ``kept_share`` is the kept text's characters over the input's visible
characters, whitespace not counted on either side.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from lxml import etree
from lxml.html import HtmlElement

from ._prompts import PAYWALL, prompt_kind
from .scripts import text_weight

__all__ = [
    "ACCESS_FREE",
    "ACCESS_PAYWALLED",
    "ACCESS_UNKNOWN",
    "Signals",
    "access_from_markup",
    "kept_share",
    "looks_truncated",
    "page_signals",
    "text_signals",
    "visible_chars",
]

ACCESS_PAYWALLED: Final = "paywalled"
ACCESS_FREE: Final = "free"
ACCESS_UNKNOWN: Final = "unknown"
_NOT_TEXT = ("script", "style", "noscript", "template")


@dataclass(frozen=True)
class Signals:
    """What a consumer can filter on besides the text."""

    access: str = ACCESS_UNKNOWN
    truncated: bool = False
    kept_share: float | None = None


# --- access --------------------------------------------------------------------------------
_ACCESSIBLE_RE = re.compile(
    r"[\"']?isAccessibleForFree[\"']?\s*:\s*[\"']?(true|false|yes|no)\b", re.IGNORECASE
)
_FREE_VALUES = frozenset({"true", "yes", "1", "free"})
_PAID_VALUES = frozenset({"false", "no", "0", "locked", "paid", "premium", "subscriber"})


def access_from_markup(tree: HtmlElement) -> str | None:
    """What the page says of its own access: JSON-LD or microdata ``isAccessibleForFree``,
    or an ``article:content_tier`` meta tag. None when it says nothing; "paywalled" when
    any part is marked not free (a page marks its locked part, schema.org's convention)."""
    values: list[str] = []
    for script in tree.iter("script"):
        code = script.text
        if code and "ccessibleForFree" in code and "ld+json" in (script.get("type") or ""):
            values.extend(m.group(1).lower() for m in _ACCESSIBLE_RE.finditer(code))
    for meta in tree.iter("meta"):
        key = (meta.get("itemprop") or meta.get("property") or meta.get("name") or "").lower()
        if key in ("isaccessibleforfree", "article:content_tier", "content_tier"):
            values.append((meta.get("content") or "").strip().lower())
    if any(v in _PAID_VALUES for v in values):
        return ACCESS_PAYWALLED
    if any(v in _FREE_VALUES for v in values):
        return ACCESS_FREE
    return None


_ELLIPSIS_END_RE = re.compile(r"(?:\.\.\.|…|\[(?:\.\.\.|…)\]|\(more\))\s*$")
# An excerpt ends in a link to the rest ("Continue reading →", "Read the full story").
_CONTINUE_RE = re.compile(
    r"\W*(?:continue\s+reading|keep\s+reading|read\s+(?:the\s+)?(?:full|whole|rest|entire)"
    r"(?:\s+(?:of\s+the\s+)?(?:story|article|post))?)\b.{0,80}",
    re.IGNORECASE,
)
# An ellipsis ends an excerpt only after a paragraph of this weight; a short line ending in
# one is a joke's punchline or a quote trailing off.
_EXCERPT_WEIGHT = 100


def looks_truncated(original: list[str], kept: list[str], kinds: set[str]) -> bool:
    """Whether the text stops before the article does: a paywall prompt was seen, the
    text ends in an ellipsis, or its last block was a "continue reading" link."""
    if PAYWALL in kinds:
        return True
    if original and _CONTINUE_RE.fullmatch(original[-1].strip()):
        return True
    if not kept:
        return False
    last = kept[-1]
    return text_weight(last) >= _EXCERPT_WEIGHT and _ELLIPSIS_END_RE.search(last) is not None


# --- kept share -----------------------------------------------------------------------------
# The ASCII characters that str.split() takes for whitespace.
_ASCII_SPACE = bytes(c for c in range(128) if chr(c).isspace())


def _non_space(text: str) -> int:
    if text.isascii():  # deleting bytes in one C pass: ten times faster than splitting
        return len(text.encode("ascii").translate(None, _ASCII_SPACE))
    return sum(map(len, text.split()))


def visible_chars(tree: HtmlElement) -> int:
    """Characters (not counting whitespace) of the page's body text, scripts left out."""
    body = tree.find("body")
    root = body if body is not None else tree
    total = _non_space(etree.tostring(root, method="text", encoding=str, with_tail=False))
    for el in root.iter(*_NOT_TEXT):
        total -= _non_space(etree.tostring(el, method="text", encoding=str, with_tail=False))
    return max(total, 0)


def kept_share(paragraphs: Iterable[str], input_chars: int) -> float | None:
    """Share of the input's visible characters that the body keeps, 0..1 (4 places); 1
    when the text came from a page's embedded data and outweighs what the page shows (a
    page rendered by its scripts shows nothing at all). None when nothing was kept."""
    kept = sum(_non_space(p) for p in paragraphs)
    if kept == 0:
        return None
    return round(min(kept / input_chars, 1.0), 4) if input_chars > 0 else 1.0


# --- one page, one text -----------------------------------------------------------------------
def page_signals(
    declared: str | None, kinds: set[str], found: list[str], kept: list[str], input_chars: int
) -> Signals:
    """The signals of one page: ``declared`` is :func:`access_from_markup`'s answer, ``kinds``
    the prompt kinds seen, ``found`` the text before prompts were dropped, ``kept`` after."""
    if declared is not None:
        access = declared  # the publisher's own word for this page
    elif PAYWALL in kinds:
        access = ACCESS_PAYWALLED
    else:
        access = ACCESS_UNKNOWN
    return Signals(access, looks_truncated(found, kept, kinds), kept_share(kept, input_chars))


def text_signals(text: str, paragraphs: list[str]) -> Signals:
    """The signals of a plain-text input: its lines are judged by the same prompt rules as a
    page's blocks (the plain-text cleaner decides what is kept)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    kinds = {kind for line in lines if (kind := prompt_kind(line)) is not None}
    access = ACCESS_PAYWALLED if PAYWALL in kinds else ACCESS_UNKNOWN
    truncated = looks_truncated(lines, paragraphs, kinds)
    return Signals(access, truncated, kept_share(paragraphs, _non_space(text)))
