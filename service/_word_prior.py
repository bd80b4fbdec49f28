"""The word-frequency prior for short Latin text: English or langdetect's pick, by how
common the words are in each language (wordfreq's lists).

On a few words langdetect's character n-grams guess among ~40 Latin-script languages; how
often each word is used in each language tells them apart (see :func:`with_word_prior`).
"""

from __future__ import annotations

import bisect
import re
import threading
from array import array
from collections.abc import Iterable

import wordfreq
from wordfreq.tokens import tokenize

from .scripts import Script

# Short Latin text: langdetect guesses among ~40 Latin languages from a handful of n-grams,
# so up to this many words a word-frequency prior decides between English and its pick.
WORD_PRIOR_MAX_WORDS = 8
# Zipf frequency (log10 uses per billion words) every word needs in English: 1 is once per
# hundred million words, the floor of wordfreq's large lists, so any listed word.
_EN_MIN_ZIPF = 1.0
# English is the feed's main Latin-script language: its words may be this much rarer (in
# zipf, log10) than in the languages langdetect proposes and still be read as English...
_EN_PRIOR_ZIPF = 1.0
# ...and this much rarer than in any other Latin-script language with a word list.
_EN_PRIOR_ZIPF_ANY = 2.0
# langdetect's proposals: the languages it gives at least this probability.
PROPOSED_MIN_PROB = 0.05
# What a decision that rests on a prior (word lists, a language hint) reports as confidence.
PRIOR_CONFIDENCE = 0.5
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


def with_word_prior(
    ranked: list[tuple[str, float]], text: str, script: str | None
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
    if language == "en" or script != Script.LATIN:
        return language, prob
    if not all(ch.isascii() for ch in text if ch.isalpha()):
        return language, prob
    words = [w for w in tokenize(text.replace("\u2019", "'"), "en") if not _DIGIT.search(w)]
    if not words or len(words) > WORD_PRIOR_MAX_WORDS:
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
    proposed = max((others.get(lang, 0.0) for lang, p in ranked if p >= PROPOSED_MIN_PROB),
                   default=0.0)  # fmt: skip
    best = max(others, key=lambda lang: others[lang], default=language)
    anywhere = others.get(best, 0.0)
    if english + _EN_PRIOR_ZIPF >= proposed and english + _EN_PRIOR_ZIPF_ANY >= anywhere:
        return "en", PRIOR_CONFIDENCE
    if anywhere >= others.get(language, 0.0) + _RELABEL_ZIPF:
        return best, PRIOR_CONFIDENCE
    return language, prob
