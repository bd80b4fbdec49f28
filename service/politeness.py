"""Being a good citizen towards each host, across every worker process at once.

Each rule lives in Redis so that it holds for the whole fleet, not per process, and each
change is one Lua script that Redis runs atomically (no read-modify-write in Python):

- **delay**: a host's next free start time is a key; a fetch *reserves* the next turn
  (``max(now, next)``) and pushes it forward by the delay, then sleeps until its turn. Times
  come from the Redis server's clock, so workers on different machines agree.
- **concurrency**: the requests in flight to a host are members of a sorted set scored by a
  lease expiry, so a worker that dies mid-fetch frees its slot when the lease runs out.
- **Retry-After**: a 429/503 keeps every worker off that origin (scheme, host, port: the
  server that said so) for the time it asked, clamped to ``fetch_retry_after_max``.
- **robots.txt**: fetched once per origin and cached in Redis with a TTL; a 4xx means no
  rules, a 5xx or network failure means "try later" (RFC 9309).

Waiting never holds a slot. A fetch under its origin's Retry-After is deferred at once
(TransientFetchError(reason="host_backoff", retry_after=...)); one whose turn is more than
``fetch_host_max_wait`` away is deferred too (reason="host_busy"); a shorter wait for the turn
is slept *before* an in-flight slot is taken. The task is retried later by the scheduler, so
a busy or throttling host pins neither a worker nor the host's other fetches.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import redis

from .errors import FetchError, TransientFetchError
from .settings import Settings

# robots.txt Crawl-delay is obeyed up to this many seconds; sites that ask for hours would
# otherwise turn every fetch into a retry loop.
MAX_CRAWL_DELAY = 60.0

# KEYS: next-start key, per-host delay override key. ARGV: delay ms, max wait ms.
# Returns {reserved (1/0), wait ms}.
RESERVE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local delay = tonumber(ARGV[1])
local override = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if override > delay then delay = override end
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local start = math.max(now, nxt)
local wait = start - now
if wait > tonumber(ARGV[2]) then return {0, wait} end
if delay > 0 then
  redis.call('SET', KEYS[1], start + delay, 'PX', wait + delay + 1000)
end
return {1, wait}
"""

# KEYS: an origin's back-off key. ARGV: ms from now before the origin may be asked again.
# The key's own expiry is the back-off, so it only ever grows, and ends by itself.
DEFER_SCRIPT = """
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then
  redis.call('SET', KEYS[1], '1', 'PX', ms)
end
return ms
"""

# KEYS: in-flight sorted set. ARGV: limit, lease ms, token.
# Returns -1 when acquired, else ms until the oldest lease runs out.
ACQUIRE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return -1
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(0, tonumber(first[2]) - now)
"""

RobotsFetch = Callable[[str], tuple[int, bytes]]


def host_of(url: str) -> str:
    """The politeness key of a URL: its host name, lower-cased (ports share a host)."""
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def origin_of(url: str) -> str:
    """robots.txt is per origin: scheme, host and port (RFC 9309)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


