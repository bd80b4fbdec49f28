"""Language identification: a script prior for CJK, seeded langdetect for everything else.

langdetect alone is unreliable on short and script-mixed CJK text (a Korean line with Latin
acronyms, a single Han character) and is random unless seeded, so the writing system decides
ko/zh/ja first and langdetect, with its own seeded detector, handles the rest.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from ._langdetect import CHAR_CACHE, LANGDETECT_NAMES, PROFILES_DIRECTORY, probabilities
from ._word_prior import PRIOR_CONFIDENCE, WORD_PRIOR_MAX_WORDS, with_word_prior
from .scripts import CJK_SCRIPTS, CJK_WEIGHT, HAN, Script, script_of

__all__ = ["Detection", "detect", "detect_document", "normalise_hint"]


@dataclass(frozen=True)
class Detection:
    """A language (ISO 639-1, or "und"), how sure we are (0..1) and the script seen."""

    language: str
    confidence: float
    script: str | None


UNDETERMINED = Detection(language="und", confidence=0.0, script=None)

_CJK_WEIGHT = float(CJK_WEIGHT)
# Share of the weighted letters a CJK script needs before it decides the language.
_MIN_CJK_SHARE = 0.25
# Hangul is never incidental in a non-Korean line; names in parentheses are in Latin script.
_MIN_HANGUL_SHARE = 0.15
# Kana share of Han+Kana that makes Japanese (Chinese text may quote a stray kana).
_MIN_KANA_SHARE = 0.1
_MAX_SCAN_CHARS = 4000
_MAX_DETECT_CHARS = 2000
# 800 characters: the same document accuracy as 1500 and 3000 on the dev extraction pages
# (152/153) and gold bodies (118/118), as 500 too; langdetect's n-gram extraction, half its
# cost, grows with its input.
_MAX_DOCUMENT_SAMPLE = 800

# URLs and e-mail addresses are not written in any language: _without_addresses blanks what
# r"(?:https?://|www\.)\S+|\S+@\S+\.\w+" (ignoring case) matches, token by token. The
# pattern itself is quadratic on a long token: "\S+@" reads to the token's end from each of
# its characters. Tokens are found only from their first character (the lookbehind).
_ADDRESS_TOKEN = re.compile(r"(?<!\S)\S*?(?:@|https?://|www\.)\S*", re.IGNORECASE)
_URL_START = re.compile(r"(?:https?://|www\.)\S", re.IGNORECASE)
_WORD_CHAR = re.compile(r"\w")
_WORD_RUN = re.compile(r"\w+")


def _without_addresses(text: str) -> str:
    """The text with each URL and e-mail address replaced by a space."""
    # Every match holds "@", "://" or "www." in some case (lower() keeps a "www." in any
    # case): most text has none of them, and the pattern is slower to rule them out.
    if "@" not in text and "://" not in text and "www." not in text.lower():
        return text
    return _ADDRESS_TOKEN.sub(lambda match: _blank_addresses(match.group()), text)


def _blank_addresses(token: str) -> str:
    """One whitespace-free token, its URL or addresses blanked as the pattern above does: a
    URL runs to the token's end; an address starts where the token does."""
    out = ""
    while token:
        if _URL_START.match(token):
            return out + " "
        end = _address_end(token)
        if end:
            out, token = out + " ", token[end:]
            continue
        url = _URL_START.search(token, 1)
        return out + (token[: url.start()] + " " if url else token)
    return out


def _address_end(token: str) -> int:
    r"""Where r"\S+@\S+\.\w+" matched at the token's start ends, 0 if it does not match: at
    the last "." that a word character follows, with an "@" at least two characters before
    it and not first."""
    dot = token.rfind(".")
    while dot >= 0 and not _WORD_CHAR.match(token, dot + 1):
        dot = token.rfind(".", 0, dot)
    if dot < 3 or token.rfind("@", 1, dot - 1) < 0:
        return 0
    return _WORD_RUN.match(token, dot + 1).end()  # type: ignore[union-attr]


_SCRIPT_OF_LANGUAGE = {"ko": Script.HANGUL, "ja": Script.JAPANESE}


def _letter(ch: str) -> tuple[str | None, str]:
    """A character's script and, for Han, its variant (see :func:`_han_variant`)."""
    script = script_of(ch)
    return script, _han_variant(ch) if script == Script.HAN else ""


