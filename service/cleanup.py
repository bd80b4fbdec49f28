"""Plain-text article cleaner: the article out of copied text or a whole page's text (ko/zh/en).

Text arrives in two forms: an article copied with a little chrome left (a title, a byline,
share and copyright lines), or a whole page selected and copied (menus, share bars, related
lists, comments and footers around the article). :func:`clean_plain_text` handles both with
general evidence, never with one site's or one article's strings:

* **Where the article is** (:mod:`service._blocks`): the densest run of prose. Every line is
  scored from its sentence punctuation, size and (English) function words; menus, teaser
  lists and boilerplate lines cost; the best contiguous run wins. A text that holds a menu is
  a whole page and is judged strictly; one without is judged gently, since an article's own
  lists and headings must survive.
* **What goes inside it**: lines a rule family of :mod:`service._cleanup_rules` names
  (copyright, credit, byline, share and comment prompts: general vocabulary in three
  languages, on short lines only), copies of the title, a "Related" header's link list, and
  headline-like teasers after the last full sentence.
* **Title**: a headline-like line above the body, the one sharing most terms with the story
  (at the top of a mostly-article text, the first substantial line). When the text opens
  with a sentence, the title is ``None``: guessing one from the body would invent a headline.
* **Paragraphs**: blank lines separate blocks; inside a block every line is its own paragraph
  unless it clearly continues the previous line (hard-wrapped prose, a trailing comma).

A false positive that drops a body paragraph is worse than a kept boilerplate line: keyword
rules only look at short lines, and every pass is linear (anchored patterns with bounded
repeats on length-capped lines, one pass for the best run), so hostile input costs one pass.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from ._blocks import best_run, evidence, is_english, is_page, scores
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
from .scripts import HAN, HANGUL, display_width

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
_TOP_LINES = 5  # at most this many lines before the body: the text starts with the article
_WRAP_WIDTH = 160  # hard-wrapped text breaks its lines at most this wide
# Lines of site furniture that an article copied alone rarely carries more than two of.
_PAGE_RULES = frozenset({"chrome", "social", "comment", "copyright"})
_PAGE_RULE_LINES = 3
_TAIL_LINES = 4  # at most this many lines after the body: the text ends with the article
_TITLE_WINDOW = 15  # a page's title stands at most this many lines above the body
_TITLE_BODY = 8  # the title is compared with this many lines of the body
_TITLE_SHARE_MARGIN = 0.15  # a farther line must share this much more to be the title

_HAN_RE = re.compile(f"[{HAN}]")
_TERM_RE = re.compile(r"[a-z\u00c0-\u024f]+")
_CJK_RUN_RE = re.compile(f"[{HAN}{HANGUL}]+")
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

    The body is the densest run of prose (:mod:`service._blocks`); inside it, lines a rule
    family names are dropped. The title is a headline-like line above that run (at the top
    of a text that is mostly article, the first substantial line); when the text opens with
    a sentence the title is ``None`` rather than a guess. Later copies of the title are
    dropped. ``removed`` lists every dropped line (or stripped dateline prefix) with its
    rule name (``outside`` for a line outside the article without one), in input order.
    """
    removed: list[tuple[int, str, str]] = []
    lines = _prepare(text)
    rules = [line_rule(line.text) for line in lines]
    english = is_english([line.text for line in lines])
    evidences = [evidence(line.text, english) for line in lines]
    page = is_page(evidences) or sum(rule in _PAGE_RULES for rule in rules) >= _PAGE_RULE_LINES
    # A "Related stories" header is chrome as strong as a rule's line.
    marks = [rule or _related_header(line.text) for line, rule in zip(lines, rules, strict=True)]
    span = best_run(scores(evidences, marks, page))
    first, last = span if span is not None else (0, len(lines) - 1)
    if not page or len(lines) - last - 1 <= _TAIL_LINES:
        # A text that ends with its article: keep its last lines up to any boilerplate.
        while last + 1 < len(lines) and marks[last + 1] is None:
            last += 1

    title, head, first = _title_and_deck(lines, rules, marks, first, last, removed)
    for index in range(last + 1, len(lines)):
        removed.append((lines[index].index, lines[index].text, marks[index] or "outside"))

    kept: list[_Line] = []
    for line, rule in zip(
        head + lines[first : last + 1], [None] * len(head) + rules[first : last + 1], strict=True
    ):
        if rule is not None:
            removed.append((line.index, line.text, rule))
            continue
        prefix, line.text = strip_dateline(line.text)
        if prefix:
            removed.append((line.index, prefix, "byline"))
        if line.text:
            kept.append(line)

    if title is not None:
        title_norm = _norm(title)
        survivors: list[_Line] = []
        for position, line in enumerate(kept):
            if _repeats_title(line.text, title_norm, near=position < 30):
                removed.append((line.index, line.text, "title_repeat"))
            else:
                survivors.append(line)
        kept = survivors

    # Hard-wrapped paragraphs are judged whole: a wrapped line is no teaser headline.
    kept = _drop_related(_paragraphs(kept, _WRAP_WIDTH), removed)
    kept = _drop_tail(kept, removed, page)

    removed.sort(key=lambda item: item[0])
    paragraphs = [line.text for line in _paragraphs(kept)]
    return CleanText(title, paragraphs, [(text_, rule) for _, text_, rule in removed])


