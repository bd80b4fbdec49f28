"""Metrics kept in Redis by every worker process, exported by one process.

Workers run as prefork children on several machines; per-process HTTP endpoints would need
Prometheus' multiprocess mode and a scrape target per child. Instead each task adds its
counts and latency buckets to a few Redis hashes (one pipelined round trip), and a single
exporter (`newsingest exporter`) reads Redis on every scrape and serves ``/metrics``: the
same numbers `newsingest stats` prints. Queue depths, stream length, lag and dead-letter sizes
are read from Redis directly, so they are right even when no worker runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, cast

import redis

from ._redis import text as _text

# Latency buckets in seconds: fetch/extract are milliseconds, translation is seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class Recorder:
    """Adds observations to ``<prefix>:metrics:*``; failures never break the caller."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.key = f"{prefix}:metrics"

    def observe(self, stage: str, seconds: float, error: str | None = None) -> None:
        bucket = next((str(b) for b in BUCKETS if seconds <= b), "+Inf")
        pipe = self.client.pipeline(transaction=False)
        pipe.hincrby(f"{self.key}:count", stage, 1)
        pipe.hincrbyfloat(f"{self.key}:seconds", stage, seconds)
        pipe.hincrby(f"{self.key}:hist:{stage}", bucket, 1)
        if error:
            pipe.hincrby(f"{self.key}:errors", f"{stage}|{error}", 1)
        with suppress(redis.RedisError):
            pipe.execute()

    def translated(self, chars: int, seconds: float) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.hincrby(f"{self.key}:translate", "chars", chars)
        pipe.hincrbyfloat(f"{self.key}:translate", "seconds", seconds)
        with suppress(redis.RedisError):
            pipe.execute()

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except Exception as exc:
            reason = getattr(exc, "reason", type(exc).__name__)
            self.observe(stage, time.perf_counter() - started, str(reason))
            raise
        self.observe(stage, time.perf_counter() - started)


def read_metrics(client: redis.Redis, prefix: str) -> dict[str, Any]:
    """Everything the workers recorded, as plain data."""
    key = f"{prefix}:metrics"
    counts = {
        _text(k): int(v) for k, v in cast(dict[Any, Any], client.hgetall(f"{key}:count")).items()
    }
    seconds = {
        _text(k): float(v)
        for k, v in cast(dict[Any, Any], client.hgetall(f"{key}:seconds")).items()
    }
    errors: dict[tuple[str, str], int] = {}
    for field, value in cast(dict[Any, Any], client.hgetall(f"{key}:errors")).items():
        stage, _, reason = _text(field).partition("|")
        errors[(stage, reason)] = int(value)
    hists: dict[str, dict[str, int]] = {}
    for stage in counts:
        raw = cast(dict[Any, Any], client.hgetall(f"{key}:hist:{stage}"))
        hists[stage] = {_text(k): int(v) for k, v in raw.items()}
    translate = {
        _text(k): float(v)
        for k, v in cast(dict[Any, Any], client.hgetall(f"{key}:translate")).items()
    }
    return {"counts": counts, "seconds": seconds, "errors": errors, "histograms": hists,
            "translate": translate}  # fmt: skip


def queue_depths(client: redis.Redis, prefix: str, queues: tuple[str, ...]) -> dict[str, int]:
    """Messages waiting in each Celery queue (kombu keeps a Redis list per queue)."""
    return {q: int(cast(int, client.llen(f"{prefix}:celery:{q}"))) for q in queues}


class RedisCollector:
    """A prometheus_client collector that reads Redis on every scrape."""

    def __init__(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        snap = self.snapshot()
        m = snap["metrics"]
        done = CounterMetricFamily("newsingest_stage", "Stage runs", labels=["stage"])
        for stage, n in m["counts"].items():
            done.add_metric([stage], n)
        yield done
        errors = CounterMetricFamily(
            "newsingest_stage_errors", "Stage errors by reason", labels=["stage", "reason"]
        )
        for (stage, reason), n in m["errors"].items():
            errors.add_metric([stage, reason], n)
        yield errors
        hist = HistogramMetricFamily("newsingest_stage_seconds", "Stage latency", labels=["stage"])
        for stage, buckets in m["histograms"].items():
            cumulative, rows = 0, []
            for bound in [str(b) for b in BUCKETS] + ["+Inf"]:
                cumulative += buckets.get(bound, 0)
                rows.append((bound, cumulative))
            hist.add_metric([stage], rows, m["seconds"].get(stage, 0.0))
        yield hist
        chars = m["translate"].get("chars", 0.0)
        secs = m["translate"].get("seconds", 0.0)
        yield CounterMetricFamily(
            "newsingest_translated_chars", "Source characters translated", value=chars
        )
        yield GaugeMetricFamily(
            "newsingest_translate_chars_per_second",
            "Source characters per second of translation time, since the counters started",
            value=chars / secs if secs else 0.0,
        )
        depth = GaugeMetricFamily("newsingest_queue_depth", "Tasks waiting", labels=["queue"])
        for queue, n in snap["queues"].items():
            depth.add_metric([queue], n)
        yield depth
        stream = snap["stream"]
        yield GaugeMetricFamily("newsingest_stream_length", "Documents stream length",
                                value=stream["length"])  # fmt: skip
        lag = GaugeMetricFamily("newsingest_group_lag", "Entries not yet delivered",
                                labels=["group"])  # fmt: skip
        pending = GaugeMetricFamily("newsingest_group_pending", "Delivered, not acked",
                                    labels=["group"])  # fmt: skip
        for group in stream["groups"]:
            lag.add_metric([group["name"]], group["lag"])
            pending.add_metric([group["name"]], group["pending"])
        yield lag
        yield pending
        dead = GaugeMetricFamily("newsingest_dead_letters", "Dead-letter entries",
                                 labels=["stream"])  # fmt: skip
        for name, n in stream["dead"].items():
            dead.add_metric([name], n)
        yield dead
        yield GaugeMetricFamily("newsingest_backpressure", "1 when a group risks losing entries",
                                value=1.0 if stream["backpressure"] else 0.0)  # fmt: skip
        yield from _source_families(snap.get("sources") or [])


# Per-source counters of `newsingest sources show` (service/sources/_registry.py).
_SOURCE_COUNTERS = {
    "polls": "Polls of the source",
    "failures": "Failed polls of the source",
    "new": "New or updated items handed on",
    "skipped": "Items held back by the source's rules",
    "documents": "Documents published from the source's items",
    "docs_no_title": "Documents from the source without a title",
    "docs_no_date": "Documents from the source without a date",
    "docs_empty_text": "Documents from the source with empty text",
    "expired": "Polls that expired in the queue",
    "dead_letters": "Failure episodes (one dead letter each)",
}


def _source_families(sources: list[dict[str, Any]]) -> Iterator[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    for key, help_text in _SOURCE_COUNTERS.items():
        family = CounterMetricFamily(f"newsingest_source_{key}", help_text, labels=["source"])
        for source in sources:
            family.add_metric([source["name"]], source.get(key) or 0)
        yield family
    gauges = {
        "consecutive_failures": ("Failed polls in a row", "consecutive_failures"),
        "paused": ("1 when the source is paused", "paused"),
        "poll_seconds_mean": ("Mean seconds per poll", "poll_seconds_mean"),
        "last_success_timestamp": ("Unix time of the last good poll", "last_success_epoch"),
    }
    for name, (help_text, key) in gauges.items():
        gauge = GaugeMetricFamily(f"newsingest_source_{name}", help_text, labels=["source"])
        for source in sources:
            gauge.add_metric([source["name"]], float(source.get(key) or 0.0))
        yield gauge
