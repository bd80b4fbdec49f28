"""langdetect behind one adapter: its profiles loaded once, and a detector that computes
exactly what langdetect 1.0.9 computes (pinned in pyproject.toml) with less interpreter work.

:func:`probabilities` is what service.language asks of it. The subclass below overrides
langdetect's text cleaning, n-gram extraction and trial loop; tests/test_language.py checks
them against langdetect's own methods, bit for bit.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import Counter
from functools import lru_cache

import numpy as np
from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from langdetect.utils.ngram import NGram
from langdetect.utils.unicode_block import unicode_block
from numpy.typing import NDArray

__all__ = [
    "CHAR_CACHE",
    "LANGDETECT_NAMES",
    "PROFILES_DIRECTORY",
    "detector_factory",
    "probabilities",
]

# langdetect's names for the languages detection reports under another name.
LANGDETECT_NAMES = {"zh-cn": "zh", "zh-tw": "zh"}


_factory: DetectorFactory | None = None
_factory_lock = threading.Lock()


def detector_factory() -> DetectorFactory:
    """Load the langdetect profiles once, on first use, without the global factory."""
    global _factory
    if _factory is None:
        with _factory_lock:
            if _factory is None:
                factory = DetectorFactory()
                factory.load_profile(PROFILES_DIRECTORY)
                _factory = factory
    return _factory


# langdetect normalises every character of its sample through a chain of Unicode-block
# tests (a third of its time on a page); the result depends on the character alone.
# Per-character caches are bounded: a stream of hostile text may hold any of Unicode's
# million characters, and a worker runs for weeks.
CHAR_CACHE = 1 << 16
_normalised = lru_cache(maxsize=CHAR_CACHE)(NGram.normalize)


# The words of the normalised text repeat (a page says "the" a hundred times), and a word's
# n-grams depend on the word alone and on whether a space follows it, so they are cached per
# word. Only short words are cached, which bounds each entry: CJK and Thai text has no spaces,
# and its "words" are whole paragraphs.
_WORD_CACHE = 1 << 14
_MAX_CACHED_WORD = 24
# Two or more spaces: Detector.append keeps one space of each such run.
_SPACE_RUN = re.compile(" {2,}")
# The characters langdetect's cleaning treats as Latin: "A" to "z", as it compares.
_A_TO_Z = re.compile("[A-z]")


def _word_grams(word: str, spaced: bool) -> tuple[str, ...]:
    """The known 1- to 3-grams langdetect's ``NGram`` yields while reading ``word`` (a run of
    normalised non-space characters after a space or the text's start) and, when ``spaced``,
    the space after it, in its order: for each character the grams of length 1, 2 and 3
    ending there, none inside a run of capitals (``NGram.capitalword``)."""
    known = detector_factory().word_lang_prob_map
    padded = " " + word
    grams: list[str] = []
    previous = " "
    for end, ch in enumerate(word, 2):  # padded[:end] is read up to ch
        if not (ch.isupper() and previous.isupper()):
            window = padded[max(0, end - 3) : end]  # NGram.grams: at most 3 characters
            grams.extend(window[-n:] for n in range(1, len(window) + 1) if window[-n:] in known)
        previous = ch
    if spaced:  # the space: its 1-gram " " is never counted
        window = padded[-2:] + " "
        grams.extend(gram for gram in (window[-2:], window) if gram in known)
    # One string object per distinct gram across the cache.
    return tuple(sys.intern(gram) for gram in grams)


_cached_word_grams = lru_cache(maxsize=_WORD_CACHE)(_word_grams)


# The n-grams langdetect draws (3,550 distinct ones on the dev corpus, of 87,598 known),
# converted once: an array is 0.5 kB.
_GRAM_CACHE = 1 << 14


@lru_cache(maxsize=_GRAM_CACHE)
def _gram_vector(gram: str) -> NDArray[np.float64]:
    """A known n-gram's per-language probabilities (``word_lang_prob_map``) as an array."""
    return np.array(detector_factory().word_lang_prob_map[gram], dtype=np.float64)


