"""Text fingerprints for duplicates and story grouping, over English text.

Near-duplicates: a 64-bit SimHash over word 3-shingles; two documents within a small
Hamming distance are the same text with light edits (wire copy re-published by another site).
Stories: a bag of content words (top terms by log tf, title counted twice) compared by
cosine similarity; the same event reported by different outlets shares its names and key
terms even when the wording differs. Cross-lingual grouping works because ko/zh documents are
compared through their English translation.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections import Counter

import numpy as np

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+|\d+(?:\.\d+)?%?")
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers him his how i if in into is it its
    itself just me more most my no nor not now of off on once only or other our out over own
    same she should so some such than that the their them then there these they this those
    through to too under until up very was we were what when where which while who whom why
    will with would you your said says say new one two year years may might like get got make
    made time people according since however although many much well even still told including
    per cent percent week month day today yesterday""".split()  # noqa: SIM905
)


_SUFFIXES = ("ations", "ation", "ions", "ion", "ings", "ing", "ed", "es", "s", "ly")


def stem(token: str) -> str:
    """A crude suffix stripper: enough to make "restrictions" meet "restricting"."""
    for suffix in _SUFFIXES:
        if len(token) > len(suffix) + 3 and token.endswith(suffix):
            return token[: -len(suffix)]
    return token


def words(text: str) -> list[str]:
    """Lower-cased, stemmed content words without stopwords."""
    return [term for term in map(_term, _WORD.findall(text)) if term]


@functools.lru_cache(maxsize=65536)
def _term(raw: str) -> str:
    """One token's content word, or "" for a stopword; cached, as news reuses its words."""
    token = raw.lower().strip("'-")
    if token.endswith("'s"):
        token = token[:-2]
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        token = token[:-1]
    if len(token) >= 3 and token not in STOPWORDS:
        return stem(token)
    return ""


def term_vector(title: str | None, text: str, top: int = 40) -> dict[str, float]:
    """Unit-length weights of the ``top`` most frequent content words."""
    counts = Counter(words(f"{title or ''} {title or ''} {text}"))
    weights = {term: 1.0 + math.log(n) for term, n in counts.items()}
    best = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    norm = math.sqrt(sum(w * w for _, w in best)) or 1.0
    return {term: round(w / norm, 5) for term, w in best}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(term, 0.0) for term, w in a.items())


# Shingles hashed per step of simhash: bounds its memory (64 bytes a shingle while counting)
# whatever the text's length; a 10 MB text no longer holds all its shingles at once.
_SIMHASH_CHUNK = 16_384


def simhash(text: str) -> int:
    """64-bit SimHash over word 3-shingles (all words, so light edits move few bits)."""
    counts = np.zeros(64, dtype=np.int64)
    total = 0
    chunk: list[bytes] = []
    window: list[str] = []
    for match in _WORD.finditer(text):
        window.append(match.group().lower())
        if len(window) > 3:
            del window[0]
        if len(window) == 3:
            chunk.append(hashlib.blake2b(" ".join(window).encode(), digest_size=8).digest())
            if len(chunk) == _SIMHASH_CHUNK:
                total += _count_bits(chunk, counts)
                chunk = []
    if total == 0 and not chunk:
        if not window:
            return 0
        # Under three words: the one shingle is all of them.
        chunk.append(hashlib.blake2b(" ".join(window).encode(), digest_size=8).digest())
    total += _count_bits(chunk, counts)
    majority = counts * 2 > total
    return int.from_bytes(np.packbits(majority).tobytes(), "big")


def _count_bits(digests: list[bytes], counts: np.ndarray) -> int:
    """Add each bit position's ones over ``digests`` to ``counts``; return how many digests."""
    if digests:
        raw = np.frombuffer(b"".join(digests), dtype=np.uint8)
        counts += np.unpackbits(raw).reshape(len(digests), 64).sum(axis=0, dtype=np.int64)
    return len(digests)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def fingerprint(english: str) -> str:
    """A document's near-duplicate fingerprint, as published: the SimHash of its English text
    (the translation when there is one, so that a story's languages meet)."""
    return f"simhash:{simhash(english):016x}"
