"""One scheduled poll of a registered source, and what it does to the source's health.

A poll that fails is not retried by the task queue: the source's next poll is the retry,
after ``interval x 2^(failures - 1)`` seconds (at most ``source_backoff_max``, at least the
server's Retry-After). The first failure of an episode (failures in a row) writes one
dead-letter record; the ones after it only count. After ``source_pause_after`` failures in
a row the source is paused with the reason, until `newsingest sources resume`. A poll put
off because its host asked us to wait (``host_backoff``, ``host_busy``) is no failure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from ..errors import IngestError, TransientFetchError
from ..fetch import Source
from ..politeness import Politeness
from ..store import Store
from ._config import SourceConfig
from ._poll import PollResult, poll
from ._registry import Registry

log = logging.getLogger("newsingest.sources")

DEFERRALS = frozenset({"host_backoff", "host_busy"})


def backoff(config: SourceConfig, failures: int, ceiling: float) -> float:
    """Seconds until the next poll of a source that failed ``failures`` times in a row."""
    if failures <= 0:
        return config.interval
    return float(min(config.interval * 2 ** min(failures - 1, 30), max(ceiling, config.interval)))


def poll_registered(
    name: str,
    registry: Registry,
    store: Store,
    *,
    client: httpx.Client | None = None,
    politeness: Politeness | None = None,
    enqueue: Callable[[Source], object] | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """Poll the registered source ``name`` once and record the outcome; returns it."""
    config = registry.get(name)
    if config is None:
        return {"status": "unknown", "source": name}
    if registry.paused(name):
        return {"status": "paused", "source": name}
    at = time.time() if now is None else now
    started = time.perf_counter()
    try:
        result = poll(
            config,
            registry.client,
            registry.settings,
            client=client,
            politeness=politeness,
            enqueue=enqueue,
            attempts=1,
            now=at,
        )
    except TransientFetchError as exc:
        if exc.reason in DEFERRALS:
            registry.reschedule(name, at + max(1.0, exc.retry_after or 0.0))
            return {"status": "deferred", "source": name, "reason": exc.reason}
        return failed(config, registry, store, exc, at, time.perf_counter() - started)
    except IngestError as exc:
        return failed(config, registry, store, exc, at, time.perf_counter() - started)
    succeeded(config, registry, result, at, time.perf_counter() - started)
    if result.moved_to:
        registry.move(name, result.moved_to)
        log.info("source %s moved permanently to %s", name, result.moved_to)
    return {"status": "polled", **result.as_dict()}


def succeeded(
    config: SourceConfig, registry: Registry, result: PollResult, at: float, seconds: float
) -> None:
    key = registry.health_key(config.name)
    pipe = registry.client.pipeline(transaction=True)
    pipe.hset(
        key,
        mapping={
            "last_poll": at,
            "last_success": at,
            "poll_seconds_last": round(seconds, 4),
            "consecutive_failures": 0,
        },
    )
    pipe.hdel(key, "failing_since")
    counts = {
        "polls": 1,
        "unchanged": int(result.unchanged),
        "entries": result.entries,
        "new": len(result.new),
        "updated": result.updated,
        "skipped": sum(result.skipped.values()),
    }
    counts.update({f"skipped:{rule}": n for rule, n in result.skipped.items()})
    for field, value in counts.items():
        if value:
            pipe.hincrby(key, field, value)
    pipe.hincrbyfloat(key, "poll_seconds", seconds)
    pipe.execute()
    registry.reschedule(config.name, at + config.interval)


def failed(
    config: SourceConfig,
    registry: Registry,
    store: Store,
    exc: IngestError,
    at: float,
    seconds: float,
) -> dict[str, Any]:
    settings = registry.settings
    key = registry.health_key(config.name)
    pipe = registry.client.pipeline(transaction=True)
    pipe.hincrby(key, "consecutive_failures", 1)
    pipe.hincrby(key, "polls", 1)
    pipe.hincrby(key, "failures", 1)
    pipe.hincrbyfloat(key, "poll_seconds", seconds)
    pipe.hset(
        key,
        mapping={
            "last_poll": at,
            "last_error_at": at,
            "last_error": exc.message[:1000],
            "last_reason": exc.reason,
            "poll_seconds_last": round(seconds, 4),
        },
    )
    failures = int(pipe.execute()[0])
    out: dict[str, Any] = {
        "status": "failed",
        "source": config.name,
        "reason": exc.reason,
        "consecutive_failures": failures,
        "dead_letter": False,
        "paused": False,
    }
    if failures == 1:  # a new episode: its one dead letter
        registry.client.hset(key, "failing_since", str(at))
        registry.count(config.name, dead_letters=1)
        store.dead_letter(
            input={"kind": "feed", "name": config.name, "url": config.url},
            reason=exc.reason,
            error=f"source {config.name!r} failed: {exc.message} (later failures in a row "
            "are counted in `newsingest sources show`, not dead-lettered again)",
            stage="poll",
            attempts=1,
            task_id=f"source:{config.name}:{at:.3f}",
        )
        out["dead_letter"] = True
    log.warning(
        "source %s failed (%d in a row): %s",
        config.name,
        failures,
        exc.reason,
        extra={"url": config.url, "stage": "poll"},
    )
    limit = settings.source_pause_after
    if limit and failures >= limit:
        registry.pause(
            config.name, f"{failures} failed polls in a row; last: {exc.reason}: {exc.message}", at
        )
        log.warning("source %s paused after %d failed polls in a row", config.name, failures)
        out["paused"] = True
        return out
    delay = backoff(config, failures, settings.source_backoff_max)
    if isinstance(exc, TransientFetchError) and exc.retry_after:
        delay = max(delay, exc.retry_after)
    registry.reschedule(config.name, at + delay)
    return out


def record_document(registry: Registry, doc: dict[str, Any]) -> None:
    """A document from a source's item was published: count it, and whether extraction
    found its title, date and text (a site that changed its layout shows here first)."""
    feed = (doc.get("source") or {}).get("feed")
    if not isinstance(feed, dict) or not feed.get("name"):
        return
    registry.count(
        str(feed["name"]),
        documents=1,
        docs_no_title=int(not doc.get("title")),
        docs_no_date=int(not doc.get("published_at")),
        docs_empty_text=int(not str(doc.get("text") or "").strip()),
    )
