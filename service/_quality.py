"""Quality signals of a translation: what tells a consumer that it is doubtful.

Each translated sentence is checked against its source; a document gets the union of its
sentences' flags and a score, the share of its source text (by weight) whose sentences
raised no flag, times the share of protected spans that came through.

- ``repetition``: the output loops: a phrase of 2-6 words three times in a row, or one word
  four times ("of the star of the star of the star").
- ``untranslated``: the output still carries source-script text (a tenth of its weight or
  more), repeats the source, or a paragraph was kept because no package reads its language.
- ``length_ratio``: English characters per weighted source character (a CJK character
  counts three) outside the bounds for the source language.
- ``truncated``: the model stopped at its length limit, or the source sentence ends with a
  terminator and the output ends mid-phrase.

The thresholds come from the WMT19 zh->en dev pairs (and, for Korean, from the reference
side of the ko->en dev sets; no ko->en model exists here): see docs/choices.md (#16).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .scripts import text_weight, wide_count

FLAGS = ("repetition", "untranslated", "length_ratio", "truncated")

# English characters per weighted source character that a sentence may have. On the dev
# pairs, 99% of the human references of zh sentences (>= 10 characters) lie in 0.61-2.09
# and every model output in 0.62-2.38; ko references in 0.31-2.11 (news), 0.33-1.52
# (Tatoeba).
LENGTH_BOUNDS = {"zh": (0.45, 2.6), "ja": (0.45, 2.6), "ko": (0.25, 2.6)}
_DEFAULT_BOUNDS = (0.3, 2.8)
# Shorter sentences (weight) are too noisy for a ratio: headlines, names, datelines.
LENGTH_MIN_WEIGHT = 12
# Share of the output's weight left in CJK/Hangul that counts as untranslated.
UNTRANSLATED_SHARE = 0.1
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_SOURCE_END = re.compile(r"[。！？!?…]['\"”’」』）)]*$")
_ENGLISH_END = re.compile(r"[.!?…:;'\"”’)\]»]$|\d$")


def sentence_flags(source: str, output: str, lang: str, *, hit_limit: bool = False) -> set[str]:
    """The flags one translated sentence raises."""
    flags: set[str] = set()
    if repeats(output) and not repeats(source):
        flags.add("repetition")
    weight = text_weight(output)
    copied = output.strip() == source.strip() and wide_count(source) > 0
    if copied or (weight and 3 * wide_count(output) >= UNTRANSLATED_SHARE * weight):
        flags.add("untranslated")
    source_weight = text_weight(source)
    if source_weight >= LENGTH_MIN_WEIGHT:
        low, high = LENGTH_BOUNDS.get(lang, _DEFAULT_BOUNDS)
        if not low <= len(output) / source_weight <= high:
            flags.add("length_ratio")
    if hit_limit or (
        _SOURCE_END.search(source.strip()) and not _ENGLISH_END.search(output.strip())
    ):
        flags.add("truncated")
    return flags


def repeats(text: str) -> bool:
    """A loop: a 2-6 word phrase three times running, or one word four times."""
    words = [w.lower() for w in _WORD.findall(text)]
    for n in range(1, 7):
        need = 4 if n == 1 else 3
        for i in range(0, len(words) - n * need + 1):
            gram = words[i : i + n]
            if all(words[i + k * n : i + (k + 1) * n] == gram for k in range(1, need)):
                return True
    return False


@dataclass
class Quality:
    """Accumulates one document's sentences; ``as_dict`` is ``translation.quality``."""

    flags: set[str] = field(default_factory=set)
    weight: float = 0.0
    clean_weight: float = 0.0
    spans_total: int = 0
    spans_kept: int = 0

    def add(self, source: str, flags: Iterable[str], spans_total: int, spans_kept: int) -> None:
        flags = set(flags)
        weight = float(text_weight(source))
        self.weight += weight
        if not flags:
            self.clean_weight += weight
        self.flags |= flags
        self.spans_total += spans_total
        self.spans_kept += spans_kept

    def kept_untranslated(self, text: str) -> None:
        """A paragraph left in a language no package reads."""
        self.weight += float(text_weight(text))
        self.flags.add("untranslated")

    @property
    def score(self) -> float:
        clean = self.clean_weight / self.weight if self.weight else 1.0
        spans = self.spans_kept / self.spans_total if self.spans_total else 1.0
        return round(clean * spans, 4)

    def as_dict(self) -> dict[str, Any]:
        return {
            "flags": [f for f in FLAGS if f in self.flags],
            "score": self.score,
            "spans": {"total": self.spans_total, "kept": self.spans_kept},
        }