class _Detector(Detector):  # type: ignore[misc]
    """langdetect's detector, computing what it computes with less interpreter work.

    The same text, the same n-grams in the same order, the same random draws and the same
    floating-point operations in the same order, so the same probabilities to the last bit
    (see each method). It reads the profiles of :func:`detector_factory` only.
    """

    text: str

    def append(self, text: str) -> None:
        """``Detector.append``: a run of spaces becomes one space, as its loop keeps a space
        only after a character that is not one."""
        text = self.MAIL_RE.sub(" ", self.URL_RE.sub(" ", text))
        text = NGram.normalize_vi(text)
        self.text += _SPACE_RUN.sub(" ", text[: self.max_text_length])

    def cleaning_text(self) -> None:
        """``Detector.cleaning_text``, counting each distinct character once."""
        text = self.text
        latin = non_latin = 0
        for ch, n in Counter(text).items():
            if "A" <= ch <= "z":
                latin += n
            # langdetect compares a block number with a name here: never equal, so every
            # character from U+0300 counts; the same test keeps the same counts.
            elif ch >= "\u0300" and unicode_block(ch) != "Latin Extended Additional":
                non_latin += n
        if latin * 2 < non_latin:
            self.text = _A_TO_Z.sub("", text)

    def _extract_ngrams(self) -> list[str]:
        """``Detector._extract_ngrams``: the same n-grams in the same order, word by word.

        ``NGram.add_char`` starts again after each space, skips the spaces after the first,
        and reads a character the same way wherever its word appears (see
        :func:`_word_grams`)."""
        words = "".join(map(_normalised, self.text)).split(" ")
        last = len(words) - 1
        result: list[str] = []
        for index, word in enumerate(words):
            if word:
                spaced = index < last
                if len(word) <= _MAX_CACHED_WORD:
                    result += _cached_word_grams(word, spaced)
                else:
                    result += _word_grams(word, spaced)
        return result

    def _detect_block(self) -> None:
        """``Detector._detect_block`` on arrays: the same trials, bit for bit.

        The same random calls in the same order (seed, then per trial one gauss and one
        choice per update). Per update ``prob[i] *= weight + lang_prob_map[i]`` for every
        language, elementwise in numpy: the same IEEE products. Per check the total is
        Python's left-to-right ``sum`` of the same floats (numpy would add pairwise), then
        the same quotients; the largest quotient is the largest value divided by the total,
        as correctly rounded division by a positive number keeps the order.
        """
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        langprob = np.zeros(len(self.langlist), dtype=np.float64)
        self.random.seed(self.seed)
        gauss, choice, vector = self.random.gauss, self.random.choice, _gram_vector
        for _ in range(self.n_trial):
            prob = np.array(self._init_probability(), dtype=np.float64)
            alpha = self.alpha + gauss(0.0, 1.0) * self.ALPHA_WIDTH
            weight = alpha / self.BASE_FREQ
            i = 0
            while True:
                prob *= weight + vector(choice(ngrams))
                if i % 5 == 0:
                    values = prob.tolist()
                    total = sum(values)
                    prob /= total
                    if max(values) / total > self.CONV_THRESHOLD or i >= self.ITERATION_LIMIT:
                        break
                i += 1
            langprob += prob / self.n_trial  # 0.0 + x is x: the first trial adds exactly
        self.langprob = langprob.tolist()


def probabilities(text: str, seed: int) -> list[tuple[str, float]]:
    """Seeded langdetect probabilities, best first; empty when it finds no features."""
    detector = _Detector(detector_factory())
    detector.seed = seed  # per detector: the class-level seed would race between threads
    detector.append(text)
    try:
        detector.get_probabilities()
    except LangDetectException:
        return []
    # The full distribution, not just the >0.1 entries get_probabilities() reports.
    merged: dict[str, float] = {}
    for lang, prob in zip(detector.langlist, detector.langprob or [], strict=False):
        if prob > 0.0:
            name = LANGDETECT_NAMES.get(lang, lang)
            merged[name] = merged.get(name, 0.0) + float(prob)
    return sorted(merged.items(), key=lambda pair: -pair[1])
