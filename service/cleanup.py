"""Plain-text article cleaner: strip page boilerplate from copied article text (ko/zh/en).

Articles copied as plain text keep the page around them: site chrome, bylines, photo
credits, copyright and reprint notices, social and comment prompts, a repeated title and
teasers for other articles after the end. :func:`clean_plain_text` removes those with rule
*families* (language-aware line patterns plus position rules at the start and end of the
text), never with a list of known strings, so it holds on text it has not seen.

Design choices, in order of priority:

* A false positive that drops a real body paragraph is worse than keeping one boilerplate
  line. Keyword rules therefore only look at short lines (the caps in ``_cleanup_rules``);
  a long, sentence-like paragraph is never dropped for merely containing "photo" or "source".
* Every rule is linear: patterns are anchored or use bounded repeats only and run on
  length-capped lines, so a 1 MB single line or NUL bytes cost one pass.
* Title: the first substantial line left after leading chrome, if it is headline-like
  (not ending in a full stop, not too long). When the text opens with a sentence, the
  title is ``None``: guessing one from the body would invent a headline.
* Paragraphs: blank lines separate blocks; inside a block every line is its own paragraph
  unless it clearly continues the previous line (hard-wrapped prose, a trailing comma).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from ._cleanup_rules import (
    CAP_CHROME,
    CLOSERS,
    FURNITURE_RULES,
    KICKER_RE,
    RELATED_HEADER_RE,
    SHORT,
    boilerplate_rule,
    fits,
    line_rule,
    strip_dateline,
    terminated,
)
from .scripts import HAN, display_width

__all__ = ["FURNITURE_RULES", "CleanText", "boilerplate_rule", "clean_plain_text"]


@dataclass(frozen=True)
class CleanText:
    """An article's title and body paragraphs, plus what was dropped and why."""

    title: str | None
    paragraphs: list[str]
    removed: list[tuple[str, str]]


@dataclass
class _Line:
    index: int
    block: int
    text: str


# --- sizes ------------------------------------------------------------------------------
# Display widths, as the line rules' caps (service/_cleanup_rules.py).
_CAP_TITLE_REPEAT = 600
_TITLE_MAX = 250
_BODY_MIN = 60  # a terminated line this wide anchors "the body ends here"

_HAN_RE = re.compile(f"[{HAN}]")
_ALNUM_RE = re.compile(r"[^\W_]")
_CONTROL = {c: None for c in [*range(0x00, 0x09), *range(0x0E, 0x1C), 0x1F, 0x7F]}
_CONTROL.update({0x200B: None, 0x200C: None, 0x200D: None, 0x2060: None, 0xFEFF: None})


def _word_count(text: str) -> float:
    """Rough word count: Latin/Hangul words count 1, every two Han characters count 1."""
    total = 0.0
    for token in text.split():
        han = len(_HAN_RE.findall(token))
        if han:
            total += max(han / 2, 1.0)
        elif _ALNUM_RE.search(token):
            total += 1
        if total >= 3:
            break
    return total


_SMALL_WORDS = frozenset({
    "a", "an", "the", "and", "or", "of", "in", "on", "at", "to", "for", "with", "by",
    "from", "as", "vs", "via", "into", "over", "after", "amid"
})  # fmt: skip


def _headline_cased(text: str) -> bool:
    words = [w for w in text.split() if w[:1].isalpha() and w.isascii()]
    content = [w for w in words if w.lower() not in _SMALL_WORDS]
    if len(content) < 2:
        return False
    return sum(w[0].isupper() for w in content) / len(content) >= 0.7


# --- title ------------------------------------------------------------------------------
def _norm(text: str) -> str:
    return "".join(_ALNUM_RE.findall(text.casefold()))


def _headline_like(text: str) -> bool:
    """Short enough, several words, and not closed by a full stop (an ellipsis is fine)."""
    core = text.rstrip(CLOSERS + " ")
    sentence = core.endswith((".", "。")) and not core.endswith(("...", "…"))
    return bool(core) and not sentence and fits(text, _TITLE_MAX) and _word_count(text) >= 3


def _repeats_title(text: str, title_norm: str, near: bool) -> bool:
    """An exact, near-exact, truncated or caption-extended copy of the title."""
    if len(title_norm) < 10 or not fits(text, _CAP_TITLE_REPEAT):
        return False
    norm = _norm(text)
    if not norm:
        return False
    if norm == title_norm:
        return True
    common = len(_common_prefix(norm, title_norm))
    if common >= 0.8 * len(title_norm):
        return True  # the title, maybe cut, maybe followed by a caption or a blurb
    if title_norm.startswith(norm):
        cut = text.rstrip().endswith(("...", "…"))
        return len(norm) >= (0.4 if cut else 0.7) * len(title_norm)
    if near and abs(len(norm) - len(title_norm)) <= 0.2 * len(title_norm):
        matcher = difflib.SequenceMatcher(None, norm, title_norm, autojunk=False)
        return matcher.quick_ratio() >= 0.9 and matcher.ratio() >= 0.9
    return False


def _common_prefix(a: str, b: str) -> str:
    size = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        size += 1
    return a[:size]


