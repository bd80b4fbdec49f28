"""Language identification: a script prior for CJK, seeded langdetect for everything else.

langdetect alone is unreliable on short and script-mixed CJK text (a Korean line with Latin
acronyms, a single Han character) and is random unless seeded, so the writing system decides
ko/zh/ja first and langdetect, with its own seeded detector, handles the rest.
"""

from __future__ import annotations

import bisect
import re
import threading
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import wordfreq
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException
from wordfreq.tokens import tokenize

from .scripts import CJK_SCRIPTS, CJK_WEIGHT, Script, script_of

__all__ = ["Detection", "detect", "detect_document"]


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
# Short Latin text: langdetect guesses among ~40 Latin languages from a handful of n-grams,
# so up to this many words a word-frequency prior decides between English and its pick.
_WORD_PRIOR_MAX_WORDS = 8
# Zipf frequency (log10 uses per billion words) every word needs in English: 1 is once per
# hundred million words, the floor of wordfreq's large lists, so any listed word.
_EN_MIN_ZIPF = 1.0
# English is the feed's main Latin-script language: its words may be this much rarer (in
# zipf, log10) than in the languages langdetect proposes and still be read as English...
_EN_PRIOR_ZIPF = 1.0
# ...and this much rarer than in any other Latin-script language with a word list.
_EN_PRIOR_ZIPF_ANY = 2.0
# langdetect's proposals: the languages it gives at least this probability.
_PROPOSED_MIN_PROB = 0.05
_PRIOR_CONFIDENCE = 0.5
# The other Latin-script languages langdetect knows, under wordfreq's names where they differ.
_OTHER_LATIN_LANGUAGES = (
    *("ca", "cs", "da", "de", "es", "fi", "fr", "hr", "hu", "id", "it", "lt", "lv", "nl"),
    *("no", "pl", "pt", "ro", "sk", "sl", "sv", "tl", "tr", "vi"),
)
_WORDFREQ_NAMES = {"hr": "sh", "no": "nb", "tl": "fil"}
_LANGDETECT_CODES = {name: code for code, name in _WORDFREQ_NAMES.items()}
# A language whose word list makes the words this much more common (zipf, log10) than in
# langdetect's pick replaces the pick (Montag: it -> de).
_RELABEL_ZIPF = 1.0
_DIGIT = re.compile(r"\d")

# URLs and e-mail addresses are not written in any language.
_NO_LANGUAGE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.IGNORECASE)

_LANGDETECT_NAMES = {"zh-cn": "zh", "zh-tw": "zh"}
_SCRIPT_OF_LANGUAGE = {"ko": "Hang", "ja": "Jpan"}


_factory: DetectorFactory | None = None
_factory_lock = threading.Lock()


def _detector_factory() -> DetectorFactory:
    """Load the langdetect profiles once, on first use, without the global factory."""
    global _factory
    if _factory is None:
        with _factory_lock:
            if _factory is None:
                factory = DetectorFactory()
                factory.load_profile(PROFILES_DIRECTORY)
                _factory = factory
    return _factory


def _langdetect(text: str, seed: int) -> list[tuple[str, float]]:
    """Seeded langdetect probabilities, best first; empty when it finds no features."""
    detector = _detector_factory().create()
    detector.seed = seed  # per detector: the class-level seed would race between threads
    detector.append(text[:_MAX_DETECT_CHARS])
    try:
        detector.get_probabilities()
    except LangDetectException:
        return []
    # The full distribution, not just the >0.1 entries get_probabilities() reports.
    merged: dict[str, float] = {}
    for lang, prob in zip(detector.langlist, detector.langprob or [], strict=False):
        if prob > 0.0:
            name = _LANGDETECT_NAMES.get(lang, lang)
            merged[name] = merged.get(name, 0.0) + float(prob)
    return sorted(merged.items(), key=lambda pair: -pair[1])


@cache
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


@dataclass
class _Profile:
    """Letter counts per script for a text (or a whole document)."""

    counts: dict[str, int]
    simplified: int = 0
    traditional: int = 0

    @classmethod
    def of(cls, text: str) -> _Profile:
        counts: dict[str, int] = {}
        simplified = traditional = 0
        for ch in _NO_LANGUAGE.sub(" ", text[:_MAX_SCAN_CHARS]):
            if ch < "A":
                continue
            script = script_of(ch)
            if script is None:
                continue
            counts[script] = counts.get(script, 0) + 1
            if script == Script.HAN:
                variant = _han_variant(ch)
                simplified += variant == "Hans"
                traditional += variant == "Hant"
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
    return _SCRIPT_OF_LANGUAGE.get(language) or profile.dominant()


def _confidence(share: float) -> float:
    """Map a script share (>= the CJK threshold) to a confidence in 0.5..1."""
    return round(min(1.0, 0.5 + share / 2), 4)