def _han_variant(ch: str) -> str:
    """ "Hans"/"Hant" for characters only one standard has, "" for shared ones.

    GB2312 holds the simplified set and Big5 the traditional one, so a character that
    encodes in only one of them tells which script the text is written in.
    """
    in_gb = _encodes(ch, "gb2312")
    in_big5 = _encodes(ch, "big5")
    if in_gb and not in_big5:
        return "Hans"
    if in_big5 and not in_gb:
        return "Hant"
    return ""


def _encodes(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


# The ASCII characters that have a script, and that script if they share one (Latin).
_ASCII_LETTERS = bytes(c for c in range(128) if script_of(chr(c)) is not None)
_ASCII_SCRIPTS = {script_of(chr(c)) for c in _ASCII_LETTERS}
_ASCII_SCRIPT = _ASCII_SCRIPTS.pop() if len(_ASCII_SCRIPTS) == 1 else None


# Each letter's kind, its script and Han variant, as one private-use character, so that
# str.translate and Counter count a text's letters per kind in C.
_KINDS = [
    *((script, "") for name, script in vars(Script).items() if name.isupper()),
    *((Script.HAN, variant) for variant in ("Hans", "Hant")),
]
_KIND_CODE = {kind: chr(0xE000 + i) for i, kind in enumerate(_KINDS)}
_CODE_KIND = {code: kind for kind, code in _KIND_CODE.items()}


class _KindTable(dict[int, str]):
    """str.translate's table: a code point's kind code, "" (dropped) for a character that
    is no letter, filled in as characters are first seen (up to the character cache size).
    It is the only cache of :func:`_letter`, whose only caller it is."""

    def __missing__(self, point: int) -> str:
        ch = chr(point)
        script, variant = _letter(ch) if ch >= "A" else (None, "")
        code = "" if script is None else _KIND_CODE[script, variant]
        if len(self) < CHAR_CACHE:
            self[point] = code
        return code


_KIND_TABLE = _KindTable()


@dataclass
class _Profile:
    """Letter counts per script for a text (or a whole document)."""

    counts: dict[str, int]
    simplified: int = 0
    traditional: int = 0

    @classmethod
    def of(cls, text: str) -> _Profile:
        text = _without_addresses(text[:_MAX_SCAN_CHARS])
        if _ASCII_SCRIPT is not None and text.isascii():
            # All letters of ASCII text have one script: count them in C, as the length
            # the bytes lose when the letters are deleted; the same counts as below.
            data = text.encode("ascii")
            letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
            return cls({_ASCII_SCRIPT: letters} if letters else {})
        counts: dict[str, int] = {}
        simplified = traditional = 0
        # Counted per kind of letter in C; the kinds come in the order their first letters
        # do, as the scripts did when each distinct character was looked up in turn.
        for code, n in Counter(text.translate(_KIND_TABLE)).items():
            script, variant = _CODE_KIND[code]
            counts[script] = counts.get(script, 0) + n
            if variant == "Hans":
                simplified += n
            elif variant == "Hant":
                traditional += n
        return cls(counts, simplified, traditional)

    def count(self, script: str) -> int:
        return self.counts.get(script, 0)

    @property
    def weight(self) -> float:
        """Letters, with CJK characters counted as the text they stand for."""
        return sum(n * (_CJK_WEIGHT if s in CJK_SCRIPTS else 1.0) for s, n in self.counts.items())

    def dominant(self) -> str | None:
        if not self.counts:
            return None
        return max(
            self.counts, key=lambda s: self.counts[s] * (_CJK_WEIGHT if s in CJK_SCRIPTS else 1)
        )

    def han_script(self) -> str:
        return "Hant" if self.traditional > self.simplified else "Hans"

    def cjk_language(self) -> tuple[str, float] | None:
        """Decide ko/zh/ja from the writing system alone, when a CJK script is prominent."""
        total = self.weight
        if total == 0:
            return None
        hangul = self.count(Script.HANGUL)
        han = self.count(Script.HAN)
        kana = self.count(Script.KANA)
        if hangul >= 2 and hangul * _CJK_WEIGHT >= _MIN_HANGUL_SHARE * total and hangul >= kana:
            return "ko", hangul * _CJK_WEIGHT / total
        japanese = (kana + han) * _CJK_WEIGHT
        if kana and kana >= _MIN_KANA_SHARE * (kana + han) and japanese >= _MIN_CJK_SHARE * total:
            return "ja", japanese / total
        if han and han * _CJK_WEIGHT >= _MIN_CJK_SHARE * total:
            return "zh", han * _CJK_WEIGHT / total
        return None


def _script_for(language: str, profile: _Profile) -> str | None:
    if language == "zh":
        return profile.han_script()
    if language == "ko" and not profile.count(Script.HANGUL):
        return Script.KOREAN  # Han text read as Korean on a hint: hanja
    return _SCRIPT_OF_LANGUAGE.get(language) or profile.dominant()


def _confidence(share: float) -> float:
    """Map a script share (>= the CJK threshold) to a confidence in 0.5..1."""
    return round(min(1.0, 0.5 + share / 2), 4)


def detect(text: str, *, seed: int = 0) -> Detection:
    """Detect the language of one text; "und" when it has no letters."""
    profile = _Profile.of(text)
    if profile.weight == 0:
        return UNDETERMINED
    decided = profile.cjk_language()
    if decided is not None:
        language, share = decided
        return Detection(language, _confidence(share), _script_for(language, profile))
    ranked = probabilities(_without_addresses(text)[:_MAX_DETECT_CHARS], seed)
    if not ranked:
        return UNDETERMINED
    language, prob = with_word_prior(ranked, text, profile.dominant())
    return Detection(language, round(prob, 4), _script_for(language, profile))


def detect_document(
    paragraphs: Sequence[str], *, seed: int = 0, hint: str | None = None
) -> Detection:
    """Detect a document's language from its paragraphs, weighted by their length.

    CJK paragraphs are decided one by one from their script; the remaining paragraphs are
    pooled per script and given to langdetect once (a bounded sample), which keeps a long
    page to one or two langdetect calls. A Korean article quoting English stays Korean.

    ``hint`` (a feed's language, ``submit --lang``; "en-US" and the like are accepted) is a
    prior: it decides only what the text leaves open (see :func:`_hint_takes_pool` and
    :func:`_hint_reads_han`) and never outweighs the script. An unknown hint is ignored.
    """
    language_hint = normalise_hint(hint)
    hinted = False
    votes: dict[str, float] = {}
    pools: dict[str, list[str]] = {}
    pool_weight: dict[str, float] = {}
    whole = _Profile({})
    for paragraph in paragraphs:
        profile = _Profile.of(paragraph)
        weight = profile.weight
        if weight == 0:
            continue
        whole.simplified += profile.simplified
        whole.traditional += profile.traditional
        for script, n in profile.counts.items():
            whole.counts[script] = whole.counts.get(script, 0) + n
        decided = profile.cjk_language()
        if decided is not None:
            votes[decided[0]] = votes.get(decided[0], 0.0) + weight
            continue
        script = profile.dominant() or Script.OTHER
        pools.setdefault(script, []).append(paragraph)
        pool_weight[script] = pool_weight.get(script, 0.0) + weight
    for script, texts in pools.items():
        sample = _without_addresses(_sample(texts))
        ranked = probabilities(sample[:_MAX_DETECT_CHARS], seed)
        if not ranked:
            continue
        language, prob = with_word_prior(ranked, sample, _Profile.of(sample).dominant())
        if language != ranked[0][0]:  # a few words only: the word prior takes the pool
            ranked = [(language, 1.0)]
        if (
            language_hint is not None
            and language_hint != language
            and _hint_takes_pool(language_hint, script, sample, ranked)
        ):
            ranked, hinted = [(language_hint, 1.0)], True
        for language, prob in ranked:
            votes[language] = votes.get(language, 0.0) + pool_weight[script] * prob
    if language_hint and "zh" in votes and _hint_reads_han(language_hint, whole, paragraphs):
        votes[language_hint] = votes.get(language_hint, 0.0) + votes.pop("zh")
        hinted = True
    total = sum(votes.values())
    if total == 0:
        return UNDETERMINED
    language = max(votes, key=lambda lang: votes[lang])
    confidence = round(votes[language] / total, 4)
    if hinted and language == language_hint:  # the text alone left it open
        confidence = min(confidence, PRIOR_CONFIDENCE)
    return Detection(language, confidence, _script_for(language, whole))


# --- language hints -----------------------------------------------------------------------
# Up to this many words the text is too short to outweigh a hint in its own script.
_HINT_MAX_WORDS = WORD_PRIOR_MAX_WORDS
# Longer text: the hint decides when langdetect gives it at least this probability (two of
# the seven random trials langdetect averages): "LOS ANGELES (AP) — To LeBron James,
# triple-doubles are not a goal." is fr 0.71, en 0.29.
_HINT_MIN_PROB = 0.25
# Han-only text up to this many characters may be Japanese kanji or Korean hanja (headlines,
# names); longer Japanese always has kana, longer Korean Hangul, so it stays Chinese.
_HINT_MAX_HAN = 20
# Kanji and hanja in use are in these character sets; a Han character outside them
# (关 is not Japanese, 国 not Korean) is Chinese.
_HAN_CHARSETS = {"ja": "cp932", "ko": "cp949"}
_HAN_RE = re.compile(f"[{HAN}]")
_HINT_ALIASES = {"nb": "no", "nn": "no", "iw": "he", "in": "id", "fil": "tl"}
# The script of each language langdetect knows that is not written in Latin letters.
_HINT_SCRIPTS = {
    **dict.fromkeys(("ru", "uk", "bg", "mk"), Script.CYRILLIC),
    **dict.fromkeys(("ar", "fa", "ur"), Script.ARABIC),
    **dict.fromkeys(("hi", "mr", "ne"), Script.DEVANAGARI),
    **dict.fromkeys(("bn", "gu", "kn", "ml", "pa", "ta", "te"), Script.OTHER),
    **{"el": Script.GREEK, "he": Script.HEBREW, "th": Script.THAI},
    **{"ko": Script.HANGUL, "ja": Script.KANA, "zh": Script.HAN},
}
_LETTERS = re.compile(r"[^\W\d_]+")


@cache
def _known_languages() -> frozenset[str]:
    profiles: list[str] = os.listdir(str(PROFILES_DIRECTORY))  # "en", "zh-cn", ...
    return frozenset(LANGDETECT_NAMES.get(name, name) for name in profiles)


def normalise_hint(hint: str | None) -> str | None:
    """A language hint as detection names languages ("en-US" -> "en", "zh_Hant_TW" -> "zh"),
    or None when it names no language we detect."""
    if not hint:
        return None
    primary = re.split(r"[-_]", hint.strip().lower(), maxsplit=1)[0]
    primary = _HINT_ALIASES.get(primary, primary)
    return primary if primary in _known_languages() else None


def _hint_takes_pool(hint: str, script: str, sample: str, ranked: list[tuple[str, float]]) -> bool:
    """A hint written in the pool's script decides a short text (a few words, where n-grams
    and word lists guess) and a longer one that langdetect is split on."""
    if _HINT_SCRIPTS.get(hint, Script.LATIN) != script:
        return False
    if len(_LETTERS.findall(sample)) <= _HINT_MAX_WORDS:
        return True
    return dict(ranked).get(hint, 0.0) >= _HINT_MIN_PROB


def _hint_reads_han(hint: str, whole: _Profile, paragraphs: Sequence[str]) -> bool:
    """A ja or ko hint reads short Han-only text (no kana, no Hangul) as kanji or hanja, when
    every character is one that language writes."""
    charset = _HAN_CHARSETS.get(hint)
    if charset is None or whole.count(Script.KANA) or whole.count(Script.HANGUL):
        return False
    if not 0 < whole.count(Script.HAN) <= _HINT_MAX_HAN:
        return False
    return all(_encodes(ch, charset) for text in paragraphs for ch in _HAN_RE.findall(text))


def _sample(texts: list[str]) -> str:
    """Paragraphs spread over the document, up to a bounded number of characters."""
    total = sum(len(t) for t in texts)
    if total <= _MAX_DOCUMENT_SAMPLE:
        return "\n".join(texts)
    stride = max(1, round(total / _MAX_DOCUMENT_SAMPLE))
    order = [*range(0, len(texts), stride), *(i for i in range(len(texts)) if i % stride)]
    picked: list[str] = []
    size = 0
    for index in order:
        if size >= _MAX_DOCUMENT_SAMPLE:
            break
        piece = texts[index][: _MAX_DOCUMENT_SAMPLE - size]
        picked.append(piece)
        size += len(piece)
    return "\n".join(picked)