# --- paragraphs -------------------------------------------------------------------------
def _joiner(prev: str, nxt: str) -> str | None:
    """How ``nxt`` continues ``prev`` inside one block, or None when it starts a paragraph."""
    if terminated(prev) or not nxt:
        return None
    last, first = prev[-1], nxt[0]
    if last in "，、；":
        return ""
    if last in ",;":
        return " "
    wide = display_width(prev)
    if last.isascii() and last.isalnum() and not _headline_cased(prev):
        if first.isascii() and first.islower():
            return " "
        if wide >= 60 and (first.isalnum() or first in "\"'“‘("):
            return " "
    if _HAN_RE.match(last) and _HAN_RE.match(first) and wide >= 60:
        return ""
    return None


def _prepare(text: str) -> list[_Line]:
    lines: list[_Line] = []
    block = 0
    for index, raw in enumerate(text.translate(_CONTROL).splitlines()):
        line = " ".join(raw.split())
        if not line:
            block += 1
            continue
        lines.append(_Line(index, block, line))
    return lines


def clean_plain_text(text: str) -> CleanText:
    """Split copied article text into title and body, dropping page boilerplate.

    The title is the first substantial headline-like line after leading chrome; when the
    text opens with a sentence (ends in a full stop) the title is ``None`` rather than a
    guess. Later copies of the title (exact, near-exact, truncated, or the title run into
    a photo caption) are dropped. ``removed`` lists every dropped line (or stripped
    dateline prefix) with its rule name, in input order.
    """
    removed: list[tuple[int, str, str]] = []
    kept: list[_Line] = []
    for line in _prepare(text):
        rule = line_rule(line.text)
        if rule is not None:
            removed.append((line.index, line.text, rule))
            continue
        prefix, line.text = strip_dateline(line.text)
        if prefix:
            removed.append((line.index, prefix, "byline"))
        if line.text:
            kept.append(line)

    start = 0
    while (
        start < len(kept) and _word_count(kept[start].text) < 3 and not terminated(kept[start].text)
    ):
        removed.append((kept[start].index, kept[start].text, "chrome"))
        start += 1
    kept = kept[start:]

    title: str | None = None
    if kept and _headline_like(kept[0].text):
        title = kept.pop(0).text
        title_norm = _norm(title)
        survivors: list[_Line] = []
        for position, line in enumerate(kept):
            if _repeats_title(line.text, title_norm, near=position < 30):
                removed.append((line.index, line.text, "title_repeat"))
            else:
                survivors.append(line)
        kept = survivors

    kept = _drop_related(kept, removed)
    kept = _drop_tail(kept, removed)

    removed.sort(key=lambda item: item[0])
    return CleanText(title, _paragraphs(kept), [(text_, rule) for _, text_, rule in removed])


def _paragraphs(kept: list[_Line]) -> list[str]:
    """Join continuation lines; decided on the previous *line* so long runs stay linear."""
    parts: list[list[str]] = []
    previous: _Line | None = None
    for line in kept:
        glue = None
        if previous is not None and previous.block == line.block:
            glue = _joiner(previous.text, line.text)
        if glue is None:
            parts.append([line.text])
        else:
            parts[-1].extend((glue, line.text))
        previous = line
    return ["".join(chunks) for chunks in parts]


def _drop_related(kept: list[_Line], removed: list[tuple[int, str, str]]) -> list[_Line]:
    """A "Related articles" header ends the article, or (mid-text) drops its link list.

    The header cuts everything after it only when less text follows than precedes it;
    earlier, it takes just the short unterminated headline lines right below it.
    """
    total = sum(len(line.text) for line in kept)
    result: list[_Line] = []
    before = 0
    i = 0
    while i < len(kept):
        line = kept[i]
        i += 1
        if not (result and fits(line.text, CAP_CHROME)) or not RELATED_HEADER_RE.fullmatch(
            line.text
        ):
            result.append(line)
            before += len(line.text)
            continue
        removed.append((line.index, line.text, "related_header"))
        if total - before - len(line.text) < before:
            removed.extend((rest.index, rest.text, "teaser") for rest in kept[i:])
            return result
        total -= len(line.text)
        while i < len(kept) and fits(kept[i].text, SHORT) and not terminated(kept[i].text):
            removed.append((kept[i].index, kept[i].text, "teaser"))
            total -= len(kept[i].text)
            i += 1
    return result


def _quoted(text: str) -> bool:
    """A whole line in quotes is someone speaking, not a teaser headline."""
    return len(text) > 1 and text[0] in '"“「『' and text[-1] in '"”」』'


def _drop_tail(kept: list[_Line], removed: list[tuple[int, str, str]]) -> list[_Line]:
    """After the last full body sentence, headline-like lines are teasers or end chrome.

    Short unterminated lines go. Long unterminated ones (cut-off blurbs of other articles)
    go only with an upper-case kicker or as a run of two or more in a text that otherwise
    ends its paragraphs properly, so one truncated last paragraph survives.
    """
    anchor = -1
    for i in range(len(kept) - 1, -1, -1):
        text = kept[i].text
        if terminated(text) and not fits(text, _BODY_MIN - 1):
            anchor = i
            break
    if anchor < 0:
        return kept
    long_before = [line.text for line in kept[: anchor + 1] if not fits(line.text, SHORT)]
    proper = not long_before or (sum(terminated(t) for t in long_before) / len(long_before) >= 0.75)
    tail = kept[anchor + 1 :]
    long_open = [line for line in tail if not fits(line.text, SHORT)]
    result = kept[: anchor + 1]
    for line in tail:
        text = line.text
        if terminated(text) or _quoted(text):
            result.append(line)
        elif fits(text, SHORT) or KICKER_RE.match(text) or (len(long_open) >= 2 and proper):
            removed.append((line.index, text, "teaser"))
        else:
            result.append(line)
    return result