class _Lexicon:
    """English words with how common each is in English and in other Latin-script languages.

    English frequencies are zipf values times 100 (zipf: log10 of uses per billion words);
    per language they are kept times 10 in a byte. The words are kept sorted in one UTF-8
    string with arrays beside it: about 14 MB, where a dict of the 321k words takes over 30.
    """

    def __init__(
        self, english: list[list[str]], others: Iterable[tuple[str, list[list[str]]]]
    ) -> None:
        words = [word for bucket in english for word in bucket]
        zipf = {word: 900 - i for i, bucket in enumerate(english) for word in bucket}
        words.sort()
        self._english = array("H", (zipf[word] for word in words))
        position = {word: i for i, word in enumerate(words)}
        self._per_language: dict[str, array[int]] = {}
        for language, buckets in others:
            table = array("B", bytes(len(words)))
            for i, bucket in enumerate(buckets):
                for word in bucket:
                    index = position.get(word)
                    if index is not None:
                        table[index] = max(table[index], round((900 - i) / 10))
            self._per_language[_LANGDETECT_CODES.get(language, language)] = table
        encoded = [word.encode() for word in words]
        self._text = b"\n".join(encoded)
        self._starts = array("I", [0])
        for word_bytes in encoded:
            self._starts.append(self._starts[-1] + len(word_bytes) + 1)

    def __len__(self) -> int:
        return len(self._english)

    def __getitem__(self, index: int) -> bytes:
        return self._text[self._starts[index] : self._starts[index + 1] - 1]

    def zipf(self, word: str) -> tuple[float, dict[str, float]]:
        """The word's zipf frequency in English, and in each other language that uses it
        (langdetect codes); (0, {}) for a word English does not have."""
        key = word.encode()
        index = bisect.bisect_left(self, key)
        if index == len(self) or self[index] != key:
            return 0.0, {}
        others = {lang: t[index] / 10 for lang, t in self._per_language.items() if t[index]}
        return self._english[index] / 100, others


_lexicon: _Lexicon | None = None
_lexicon_lock = threading.Lock()


def _english_lexicon() -> _Lexicon:
    """Read wordfreq's lists once per process, on the first short Latin text.

    English from the "large" list (words used down to once per hundred million: the rare
    words of real headlines), the other Latin-script languages from the "small" ones (once
    per million); only words English has are kept. They ship in the wheel: nothing is
    downloaded.
    """
    global _lexicon
    if _lexicon is None:
        with _lexicon_lock:
            if _lexicon is None:
                small = wordfreq.available_languages("small")
                names = [_WORDFREQ_NAMES.get(lang, lang) for lang in _OTHER_LATIN_LANGUAGES]
                _lexicon = _Lexicon(
                    wordfreq.read_cBpack(wordfreq.available_languages("large")["en"]),
                    ((name, wordfreq.read_cBpack(small[name])) for name in names if name in small),
                )
    return _lexicon


def _with_word_prior(
    ranked: list[tuple[str, float]], text: str, profile: _Profile
) -> tuple[str, float]:
    """Prefer English for a few unaccented words that are more common in English.

    On one to three words langdetect's character n-grams name look-alike languages
    (taken -> fi, steel -> af, january -> id), while how often each word is used in each
    language tells them apart. English wins when the words are English words and, on
    average, at least as common in English as in the languages langdetect proposes, give or
    take the feed's English prior, and not far rarer than in any other Latin-script language
    with a word list (fonts -> fr is English). An accent is evidence against English, so
    only text with ASCII letters is eligible; longer text and documents keep langdetect's
    answer, and so do words that are more common elsewhere (Montag, ciao, hola).
    """
    language, prob = ranked[0]
    if language == "en" or profile.dominant() != Script.LATIN:
        return language, prob
    if not all(ch.isascii() for ch in text if ch.isalpha()):
        return language, prob
    words = [w for w in tokenize(text.replace("\u2019", "'"), "en") if not _DIGIT.search(w)]
    if not words or len(words) > _WORD_PRIOR_MAX_WORDS:
        return language, prob
    lexicon = _english_lexicon()
    english = 0.0
    others: dict[str, float] = {}
    for word in words:
        in_english, elsewhere = lexicon.zipf(word)
        if in_english < _EN_MIN_ZIPF:  # other languages are only known for English words
            return language, prob
        english += in_english / len(words)
        for other, zipf in elsewhere.items():
            others[other] = others.get(other, 0.0) + zipf / len(words)
    proposed = max((others.get(lang, 0.0) for lang, p in ranked if p >= _PROPOSED_MIN_PROB),
                   default=0.0)  # fmt: skip
    best = max(others, key=lambda lang: others[lang], default=language)
    anywhere = others.get(best, 0.0)
    if english + _EN_PRIOR_ZIPF >= proposed and english + _EN_PRIOR_ZIPF_ANY >= anywhere:
        return "en", _PRIOR_CONFIDENCE
    if anywhere >= others.get(language, 0.0) + _RELABEL_ZIPF:
        return best, _PRIOR_CONFIDENCE
    return language, prob


def detect(text: str, *, seed: int = 0) -> Detection:
    """Detect the language of one text; "und" when it has no letters."""
    profile = _Profile.of(text)
    if profile.weight == 0:
        return UNDETERMINED
    decided = profile.cjk_language()
    if decided is not None:
        language, share = decided
        return Detection(language, _confidence(share), _script_for(language, profile))
    ranked = _langdetect(_NO_LANGUAGE.sub(" ", text), seed)
    if not ranked:
        return UNDETERMINED
    language, prob = _with_word_prior(ranked, text, profile)
    return Detection(language, round(prob, 4), _script_for(language, profile))


def detect_document(paragraphs: Sequence[str], *, seed: int = 0) -> Detection:
    """Detect a document's language from its paragraphs, weighted by their length.

    CJK paragraphs are decided one by one from their script; the remaining paragraphs are
    pooled per script and given to langdetect once (a bounded sample), which keeps a long
    page to one or two langdetect calls. A Korean article quoting English stays Korean.
    """
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
        sample = _NO_LANGUAGE.sub(" ", _sample(texts))
        ranked = _langdetect(sample, seed)
        if not ranked:
            continue
        language, prob = _with_word_prior(ranked, sample, _Profile.of(sample))
        if language != ranked[0][0]:  # a few words only: the word prior takes the pool
            ranked = [(language, 1.0)]
        for language, prob in ranked:
            votes[language] = votes.get(language, 0.0) + pool_weight[script] * prob
    total = sum(votes.values())
    if total == 0:
        return UNDETERMINED
    language = max(votes, key=lambda lang: votes[lang])
    return Detection(language, round(votes[language] / total, 4), _script_for(language, whole))


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
