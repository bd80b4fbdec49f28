"""Writing systems: the CJK and Hangul code point ranges, defined once for every stage.

Decoding (is this a plausible decoding?), the plain-text cleaner (how wide is this line?),
extraction (how much text is this?) and language detection (which script is this letter?)
all ask about Han, Hangul and kana; they answer from the blocks below. Two measures of size
are kept apart because they answer different questions: :func:`display_width` counts screen
columns, :func:`text_weight` how much text a string carries.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final

__all__ = [
    "CJK_SCRIPTS",
    "CJK_WEIGHT",
    "FULLWIDTH",
    "HAN",
    "HANGUL",
    "WIDE",
    "Script",
    "display_width",
    "is_han",
    "is_hangul",
    "script_of",
    "text_weight",
    "wide_count",
]

# --- Unicode blocks (code points) ---------------------------------------------------------
HANGUL_JAMO: Final = range(0x1100, 0x1200)
HANGUL_COMPATIBILITY_JAMO: Final = range(0x3130, 0x3190)
HANGUL_SYLLABLES: Final = range(0xAC00, 0xD7A4)  # the 11,172 precomposed syllables
HAN_UNIFIED: Final = range(0x4E00, 0xA000)  # the core block: everyday zh, ja and ko characters
HAN_EXTENSION_A: Final = range(0x3400, 0x4DC0)
HAN_COMPATIBILITY: Final = range(0xF900, 0xFB00)
HAN_SUPPLEMENTARY: Final = range(0x20000, 0x40000)  # extension B and later: planes 2 and 3
HIRAGANA_KATAKANA: Final = range(0x3040, 0x3100)
HALFWIDTH_KATAKANA: Final = range(0xFF61, 0xFFA0)  # with the halfwidth CJK punctuation
# CJK radicals up to the unified ideographs: CJK punctuation, kana, bopomofo, compatibility
# jamo, enclosed and compatibility forms, extension A. Text in these blocks is set in
# full-width cells.
CJK_BLOCKS: Final = range(0x2E80, 0xA000)
HALFWIDTH_FULLWIDTH_FORMS: Final = range(0xFF00, 0xFFF0)

# Kana *letters*: U+30FB (middle dot) and U+30FC (prolonged sound mark) are left out because
# Chinese uses them too, and so are the iteration marks after them.
_KANA_LETTERS = (range(0x3041, 0x30FB), range(0x31F0, 0x3200), range(0xFF66, 0xFF9E))
_HAN_BLOCKS = (HAN_EXTENSION_A, HAN_UNIFIED, HAN_COMPATIBILITY, HAN_SUPPLEMENTARY)
_HANGUL_BLOCKS = (HANGUL_JAMO, HANGUL_COMPATIBILITY_JAMO, HANGUL_SYLLABLES)
_WIDE_BLOCKS = (HANGUL_JAMO, CJK_BLOCKS, HANGUL_SYLLABLES, HAN_COMPATIBILITY, HAN_SUPPLEMENTARY)


def _char_class(*blocks: range) -> str:
    return "".join(f"{chr(block.start)}-{chr(block.stop - 1)}" for block in blocks)


# --- regular-expression character classes, without the brackets: f"[{HAN}]" -------------
HAN: Final = _char_class(*_HAN_BLOCKS)
HANGUL: Final = _char_class(*_HANGUL_BLOCKS)
# CJK and Hangul text, its punctuation included.
WIDE: Final = _char_class(*_WIDE_BLOCKS)
# The halfwidth and fullwidth forms block (fullwidth Latin, CJK punctuation variants).
FULLWIDTH: Final = _char_class(HALFWIDTH_FULLWIDTH_FORMS)

# A CJK character carries about as much text as three Latin letters.
CJK_WEIGHT: Final = 3

_WIDE_RE = re.compile(f"[{WIDE}]")
_COLUMNS_RE = re.compile(f"[{WIDE}{FULLWIDTH}]")


def is_han(ch: str) -> bool:
    """A Han character (hanzi, kanji, hanja), in any of the ideograph blocks."""
    o = ord(ch)
    return any(o in block for block in _HAN_BLOCKS)


def is_hangul(ch: str) -> bool:
    """A Hangul syllable or jamo."""
    o = ord(ch)
    return any(o in block for block in _HANGUL_BLOCKS)


def wide_count(text: str) -> int:
    """How many characters of ``text`` are CJK or Hangul text (punctuation included)."""
    return len(_WIDE_RE.findall(text))


def display_width(text: str) -> int:
    """Screen columns: CJK, Hangul and the full-width forms take two."""
    return len(text) + len(_COLUMNS_RE.findall(text))


def text_weight(text: str) -> int:
    """Text size in Latin letters: a CJK or Hangul character counts :data:`CJK_WEIGHT`."""
    return len(text) + (CJK_WEIGHT - 1) * wide_count(text)


class Script:
    """ISO 15924 codes, as language detection reports them."""

    HANGUL: Final = "Hang"
    HAN: Final = "Hani"
    KANA: Final = "Kana"
    LATIN: Final = "Latn"
    CYRILLIC: Final = "Cyrl"
    GREEK: Final = "Grek"
    ARABIC: Final = "Arab"
    HEBREW: Final = "Hebr"
    THAI: Final = "Thai"
    DEVANAGARI: Final = "Deva"
    OTHER: Final = "Zyyy"
    # Writing systems of one language that mix scripts.
    JAPANESE: Final = "Jpan"  # kanji and kana
    KOREAN: Final = "Kore"  # Hangul and hanja


CJK_SCRIPTS: Final = frozenset({Script.HANGUL, Script.HAN, Script.KANA})


@cache
def script_of(ch: str) -> str | None:
    """The script of one letter (a :class:`Script` code), or None for digits, punctuation
    and symbols."""
    o = ord(ch)
    if is_hangul(ch):
        return Script.HANGUL
    if is_han(ch):
        return Script.HAN if ch.isalpha() else None
    if any(o in block for block in _KANA_LETTERS):
        return Script.KANA
    if not ch.isalpha():
        return None
    if o < 0x250 or 0x1E00 <= o <= 0x1EFF or 0xFF21 <= o <= 0xFF5A:
        return Script.LATIN
    if 0x0400 <= o <= 0x052F:
        return Script.CYRILLIC
    if 0x0370 <= o <= 0x03FF:
        return Script.GREEK
    if 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F:
        return Script.ARABIC
    if 0x0590 <= o <= 0x05FF:
        return Script.HEBREW
    if 0x0E00 <= o <= 0x0E7F:
        return Script.THAI
    if 0x0900 <= o <= 0x097F:
        return Script.DEVANAGARI
    return Script.OTHER
