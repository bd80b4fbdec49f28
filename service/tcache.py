"""A bounded translation cache in Redis, shared by every translate worker.

News repeats itself: boilerplate lines, syndicated wire copy, and re-ingested updates of an
article that changed one paragraph. Caching per sentence makes every repeated line free.

Layout, all under ``<key_prefix>:tcache:``:

- ``<package_id>:<version>:<digest>`` holds one sentence's translation (a string with a
  TTL), where the digest covers the decoding variant (beam, compute type, cut length) and
  the source sentence, so a new package version or new decoding settings never read old
  translations;
- ``index`` is a sorted set of those keys scored by last use, which bounds the cache.

Writes go through one Lua script that stores the entries, indexes them and, in the same
atomic step, evicts the least recently used keys beyond ``max_entries``; so the bound holds
with any number of workers writing at once. A read is one round trip: MGET of the entries
plus ``ZADD XX`` that refreshes the index score of those still indexed.

The cache is an optimisation, never a dependency: any Redis error makes it answer "miss" and
skip writes for ``cooldown`` seconds, so a Redis outage slows translation down but never
fails a document.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from .settings import Settings

log = logging.getLogger("newsingest.tcache")

# KEYS[1]: the index; KEYS[2..]: entry keys. ARGV[1]: now, ARGV[2]: ttl seconds (0: none),
# ARGV[3]: max entries, ARGV[4..]: one value per entry key. Returns the number evicted.
# Evicted keys are read from the index, not declared in KEYS: fine on a single Redis or a
# replicated one, not on Redis Cluster (where the index and entries could sit apart anyway).
PUT_SCRIPT = """
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
for i = 2, #KEYS do
  if ttl > 0 then
    redis.call('SET', KEYS[i], ARGV[i + 2], 'EX', ttl)
  else
    redis.call('SET', KEYS[i], ARGV[i + 2])
  end
  redis.call('ZADD', KEYS[1], now, KEYS[i])
end
local over = redis.call('ZCARD', KEYS[1]) - max
local evicted = 0
while over > 0 do
  local batch = redis.call('ZPOPMIN', KEYS[1], math.min(over, 500))
  local keys = {}
  for j = 1, #batch, 2 do keys[#keys + 1] = batch[j] end
  if #keys == 0 then break end
  redis.call('DEL', unpack(keys))
  evicted = evicted + #keys
  over = over - #keys
end
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return evicted
"""

# Redis errors and the socket errors redis-py can let through.
_FAILURES = (redis.RedisError, OSError)
# Keys per MGET or script call: keeps each command's argument list (and Lua's stack) small.
_CHUNK = 500


@dataclass(frozen=True)
class CacheScope:
    """What a translation depends on besides the sentence: package, version, decoding."""

    package_id: str
    version: str
    variant: str


class TranslationCache:
    """Sentence -> translation, bounded to ``max_entries`` keys, shared through Redis."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        key_prefix: str,
        max_entries: int,
        ttl: int,
        max_chars: int = 4000,
        cooldown: float = 30.0,
    ) -> None:
        self.client = client
        self.namespace = f"{key_prefix}:tcache"
        self.max_entries = max(1, max_entries)
        self.ttl = max(0, ttl)
        # A run-on "sentence" of a whole page is unlikely to repeat; do not let it take room.
        self.max_chars = max_chars
        self.cooldown = cooldown
        self.errors = 0
        self._down_until = 0.0
        self._put = client.register_script(PUT_SCRIPT)

    @classmethod
    def from_settings(cls, client: redis.Redis, settings: Settings) -> TranslationCache:
        return cls(
            client,
            key_prefix=settings.key_prefix,
            max_entries=settings.translate_cache_max_entries,
            ttl=settings.translate_cache_ttl,
        )

    @property
    def index_key(self) -> str:
        return f"{self.namespace}:index"

    def key(self, scope: CacheScope, sentence: str) -> str:
        digest = hashlib.sha256(f"{scope.variant}\0{sentence}".encode()).hexdigest()[:32]
        return f"{self.namespace}:{scope.package_id}:{scope.version}:{digest}"

    def get_many(self, scope: CacheScope, sentences: Sequence[str]) -> dict[str, str]:
        """The cached translations among ``sentences``; {} when Redis is unavailable."""
        wanted = [s for s in dict.fromkeys(sentences) if len(s) <= self.max_chars]
        if not wanted or not self._available():
            return {}
        found: dict[str, str] = {}
        now = time.time()
        try:
            for start in range(0, len(wanted), _CHUNK):
                part = wanted[start : start + _CHUNK]
                keys = [self.key(scope, s) for s in part]
                pipe = self.client.pipeline(transaction=False)
                pipe.mget(keys)
                pipe.zadd(self.index_key, dict.fromkeys(keys, now), xx=True)
                values, _ = pipe.execute()
                for sentence, value in zip(part, values, strict=True):
                    if value is not None:
                        found[sentence] = _text(value)
        except _FAILURES as exc:
            self._failed("read", exc)
            return {}
        return found

    def put_many(self, scope: CacheScope, translations: Mapping[str, str]) -> None:
        """Store translations, evicting the least recently used beyond the bound."""
        items = [(s, t) for s, t in translations.items() if len(s) <= self.max_chars]
        if not items or not self._available():
            return
        now = time.time()
        try:
            for start in range(0, len(items), _CHUNK):
                part = items[start : start + _CHUNK]
                self._put(
                    keys=[self.index_key, *(self.key(scope, s) for s, _ in part)],
                    args=[now, self.ttl, self.max_entries, *(t for _, t in part)],
                )
        except _FAILURES as exc:
            self._failed("write", exc)

    def size(self) -> int:
        """Entries in the index (an upper bound on the entries stored)."""
        count: Any = self.client.zcard(self.index_key)
        return int(count)

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, what: str, exc: BaseException) -> None:
        self.errors += 1
        self._down_until = time.monotonic() + self.cooldown
        log.warning(
            "translation cache %s failed (%s: %s); translating without it for %.0f s",
            what,
            type(exc).__name__,
            exc,
            self.cooldown,
        )


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