class Politeness:
    """Per-host delay, concurrency and robots.txt, shared through Redis."""

    def __init__(
        self,
        client: redis.Redis,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.prefix = settings.key_prefix
        self.delay = max(0.0, settings.fetch_host_delay)
        self.concurrency = settings.fetch_host_concurrency
        self.max_wait = settings.fetch_host_max_wait
        self.robots_ttl = settings.robots_ttl
        self.retry_after_max = max(1.0, float(settings.fetch_retry_after_max))
        # A slot outlives the longest fetch, so only a dead worker's slot ever expires.
        self.lease = settings.fetch_deadline + 30.0
        self._sleep = sleep
        self._reserve = client.register_script(RESERVE_SCRIPT)
        self._defer = client.register_script(DEFER_SCRIPT)
        self._acquire = client.register_script(ACQUIRE_SCRIPT)

    def _key(self, host: str, what: str) -> str:
        return f"{self.prefix}:host:{host}:{what}"

    # -- delay ------------------------------------------------------------------------------

    def reserve(
        self, host: str, *, extra_delay: float | None = None, max_wait: float | None = None
    ) -> float:
        """Reserve the host's next start slot; return seconds to wait for it (not slept).

        Raises TransientFetchError(reason="host_busy") without reserving when the wait
        would exceed ``max_wait``.
        """
        delay = max(self.delay, min(extra_delay or 0.0, MAX_CRAWL_DELAY))
        limit = self.max_wait if max_wait is None else max_wait
        reserved, wait_ms = cast(
            list[int],
            self._reserve(
                keys=[self._key(host, "next"), self._key(host, "delay")],
                args=[int(delay * 1000), int(limit * 1000)],
            ),
        )
        wait = int(wait_ms) / 1000.0
        if not int(reserved):
            raise TransientFetchError(
                f"{host} is asked at most once per {delay:g}s; the next turn is {wait:.1f}s "
                "away, over fetch_host_max_wait",
                reason="host_busy",
                retry_after=wait,
            )
        return wait

    def _backoff_key(self, url: str) -> str:
        return f"{self.prefix}:backoff:{origin_of(url)}"

    def defer(self, url: str, seconds: float) -> None:
        """Keep every worker off the URL's origin for ``seconds`` (its Retry-After), at most
        ``fetch_retry_after_max``."""
        if not seconds > 0:  # also NaN
            return
        ms = int(min(seconds, self.retry_after_max) * 1000)
        self._defer(keys=[self._backoff_key(url)], args=[max(1, ms)])

    def check_backoff(self, url: str) -> None:
        """Raise TransientFetchError(reason="host_backoff") while the URL's origin is under
        a Retry-After; nothing is reserved or held."""
        left_ms = int(cast(int, self.client.pttl(self._backoff_key(url))))
        if left_ms > 0:
            left = left_ms / 1000.0
            raise TransientFetchError(
                f"{origin_of(url)} asked us (Retry-After) to come back later; {left:.1f}s "
                "left, deferring",
                reason="host_backoff",
                retry_after=left,
            )

    def set_host_delay(self, host: str, seconds: float, *, ttl: int = 7 * 24 * 3600) -> None:
        """A per-host delay longer than the default (a source's ``host_delay``)."""
        self.client.set(self._key(host.lower(), "delay"), int(seconds * 1000), ex=ttl)

    # -- concurrency ------------------------------------------------------------------------

    def try_acquire(self, host: str) -> tuple[str | None, float]:
        """One attempt at an in-flight slot: (token, 0) or (None, seconds until a lease ends)."""
        token = uuid.uuid4().hex
        result = int(
            cast(
                int,
                self._acquire(
                    keys=[self._key(host, "active")],
                    args=[self.concurrency, int(self.lease * 1000), token],
                ),
            )
        )
        return (token, 0.0) if result < 0 else (None, result / 1000.0)

    def acquire(self, host: str, *, max_wait: float | None = None) -> str | None:
        """An in-flight slot at ``host``, waiting up to ``max_wait``; None when unlimited."""
        if self.concurrency <= 0:
            return None
        limit = self.max_wait if max_wait is None else max_wait
        give_up = time.monotonic() + limit
        pause = 0.02
        while True:
            token, lease_left = self.try_acquire(host)
            if token is not None:
                return token
            left = give_up - time.monotonic()
            if left <= 0:
                raise TransientFetchError(
                    f"{host} already has {self.concurrency} requests in flight "
                    "(fetch_host_concurrency)",
                    reason="host_busy",
                    retry_after=max(1.0, min(lease_left, self.max_wait)),
                )
            self._sleep(min(pause, left))
            pause = min(pause * 2, 0.25)

    def release(self, host: str, token: str | None) -> None:
        if token is not None:
            self.client.zrem(self._key(host, "active"), token)

    @contextmanager
    def slot(
        self, url: str, *, extra_delay: float | None = None, max_wait: float | None = None
    ) -> Iterator[None]:
        """Start no earlier than the host's turn, then hold one of its in-flight slots.

        Nothing is held while waiting: under the origin's Retry-After the fetch is deferred
        at once, and the turn is waited for (up to ``max_wait``) before a slot is taken.
        """
        host = host_of(url)
        limit = self.max_wait if max_wait is None else max_wait
        started = time.monotonic()
        self.check_backoff(url)
        wait = self.reserve(host, extra_delay=extra_delay, max_wait=limit)
        if wait > 0:
            self._sleep(wait)
            self.check_backoff(url)
        left = max(0.0, limit - (time.monotonic() - started))
        token = self.acquire(host, max_wait=left)
        try:
            yield
        finally:
            self.release(host, token)

    # -- robots.txt -------------------------------------------------------------------------

    def robots_txt(self, url: str, fetch: RobotsFetch) -> str:
        """The robots.txt that governs ``url``, from the Redis cache or fetched once."""
        origin = origin_of(url)
        key = f"{self.prefix}:robots:{origin}"
        cached = cast(bytes | None, self.client.get(key))
        if cached is not None:
            return cached.decode("utf-8", "replace")
        try:
            status, body = fetch(origin + "/robots.txt")
        except TransientFetchError as exc:
            if exc.retry_after:
                self.defer(url, exc.retry_after)
            raise TransientFetchError(
                f"robots.txt of {origin} is unavailable ({exc.message}); trying later",
                reason="robots_unavailable",
                retry_after=exc.retry_after,
            ) from exc
        if 200 <= status < 300:
            text = body.decode("utf-8", "replace")
        elif 400 <= status < 500:
            text = ""
        else:
            raise TransientFetchError(
                f"robots.txt of {origin} answered HTTP {status}; trying later",
                reason="robots_unavailable",
            )
        self.client.set(key, text.encode("utf-8"), ex=max(1, self.robots_ttl))
        return text

    def check_robots(self, url: str, user_agent: str, fetch: RobotsFetch) -> float | None:
        """Raise FetchError(reason="robots_disallowed") when robots.txt forbids ``url``;
        return the Crawl-delay that applies to us, if any."""
        text = self.robots_txt(url, fetch)
        if not text.strip():
            return None
        parser = RobotFileParser()
        parser.parse(text.splitlines())
        agent = user_agent.split("/", 1)[0].strip() or user_agent
        if not parser.can_fetch(agent, url):
            raise FetchError(
                f"robots.txt of {origin_of(url)} disallows {url} for {agent}",
                reason="robots_disallowed",
            )
        delay: Any = parser.crawl_delay(agent)
        return float(delay) if delay is not None else None
