"""Reading documents from the stream with a consumer group: blocking reads, explicit ack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import redis

from .store import _text


@dataclass(frozen=True)
class Entry:
    stream_id: str
    doc_id: str
    version: int
    document: dict[str, Any]


class Consumer:
    """One consumer in one group on the documents stream."""

    def __init__(
        self, client: redis.Redis, stream: str, group: str, consumer: str, start: str = "0"
    ) -> None:
        self.client = client
        self.stream = stream
        self.group = group
        self.consumer = consumer
        try:
            client.xgroup_create(stream, group, id=start, mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def read(self, count: int = 10, block_ms: int | None = 1000) -> list[Entry]:
        """New entries for this consumer; they stay pending until acked."""
        reply = self.client.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=count, block=block_ms
        )
        out: list[Entry] = []
        for _stream, messages in reply or []:
            for sid, fields in messages:
                data = {_text(k): _text(v) for k, v in fields.items()}
                out.append(
                    Entry(_text(sid), data["id"], int(data["version"]), json.loads(data["doc"]))
                )
        return out

    def ack(self, *stream_ids: str) -> int:
        if not stream_ids:
            return 0
        return int(self.client.xack(self.stream, self.group, *stream_ids))

    def iterate(self, limit: int | None = None, block_ms: int = 1000, idle_exit_ms: int | None = None
                ) -> Iterator[Entry]:
        """Yield entries until ``limit`` is reached or nothing came for ``idle_exit_ms``."""
        seen = 0
        waited = 0
        while limit is None or seen < limit:
            want = 10 if limit is None else min(10, limit - seen)
            batch = self.read(count=want, block_ms=block_ms)
            if not batch:
                waited += block_ms
                if idle_exit_ms is not None and waited >= idle_exit_ms:
                    return
                continue
            waited = 0
            for entry in batch:
                seen += 1
                yield entry
