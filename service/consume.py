"""Reading documents from the stream with a consumer group.

Semantics for consumers (docs/stream.md): blocking reads, explicit ack, at-least-once. An
entry read but not acked stays pending; after ``reclaim_idle_ms`` another consumer of the
group takes it over (XAUTOCLAIM). An entry delivered ``max_deliveries`` times without an ack
is a poison entry: it moves to ``<prefix>:documents:dead`` with the reason and its delivery
count, and is acked so that it stops blocking the group.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
import redis

from ._redis import text as _text
from .records import utc_now
from .settings import Settings


@dataclass(frozen=True)
class Entry:
    stream_id: str
    doc_id: str
    version: int
    document: dict[str, Any]
    deliveries: int = 1


def stream_id_for(value: str) -> str:
    """A stream id from an id (``1700000000000-0``), ``$``/``0``, or an ISO-8601 time."""
    if value in {"$", "0", "0-0"} or value.replace("-", "").isdigit():
        return value if "-" in value or value in {"$", "0"} else f"{value}-0"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a stream id or ISO-8601 time: {value!r}") from None
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return f"{int(moment.timestamp() * 1000)}-0"


class Consumer:
    """One consumer in one group on the documents stream."""

    def __init__(
        self,
        client: redis.Redis,
        stream: str,
        group: str,
        consumer: str,
        start: str = "0",
        *,
        dead_stream: str | None = None,
        max_deliveries: int = 5,
        reclaim_idle_ms: int = 60_000,
    ) -> None:
        self.client = client
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.dead_stream = dead_stream or f"{stream}:dead"
        self.max_deliveries = max_deliveries
        self.reclaim_idle_ms = reclaim_idle_ms
        self._reclaim_cursor = "0-0"
        # XAUTOCLAIM costs a round trip: once a scan of the pending list found nothing, the
        # next one waits half the idle time (at most a second) instead of running every read.
        self._reclaim_interval = min(reclaim_idle_ms / 2000, 1.0)
        self._next_reclaim = 0.0
        try:
            client.xgroup_create(stream, group, id=stream_id_for(start), mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def replay_from(self, start: str) -> None:
        """Move the group's position: entries after ``start`` (an id or a time) come again."""
        position = stream_id_for(start)
        if position not in {"$", "0"}:
            # XGROUP SETID delivers entries strictly after the id; step back one so that an
            # entry at exactly ``start`` is included.
            ms, seq = (int(part) for part in position.split("-"))
            position = f"{ms}-{seq - 1}" if seq > 0 else f"{ms - 1}-{2**64 - 1}"
        self.client.xgroup_setid(self.stream, self.group, id=position)

    def _entry(self, sid: Any, fields: dict[Any, Any], deliveries: int = 1) -> Entry | None:
        raw = {_text(k): v for k, v in fields.items()}
        try:
            # orjson reads the UTF-8 bytes as they come: no str copy of a large document.
            document = orjson.loads(raw["doc"])
            return Entry(_text(sid), _text(raw["id"]), int(raw["version"]), document, deliveries)
        except (KeyError, ValueError) as exc:  # orjson.JSONDecodeError is a ValueError
            data = {k: _text(v) for k, v in raw.items()}
            self._bury(_text(sid), data, f"undecodable entry: {exc}", deliveries)
            return None

    def _bury(self, sid: str, fields: dict[str, str], reason: str, deliveries: int) -> None:
        pipe = self.client.pipeline(transaction=True)
        record: dict[Any, Any] = dict(fields)
        pipe.xadd(
            self.dead_stream,
            {
                **record,
                "reason": reason,
                "deliveries": str(deliveries),
                "group": self.group,
                "consumer": self.consumer,
                "source_id": sid,
                "at": utc_now(),
            },
        )
        pipe.xack(self.stream, self.group, sid)
        pipe.execute()

    def reclaim(self, count: int = 10) -> list[Entry]:
        """Take over entries other consumers left pending too long; bury poison entries."""
        now = time.monotonic()
        if self._reclaim_cursor == "0-0" and now < self._next_reclaim:
            return []
        reply = cast(
            list[Any],
            self.client.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                min_idle_time=self.reclaim_idle_ms,
                start_id=self._reclaim_cursor,
                count=count,
            ),
        )
        self._reclaim_cursor = _text(reply[0])
        claimed = [(sid, fields) for sid, fields in reply[1] if fields is not None]
        if not claimed:
            self._next_reclaim = now + self._reclaim_interval
            return []
        counts = self._delivery_counts([_text(sid) for sid, _ in claimed])
        out: list[Entry] = []
        for sid, fields in claimed:
            deliveries = counts.get(_text(sid), 1)
            if deliveries > self.max_deliveries:
                data = {_text(k): _text(v) for k, v in fields.items()}
                self._bury(
                    _text(sid), data, f"not acked after {deliveries - 1} deliveries", deliveries - 1
                )
                continue
            entry = self._entry(sid, fields, deliveries)
            if entry is not None:
                out.append(entry)
        return out

    def _delivery_counts(self, ids: list[str]) -> dict[str, int]:
        pipe = self.client.pipeline(transaction=False)
        for sid in ids:
            pipe.xpending_range(self.stream, self.group, min=sid, max=sid, count=1)
        out: dict[str, int] = {}
        for rows in pipe.execute():
            for row in rows:
                out[_text(row["message_id"])] = int(row["times_delivered"])
        return out

    def read(self, count: int = 10, block_ms: int | None = 1000) -> list[Entry]:
        """Reclaimed stale entries first, else new ones; all stay pending until acked."""
        reclaimed = self.reclaim(count)
        if reclaimed:
            return reclaimed
        reply = cast(
            list[Any] | None,
            self.client.xreadgroup(
                self.group, self.consumer, {self.stream: ">"}, count=count, block=block_ms
            ),
        )
        out: list[Entry] = []
        for _stream, messages in reply or []:
            for sid, fields in messages:
                entry = self._entry(sid, fields)
                if entry is not None:
                    out.append(entry)
        return out

    def ack(self, *stream_ids: str) -> int:
        if not stream_ids:
            return 0
        return int(cast(int, self.client.xack(self.stream, self.group, *stream_ids)))

    def iterate(
        self, limit: int | None = None, block_ms: int = 1000, idle_exit_ms: int | None = None
    ) -> Iterator[Entry]:
        """Yield entries until ``limit`` is reached or nothing came for ``idle_exit_ms``."""
        seen = 0
        idle_since = time.monotonic()
        while limit is None or seen < limit:
            want = 10 if limit is None else min(10, limit - seen)
            batch = self.read(count=want, block_ms=block_ms)
            if not batch:
                idle = (time.monotonic() - idle_since) * 1000
                if idle_exit_ms is not None and idle >= idle_exit_ms:
                    return
                continue
            idle_since = time.monotonic()
            for entry in batch:
                seen += 1
                yield entry


