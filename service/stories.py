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


@dataclass(frozen=True)
class StoryPolicy:
    window_seconds: float
    threshold: float
    near_dup_distance: int
    retention_seconds: int


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class StoryIndex:
    def __init__(self, client: redis.Redis, prefix: str, policy: StoryPolicy) -> None:
        self.client = client
        self.prefix = prefix
        self.policy = policy

    def _vec_key(self, doc_id: str) -> str:
        return f"{self.prefix}:story:vec:{doc_id}"

    def _term_key(self, term: str) -> str:
        return f"{self.prefix}:story:term:{term}"

    def assign(self, doc_id: str, title: str | None, text: str, at: float) -> str:
        """The story id for a document: the id of the first similar document in the window."""
        known = cast(bytes | None, self.client.get(self._vec_key(doc_id)))
        if known is not None:
            return str(json.loads(known)["story"])
        vector = term_vector(title, text)
        story = doc_id
        if vector:
            story = self._best_story(doc_id, vector, at) or doc_id
        index_terms = sorted(vector, key=lambda t: -vector[t])[:_INDEX_TERMS]
        ttl = self.policy.retention_seconds
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self._vec_key(doc_id), json.dumps({"story": story, "v": vector, "at": at}), ex=ttl)
        for term in index_terms:
            pipe.zadd(self._term_key(term), {doc_id: at})
            pipe.expire(self._term_key(term), ttl)
        pipe.execute()
        return story

    def _best_story(self, doc_id: str, vector: dict[str, float], at: float) -> str | None:
        window = self.policy.window_seconds
        terms = sorted(vector, key=lambda t: -vector[t])[:_INDEX_TERMS]
        pipe = self.client.pipeline(transaction=False)
        for term in terms:
            pipe.zrevrangebyscore(
                self._term_key(term), at + window, at - window, start=0, num=_CANDIDATES_PER_TERM
            )
        overlap: Counter[str] = Counter()
        for members in pipe.execute():
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

    def near_duplicate(self, doc_id: str, fingerprint: int) -> str | None:
        """An earlier document within the SimHash distance, and remember this one.

        Buckets keep their oldest members, so the match is the first sighting of the text.
        """
        bands = [(fingerprint >> (i * _BAND_BITS)) & ((1 << _BAND_BITS) - 1) for i in range(_BANDS)]
        keys = [f"{self.prefix}:simhash:{i}:{band:04x}" for i, band in enumerate(bands)]
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.zrange(key, 0, _BUCKET_RECENT - 1)
        found: set[str] = set()
        for members in pipe.execute():
            found |= {_text(m) for m in members}
        match: str | None = None
        for member in sorted(found):  # deterministic among equal candidates
            other_id, _, other_fp = member.partition(":")
            if other_id == doc_id:
                continue
            if hamming(int(other_fp, 16), fingerprint) <= self.policy.near_dup_distance:
                match = other_id
                break
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            # Scored by first sighting: the oldest members come first and are kept.
            pipe.zadd(key, {f"{doc_id}:{fingerprint:016x}": time.time()}, nx=True)
            pipe.expire(key, self.policy.retention_seconds)
        pipe.execute()
        return match
