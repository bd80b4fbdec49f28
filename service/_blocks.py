"""Where the article lies in a whole-page text dump: prose evidence per line, then the best run.

A page copied as text is the article plus everything around it: menus, share bars, related
lists, comments, footers. The article is the longest dense run of prose, so each line gets a
score from general evidence only -- no site's or article's strings:

* **prose** (positive, by size): sentence punctuation of its script (``. ! ?``, ``。！？``),
  enough words, and for English a normal share of function words (a line of names or links
  has almost none);
* **chrome** (negative): short lines without sentence punctuation (menus, tags, headlines of
  other stories), lines cut off with an ellipsis (teasers), and lines a rule family of
  :mod:`service._cleanup_rules` names (copyright, share bars, comment prompts...).

The article is the contiguous run of lines with the largest total score (the maximum-sum
subarray, one linear pass). A short heading or caption inside the article costs a little but
never splits it; a menu of fifty lines costs fifty and ends it; a comment thread after the
article stays out unless its prose outweighs everything between it and the article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .scripts import text_weight

__all__ = ["Evidence", "best_run", "evidence", "is_english", "is_page", "scores"]

# --- weights (in "lines": a menu item costs about 1) --------------------------------------
_PROSE_UNIT = 60  # a prose line scores its text weight / this (a 300-letter paragraph: 5)
_CHROME_COST = 1.0  # a line that is not prose
_CHROME_SIZE_UNIT = 300  # ... plus its weight / this (a long list of links costs more)
_RULE_COST = 5.0  # a line a boilerplate rule family names
_RELATED_COST = 2.0  # a "Related stories" header
# In a text without a menu, metadata lines (dates, bylines, credits) cost like any other line
# that is not prose; photo credits do on a whole page too (they stand between paragraphs).
_MILD_RULES = frozenset({"dateline", "byline", "credit"})
_INLINE_RULES = frozenset({"credit"})
# On a page, a comment section's header or prompt after this much prose (an article's worth)
# opens the readers' part: prose after it counts this much.
_SECTION_RULES = frozenset({"comment"})
_ARTICLE_BEFORE_COMMENTS = 8.0
_COMMENT_WORTH = 0.25
_RUN_COST_STEP = 0.25  # a run of n lines that are not prose costs min(1, n * this) a line
_MENU_WORDS = 3  # a menu is a run of lines of at most this many words ...
_MENU_RUN = 8  # ... this long
_ARTICLE_FACTOR = 0.3  # what a line that is not prose costs in a text without a menu
_MIN_PROSE_WEIGHT = 24  # smaller than this is never prose ("Close.", "확인.")
_MIN_PROSE_WORDS = 4
_MIN_QUOTE_WORDS = 3  # a whole line in quotes is speech, prose however short
_OPENING_QUOTES = '"“「『‘'
_CLOSING_QUOTES = '"”」』’'
_LONG_PROSE_WEIGHT = 160  # this long and with commas, prose even without a full stop
_LONG_CJK_CHARS = 30  # this many CJK characters with a clause break: prose without a stop
_MIN_STOP_SHARE = 0.12  # an English line with fewer function words is a list, not prose
_STOP_WORDS_MIN = 8  # ... judged only on lines with this many words
# A text is English when the words of its long lines are mostly Latin, at least this many,
# and this share of them function words (English prose: 0.4-0.5; other languages: < 0.1).
_LONG_LINE = 60
_ENGLISH_SAMPLE = 2000
_ENGLISH_MIN_WORDS = 30
_ENGLISH_STOPS = 0.2

# Sentence ends: Latin ones need a following space or the line end; CJK ones stand alone.
_SENTENCE_END_RE = re.compile(r"(?<!\.)[.!?](?=[\"'”’)\]]*(?:\s|$))|[。！？]")
_CLAUSE_RE = re.compile(r"[,，、;；:：]")
_SEPARATOR_RE = re.compile(r"\s[|｜·•/]\s|[|｜]")
_COUNT_END_RE = re.compile(r"[(（\[]\s*\d+\s*[)）\]]$")
_LIST_MARK_RE = re.compile(r"^\s*(?:\d{1,3}|[A-Za-z])[.)]\s+")
_CJK_SPACE_RE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af]\s[\u2e80-\u9fff\uac00-\ud7af]")
_CLOSERS = "\"'”’」』）)]】》>» "
_LATIN_WORD_RE = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:['’][A-Za-z]+)?")
_WORD_RE = re.compile(r"[^\W_]+")
_HAN_CHAR_RE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff]")
_WIDE_RE = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]")

# Function words of English: a property of the language, not of any page.
_EN_STOP = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours out over own said same says she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your
    yours""".split()  # noqa: SIM905 - a word list reads better as text
)


@dataclass(frozen=True)
class Evidence:
    """What one line looks like: its size and whether it reads as prose."""

    weight: int
    words: int
    prose: bool
    cut: bool


def _cut(text: str) -> bool:
    """Ends in a cut-off ellipsis, as teasers do; Chinese prose closes with "……" by style."""
    core = text.rstrip(_CLOSERS)
    return core.endswith(("...", "…", "⋯")) and not core.endswith("……")