def stream_stats(
    client: redis.Redis, stream: str, dead_streams: dict[str, str], cap: int, lag_warn: int
) -> dict[str, Any]:
    """Length, groups with lag and pending, dead-letter sizes, backpressure warnings."""
    length = int(cast(int, client.xlen(stream)))
    groups: list[dict[str, Any]] = []
    try:
        raw_groups = cast(list[dict[str, Any]], client.xinfo_groups(stream))
    except redis.ResponseError:
        raw_groups = []
    for group in raw_groups:
        name = _text(group["name"])
        last = _text(group["last-delivered-id"])
        lag = group.get("lag")
        if lag is None:
            # Redis < 7 has no lag field: count what lies after the last delivered id.
            after = client.xrange(stream, min=f"({last}", max="+", count=100_000)
            lag = len(cast(list[Any], after))
        groups.append(
            {
                "name": name,
                "consumers": int(group["consumers"]),
                "pending": int(group["pending"]),
                "last_delivered_id": last,
                "lag": int(lag),
            }
        )
    dead = {name: int(cast(int, client.xlen(key))) for name, key in dead_streams.items()}
    warnings = []
    at_cap = cap > 0 and length >= cap
    for group in groups:
        if group["lag"] > lag_warn and at_cap:
            warnings.append(
                f"group {group['name']} lags {group['lag']} entries and the stream is at its cap "
                f"({cap}): entries may be trimmed before it reads them"
            )
    return {
        "stream": stream,
        "length": length,
        "cap": cap,
        "groups": groups,
        "dead": dead,
        "backpressure": warnings,
    }


def stream_stats_for(client: redis.Redis, settings: Settings) -> dict[str, Any]:
    """stream_stats for the configured documents stream and both dead-letter streams."""
    return stream_stats(
        client,
        settings.documents_stream,
        {"ingest": settings.dead_stream, "documents": settings.documents_dead_stream},
        settings.stream_maxlen,
        settings.backpressure_lag,
    )
