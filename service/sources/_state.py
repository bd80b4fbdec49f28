"""What polling remembers in Redis: conditional-GET validators and the items handed on."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import cast

import redis

from ..errors import TransientFetchError
from ..fetch import Validators
from ..politeness import Politeness
from ..settings import Settings
from ._parse import Entry


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class ValidatorStore:
    """Conditional-GET state per URL (ETag, Last-Modified, body hash)."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.prefix = settings.key_prefix
        self.ttl = settings.seen_ttl

    def _key(self, url: str) -> str:
        return f"{self.prefix}:http:{_digest(url)}"

    def get(self, url: str) -> Validators | None:
        raw = cast(dict[bytes, bytes], self.client.hgetall(self._key(url)))
        if not raw:
            return None
        return Validators.from_dict({k.decode(): v.decode() for k, v in raw.items()})

    def put(self, url: str, validators: Validators | None) -> None:
        if validators is None:
            return
        key = self._key(url)
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(key)
        pipe.hset(key, mapping={"url": url, **validators.as_dict()})
        pipe.expire(key, max(1, self.ttl))
        pipe.execute()


class SeenStore:
    """Which item URLs were handed on, and the marker each source gave them then.

    Dedupe is global (an article listed by two feeds is fetched once) but updates are judged
    per source: feeds format ``updated``/``lastmod`` differently, and comparing one source's
    marker with another's would make an item look updated on every poll.
    """

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.prefix = settings.key_prefix
        self.ttl = settings.seen_ttl

    def _key(self, url: str) -> str:
        return f"{self.prefix}:seen:{_digest(url)}"

    def classify(
        self, source: str, entries: list[Entry]
    ) -> tuple[list[tuple[Entry, bool]], list[Entry]]:
        """(entries to hand on, each with ``updated``; entries known only from other sources,
        which this source should just remember)."""
        fresh: list[tuple[Entry, bool]] = []
        adopt: list[Entry] = []
        for start in range(0, len(entries), 500):
            batch = entries[start : start + 500]
            pipe = self.client.pipeline(transaction=False)
            for entry in batch:
                pipe.exists(self._key(entry.url))
                pipe.hget(self._key(entry.url), source)
            replies = pipe.execute()
            for index, entry in enumerate(batch):
                exists, old = replies[2 * index], cast(bytes | None, replies[2 * index + 1])
                if not exists:
                    fresh.append((entry, False))
                elif old is None:
                    adopt.append(entry)
                elif entry.marker and old.decode("utf-8", "replace") != entry.marker:
                    fresh.append((entry, True))
        return fresh, adopt

    def mark(self, source: str, entries: Iterable[Entry]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for entry in entries:
            key = self._key(entry.url)
            pipe.hset(key, source, entry.marker)
            pipe.expire(key, max(1, self.ttl))
        pipe.execute()


class FeedPoliteness(Politeness):
    """Politeness for polls: a feed's own Retry-After (a 503 or 429 answering the feed)
    holds back that feed only, so the host's other feeds and its pages go on. A Retry-After
    the host gave for anything else still holds back its feeds too."""

    def _feed_key(self, url: str) -> str:
        return f"{self.prefix}:backoff:feed:{_digest(url)}"

    def defer(self, url: str, seconds: float) -> None:
        if not seconds > 0:  # also NaN
            return
        ms = int(min(seconds, self.retry_after_max) * 1000)
        self._defer(keys=[self._feed_key(url)], args=[max(1, ms)])

    def check_backoff(self, url: str) -> None:
        super().check_backoff(url)
        left_ms = int(cast(int, self.client.pttl(self._feed_key(url))))
        if left_ms > 0:
            raise TransientFetchError(
                f"{url} asked us (Retry-After) to come back later; {left_ms / 1000:.1f}s left",
                reason="host_backoff",
                retry_after=left_ms / 1000.0,
            )