def evidence(text: str, english: bool) -> Evidence:
    """Prose evidence of one line; ``english``: judge function-word density too."""
    weight = text_weight(text)
    wide = len(_WIDE_RE.findall(text)) if weight != len(text) else 0
    latin = _LATIN_WORD_RE.findall(text) if wide * 2 < len(text) else []
    # Words: spaced runs of letters (Latin, Hangul), and every two Han characters.
    han = len(_HAN_CHAR_RE.findall(text)) if wide else 0
    spaced = _HAN_CHAR_RE.sub(" ", text) if han else text
    words = len(_WORD_RE.findall(spaced)) + (han + 1) // 2
    cut = _cut(text)
    if cut or words < _MIN_QUOTE_WORDS:
        return Evidence(weight, words, False, cut)
    if text[0] in _OPENING_QUOTES and text[-1] in _CLOSING_QUOTES:  # someone speaking
        return Evidence(weight, words, True, cut)
    if weight < _MIN_PROSE_WEIGHT or words < _MIN_PROSE_WORDS:
        return Evidence(weight, words, False, cut)
    if len(_SEPARATOR_RE.findall(text)) >= 2 or _COUNT_END_RE.search(text):
        return Evidence(weight, words, False, cut)  # "Home | News", "Top story title (5146)"
    text = _LIST_MARK_RE.sub("", text, count=1)  # "1. " numbers an item, it ends no sentence
    core = text.rstrip(_CLOSERS)
    ends = len(_SENTENCE_END_RE.findall(text))
    closed = bool(core) and core[-1] in ".!?。！？"
    clauses = len(_CLAUSE_RE.findall(text))
    prose = (
        closed
        or ends >= 1
        or (weight >= _LONG_PROSE_WEIGHT and clauses >= 1)
        # CJK prose written without full stops, clauses parted by commas or spaces
        or (wide >= _LONG_CJK_CHARS and (clauses >= 1 or _CJK_SPACE_RE.search(text) is not None))
    )
    if prose and english and len(latin) >= _STOP_WORDS_MIN:
        stops = sum(1 for w in latin if w.lower() in _EN_STOP)
        prose = stops / len(latin) >= _MIN_STOP_SHARE
    return Evidence(weight, words, prose, cut)


def is_english(texts: Sequence[str]) -> bool:
    """Whether the text's long lines are English: function words are then evidence."""
    words = stops = wide = 0
    for text in texts:
        if len(text) < _LONG_LINE:
            continue
        latin = _LATIN_WORD_RE.findall(text)
        words += len(latin)
        stops += sum(1 for w in latin if w.lower() in _EN_STOP)
        wide += len(_WIDE_RE.findall(text))
        if words + wide >= _ENGLISH_SAMPLE:
            break
    return words >= _ENGLISH_MIN_WORDS and words * 2 >= wide and stops / words >= _ENGLISH_STOPS


def is_page(evidences: Sequence[Evidence]) -> bool:
    """Whether the text is a whole page: it holds a menu, a run of very short lines that no
    article has (an article's lists and headings come a few at a time)."""
    run = 0
    for ev in evidences:
        if ev.words <= _MENU_WORDS and not ev.prose:
            run += 1
            if run >= _MENU_RUN:
                return True
        else:
            run = 0
    return False


def scores(evidences: Sequence[Evidence], rules: Sequence[str | None], page: bool) -> list[float]:
    """Each line's score. A line that is not prose costs by the run of such lines it stands
    in: a lone heading or caption between paragraphs is nearly free, a menu costs in full.
    In a text that is no whole page (``page`` False), such lines cost less and metadata
    (dates, bylines) no more than they: there is little chrome to cut and much to lose.
    On a page, prose after a comment section's header, once an article's worth of prose came
    before it, is readers' comments and counts for little."""
    prose = [ev.prose and rule is None for ev, rule in zip(evidences, rules, strict=True)]
    factor = 1.0 if page else _ARTICLE_FACTOR
    out: list[float] = []
    seen = 0.0  # prose so far
    worth = 1.0  # what prose counts for: less inside a comment section
    i = 0
    while i < len(prose):
        if prose[i]:
            value = evidences[i].weight / _PROSE_UNIT
            seen += value
            out.append(worth * value)
            i += 1
            continue
        j = i
        while j < len(prose) and not prose[j]:
            j += 1
        share = factor * min(1.0, _RUN_COST_STEP * (j - i))
        for k in range(i, j):
            rule = rules[k]
            if page and rule in _SECTION_RULES and seen >= _ARTICLE_BEFORE_COMMENTS:
                worth = _COMMENT_WORTH
            if rule == "related_header":  # a related box may stand inside a story
                out.append(-_RELATED_COST)
            elif (
                rule is not None and rule not in _INLINE_RULES and (page or rule not in _MILD_RULES)
            ):
                out.append(-_RULE_COST)
            else:
                out.append(-share * (_CHROME_COST + evidences[k].weight / _CHROME_SIZE_UNIT))
        i = j
    return out


def best_run(scores: Sequence[float]) -> tuple[int, int] | None:
    """``(first, last)`` of the contiguous run with the largest positive sum (Kadane), or
    None when no line scores above zero."""
    best = 0.0
    best_span: tuple[int, int] | None = None
    running = 0.0
    start = 0
    for i, value in enumerate(scores):
        if running <= 0:
            running, start = value, i
        else:
            running += value
        if running > best:
            best, best_span = running, (start, i)
    return best_span
