"""Near-duplicates and cross-lingual story grouping, with their state in Redis.

Both are best-effort by nature (two near-identical documents published in the same
millisecond may both miss each other); exact duplicates are decided atomically in the
publish script instead. See docs/stream.md for the method and its limits.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, cast

import redis

from .similarity import cosine, hamming, term_vector

_BANDS = 4
_BAND_BITS = 64 // _BANDS
_INDEX_TERMS = 10
_CANDIDATES_PER_TERM = 100
_MAX_COMPARED = 60
_BUCKET_RECENT = 50
# A term keeps its latest documents by date, this many at most: a document within the window
# of now reads only the latest _CANDIDATES_PER_TERM of a term, so a hot term loses nothing
# that live news would read, and a refreshed term key cannot grow for ever.
_TERM_KEEP = 10 * _CANDIDATES_PER_TERM


@dataclass(frozen=True)
class StoryPolicy:
    window_seconds: float
    threshold: float
    near_dup_distance: int
    retention_seconds: int


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class Annotation:
    """What the index says of one document, and what publishing it will record."""

    doc_id: str
    story_id: str
    near_duplicate: str | None
    fingerprint: int
    vector: dict[str, float]
    at: float
    known: bool


class StoryIndex:
    """Reads for a document in one round trip (two with candidates to score); its writes go
    into the caller's pipeline, next to the publish script, so that a publish costs three
    round trips whatever the index holds."""

    def __init__(self, client: redis.Redis, prefix: str, policy: StoryPolicy) -> None:
        self.client = client
        self.prefix = prefix
        self.policy = policy

    def _vec_key(self, doc_id: str) -> str:
        return f"{self.prefix}:story:vec:{doc_id}"

    def _term_key(self, term: str) -> str:
        return f"{self.prefix}:story:term:{term}"

    def _band_keys(self, fingerprint: int) -> list[str]:
        mask = (1 << _BAND_BITS) - 1
        bands = [(fingerprint >> (i * _BAND_BITS)) & mask for i in range(_BANDS)]
        return [f"{self.prefix}:simhash:{i}:{band:04x}" for i, band in enumerate(bands)]

    def annotate(
        self, doc_id: str, title: str | None, text: str, at: float, fingerprint: int
    ) -> Annotation:
        """The story id (the first similar document in the window) and near-duplicate."""
        vector = term_vector(title, text)
        terms = _top_terms(vector)
        window = self.policy.window_seconds
        bands = self._band_keys(fingerprint)
        pipe = self.client.pipeline(transaction=False)
        pipe.get(self._vec_key(doc_id))
        for key in bands:
            pipe.zrange(key, 0, _BUCKET_RECENT - 1)
        for term in terms:
            pipe.zrevrangebyscore(
                self._term_key(term), at + window, at - window, start=0, num=_CANDIDATES_PER_TERM
            )
        replies = pipe.execute()
        known, members = replies[0], replies[1 : 1 + _BANDS]
        near = self._near_duplicate(doc_id, fingerprint, members)
        if known is not None:
            story = str(json.loads(known)["story"])
        else:
            story = self._best_story(doc_id, vector, replies[1 + _BANDS :]) or doc_id
        return Annotation(doc_id, story, near, fingerprint, vector, at, known is not None)

    def record(self, pipe: Any, note: Annotation, now: float | None = None) -> None:
        """Queue the index writes for an annotated document on ``pipe``.

        Every key and every member has a lifetime of ``retention_seconds``: a key's TTL alone
        would not do, because each write refreshes it and a busy key would keep its members
        for ever. So each write also drops the members the retention has passed: band
        members by first sighting, term members by date (and beyond ``_TERM_KEEP``).
        """
        ttl = self.policy.retention_seconds
        now = time.time() if now is None else now
        for key in self._band_keys(note.fingerprint):
            # Scored by first sighting: the oldest members come first and are kept.
            pipe.zadd(key, {f"{note.doc_id}:{note.fingerprint:016x}": now}, nx=True)
            pipe.zremrangebyscore(key, "-inf", f"({now - ttl}")
            pipe.expire(key, ttl)
        if note.known:
            return
        payload = json.dumps({"story": note.story_id, "v": note.vector, "at": note.at})
        pipe.set(self._vec_key(note.doc_id), payload, ex=ttl)
        for term in _top_terms(note.vector):
            key = self._term_key(term)
            pipe.zadd(key, {note.doc_id: note.at})
            # Members dated before the retention go, this document too if it is that old:
            # a story window that far back is not searched for live news.
            pipe.zremrangebyscore(key, "-inf", f"({now - ttl}")
            pipe.zremrangebyrank(key, 0, -_TERM_KEEP - 1)
            pipe.expire(key, ttl)

    def _best_story(
        self, doc_id: str, vector: dict[str, float], term_members: list[list[bytes]]
    ) -> str | None:
        if not vector:
            return None
        overlap: Counter[str] = Counter()
        for members in term_members:
            overlap.update(_text(m) for m in members)
        overlap.pop(doc_id, None)
        # Only documents sharing at least two of the top terms can reach the threshold in
        # practice; comparing the best-overlapping few keeps hot stories cheap.
        ordered = [c for c, n in overlap.most_common(_MAX_COMPARED) if n >= 2]
        if not ordered:
            return None
        raws = cast(list[bytes | None], self.client.mget([self._vec_key(c) for c in ordered]))
        best: tuple[float, float, str] | None = None
        for raw in raws:
            if raw is None:
                continue
            other = json.loads(raw)
            score = cosine(vector, other["v"])
            if score >= self.policy.threshold:
                # Highest similarity wins; ties go to the older story.
                key = (score, -float(other.get("at", 0.0)), str(other["story"]))
                if best is None or key > best:
                    best = key
        return best[2] if best else None

    def _near_duplicate(
        self, doc_id: str, fingerprint: int, bucket_members: list[list[bytes]]
    ) -> str | None:
        """An earlier document within the SimHash distance among the band buckets' members.

        Buckets keep their oldest members, so the match is the first sighting of the text.
        """
        found: set[str] = set()
        for members in bucket_members:
            found |= {_text(m) for m in members}
        for member in sorted(found):  # deterministic among equal candidates
            other_id, _, other_fp = member.partition(":")
            if other_id == doc_id:
                continue
            if hamming(int(other_fp, 16), fingerprint) <= self.policy.near_dup_distance:
                return other_id
        return None


def _top_terms(vector: dict[str, float]) -> list[str]:
    return sorted(vector, key=lambda t: -vector[t])[:_INDEX_TERMS]