def _title_and_deck(
    lines: list[_Line],
    rules: list[str | None],
    marks: list[str | None],
    first: int,
    last: int,
    removed: list[tuple[int, str, str]],
) -> tuple[str | None, list[_Line], int]:
    """The title, the deck lines (standfirst, sub-headlines) between it and the body, and
    where the body starts.

    Near the top of a text that is mostly article, the title is the first substantial line
    after leading chrome, and the lines between it and the body are its deck. After a page's
    menus, it is the headline-like line above the body that shares most terms with the
    story, and everything else before the body is removed. With no title before the body,
    a headline-like first line of the body is the title.
    """
    before = [i for i in range(first) if rules[i] is None]
    start = 0
    while start < len(before) and _chrome_like(lines[before[start]].text):
        start += 1
    candidates = before[start:]
    title_at: int | None = None
    near_top = len(candidates) <= _TOP_LINES
    if near_top:
        if candidates and _headline_like(lines[candidates[0]].text):
            title_at = candidates[0]
    else:
        window = [i for i in candidates if i >= first - _TITLE_WINDOW]
        body = " ".join(line.text for line in lines[first : min(last + 1, first + _TITLE_BODY)])
        title_at = _best_title(lines, window, _title_terms(body))
        if title_at is not None:
            title_norm = _norm(lines[title_at].text)
            for i in window:
                if i < title_at and _repeats_title(lines[i].text, title_norm, near=True):
                    title_at = i
                    break
    opener = lines[first].text if first < last and rules[first] is None else ""
    if title_at is None and opener and _headline_like(opener) and not _cut(opener):
        title_at = first
        first += 1
    title = lines[title_at].text if title_at is not None else None
    head: list[_Line] = []
    for i in range(first):
        line = lines[i]
        deck = near_top and rules[i] is None and _deck_like(line.text)
        if title_at is not None and i > title_at and deck:
            head.append(line)
        elif i != title_at:
            removed.append((line.index, line.text, marks[i] or "outside"))
    return title, head, first


def _title_terms(text: str) -> set[str]:
    """Words (Latin, 3+ letters) and CJK character pairs: what a headline shares with its
    story."""
    folded = text.casefold()
    terms = {w for w in _TERM_RE.findall(folded) if len(w) >= 3}
    for run in _CJK_RUN_RE.findall(folded):
        terms.update(run[k : k + 2] for k in range(len(run) - 1))
    return terms


def _best_title(lines: list[_Line], window: list[int], body: set[str]) -> int | None:
    """The headline-like line above the body that shares most of its terms with the story's
    opening (a page's title does; menus, dates and other stories' headlines do not); among
    equals the nearest. None when no line qualifies."""
    best: int | None = None
    best_share = -1.0
    for i in reversed(window):
        text = lines[i].text
        if not _headline_like(text) or _cut(text):
            continue
        terms = _title_terms(text)
        share = len(terms & body) / len(terms) if terms else 0.0
        if share > best_share + _TITLE_SHARE_MARGIN:
            best, best_share = i, share
    return best


def _related_header(text: str) -> str | None:
    return (
        "related_header" if fits(text, CAP_CHROME) and RELATED_HEADER_RE.fullmatch(text) else None
    )


def _chrome_like(text: str) -> bool:
    return _word_count(text) < 3 and not terminated(text)


def _deck_like(text: str) -> bool:
    return _word_count(text) >= 3 and not _cut(text)


def _cut(text: str) -> bool:
    return text.rstrip(CLOSERS + " ").endswith(("...", "…"))


def _paragraphs(kept: list[_Line], wrapped: int | None = None) -> list[_Line]:
    """Join continuation lines; decided on the previous *line* so long runs stay linear.

    ``wrapped``: join only after lines at most this wide (hard-wrapped text).
    """
    parts: list[tuple[_Line, list[str]]] = []
    previous: _Line | None = None
    for line in kept:
        glue = None
        joinable = previous is not None and previous.block == line.block
        if previous is not None and joinable and (wrapped is None or fits(previous.text, wrapped)):
            glue = _joiner(previous.text, line.text)
        if glue is None:
            parts.append((line, [line.text]))
        else:
            parts[-1][1].extend((glue, line.text))
        previous = line
    return [_Line(head.index, head.block, "".join(chunks)) for head, chunks in parts]


def _drop_related(kept: list[_Line], removed: list[tuple[int, str, str]]) -> list[_Line]:
    """A "Related articles" header ends the article, or (mid-text) drops its link list.

    The header cuts everything after it when less text follows than precedes it and none of
    it is a full body sentence (a "Read more" link inside a story is followed by more story);
    otherwise it takes just the short unterminated headline lines right below it.
    """
    total = sum(len(line.text) for line in kept)
    last_sentence = -1
    for position, line in enumerate(kept):
        if terminated(line.text) and not fits(line.text, _BODY_MIN - 1):
            last_sentence = position
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
        if total - before - len(line.text) < before and last_sentence < i:
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


def _drop_tail(kept: list[_Line], removed: list[tuple[int, str, str]], page: bool) -> list[_Line]:
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
        elif (
            (page and fits(text, SHORT))
            or KICKER_RE.match(text)
            or (len(long_open) >= 2 and proper)
        ):
            removed.append((line.index, text, "teaser"))
        else:
            result.append(line)
    return result
