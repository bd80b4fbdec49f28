"""The progress of each backfill, checkpointed in Redis, so that a killed worker loses
nothing and the same file again adds nothing.

One backfill (a *job*) is one file under one set of filters; its id hashes the file's
identity (size, first and last 64 KiB: the same bytes under another path or mount are the
same file) with the filters. Its hash ``<prefix>:backfill:<job>`` holds:

- the scan's checkpoint ``scan_offset`` (the next record to read), the ranges it has sent
  (``ranges``) and its counts: ``scanned``, ``kept``, ``dropped:<reason>``, ``dead``;
- each running range's checkpoint ``r:<n>`` (the index of its next record), and
  ``ranges_done``, ``ingested``, ``dead``;
- ``status`` (scanning, ingesting, done, failed), ``planned`` (1 once the scan reached the
  end), times, the file and the filters.

Every checkpoint moves with its counts in one Lua script, and only from the position its
caller started at (compare and set): a task that runs twice (redelivered after a kill,
re-sent by the outbox) neither counts twice nor moves a checkpoint back. A finished job's
keys expire after ``dedupe_retention_days``, like the documents' own dedupe state.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, cast

import redis

from ..records import utc_now
from ..settings import Settings
from ._filters import Filters

_EDGE = 64 * 1024

SCANNING, INGESTING, DONE, FAILED = "scanning", "ingesting", "done", "failed"

# KEYS: job hash. ARGV: file, size, format, filters, now, index key, job, epoch seconds.
# 1 if created.
CREATE_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'file', ARGV[1], 'size', ARGV[2], 'format', ARGV[3],
  'filters', ARGV[4], 'created_at', ARGV[5], 'updated_at', ARGV[5], 'status', 'scanning',
  'scan_offset', '0', 'ranges', '0', 'ranges_done', '0', 'planned', '0')
redis.call('ZADD', ARGV[6], ARGV[8], ARGV[7])
return 1
"""

# KEYS: job hash. ARGV: expected scan_offset, new scan_offset, ranges sent so far (total),
# now, then counter name/increment pairs. 1 if applied, 0 if another run is ahead.
SCAN_SCRIPT = """
local at = redis.call('HGET', KEYS[1], 'scan_offset')
if at == false or at ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'scan_offset', ARGV[2], 'ranges', ARGV[3], 'updated_at', ARGV[4])
for i = 5, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""

# KEYS: job hash, done set. ARGV: expected scan_offset, file size, now, ttl seconds.
SCAN_END_SCRIPT = """
local at = redis.call('HGET', KEYS[1], 'scan_offset')
if at == false or at ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'scan_offset', ARGV[2], 'planned', '1', 'updated_at', ARGV[3])
local ranges = tonumber(redis.call('HGET', KEYS[1], 'ranges') or '0')
local done = tonumber(redis.call('HGET', KEYS[1], 'ranges_done') or '0')
if done >= ranges then
  redis.call('HSET', KEYS[1], 'status', 'done', 'finished_at', ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  redis.call('EXPIRE', KEYS[2], ARGV[4])
else
  redis.call('HSET', KEYS[1], 'status', 'ingesting')
end
return 1
"""

# KEYS: job hash. ARGV: range field, expected index, new index, now, then counter pairs.
RECORD_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local at = redis.call('HGET', KEYS[1], ARGV[1]) or '0'
if at ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3], 'updated_at', ARGV[4])
redis.call('HDEL', KEYS[1], 't:' .. ARGV[1] .. ':' .. ARGV[2])
for i = 5, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""

# KEYS: job hash, done set. ARGV: range number, now, ttl seconds. 1 if this run finished it.
RANGE_END_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[1], 'r:' .. ARGV[1])
local done = redis.call('HINCRBY', KEYS[1], 'ranges_done', 1)
redis.call('HSET', KEYS[1], 'updated_at', ARGV[2])
local ranges = tonumber(redis.call('HGET', KEYS[1], 'ranges') or '0')
if redis.call('HGET', KEYS[1], 'planned') == '1' and done >= ranges then
  redis.call('HSET', KEYS[1], 'status', 'done', 'finished_at', ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
return 1
"""


def file_identity(path: str) -> str:
    """What makes two paths the same file: its size and its first and last 64 KiB."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        digest.update(str(size).encode())
        digest.update(fh.read(_EDGE))
        if size > _EDGE:
            fh.seek(max(_EDGE, size - _EDGE))
            digest.update(fh.read(_EDGE))
    return digest.hexdigest()


def job_id(identity: str, filters: Filters) -> str:
    """One backfill: the file under these filters (another --lang is another job)."""
    spec = json.dumps(filters.as_dict(), sort_keys=True)
    return hashlib.sha256(f"{identity}\0{spec}".encode()).hexdigest()[:24]


@dataclass
class Progress:
    """A job's hash, read back."""

    job: str
    file: str
    size: int
    status: str
    scan_offset: int
    scanned: int
    kept: int
    ingested: int
    dead: int
    ranges: int
    ranges_done: int
    planned: bool
    created_at: str
    updated_at: str
    finished_at: str | None
    filters: dict[str, Any]
    dropped: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "file": self.file,
            "size": self.size,
            "status": self.status,
            "scanned_bytes": self.scan_offset,
            "scanned": self.scanned,
            "kept": self.kept,
            "ingested": self.ingested,
            "dead": self.dead,
            "dropped": dict(sorted(self.dropped.items())),
            "ranges": self.ranges,
            "ranges_done": self.ranges_done,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "finished_at": self.finished_at,
            "filters": self.filters,
            **({"error": self.error} if self.error else {}),
        }


class JobState:
    """Reads and moves the checkpoints of backfill jobs."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.prefix = f"{settings.key_prefix}:backfill"
        self._create = client.register_script(CREATE_SCRIPT)
        self._scan = client.register_script(SCAN_SCRIPT)
        self._scan_end = client.register_script(SCAN_END_SCRIPT)
        self._record = client.register_script(RECORD_SCRIPT)
        self._range_end = client.register_script(RANGE_END_SCRIPT)

    @property
    def index_key(self) -> str:
        return f"{self.settings.key_prefix}:backfills"

    def key(self, job: str) -> str:
        return f"{self.prefix}:{job}"

    def done_key(self, job: str) -> str:
        return f"{self.prefix}:{job}:done"

    @property
    def ttl(self) -> int:
        return max(1, round(self.settings.dedupe_retention_days * 86400))

    def create(self, job: str, file: str, size: int, fmt: str, filters: Filters) -> bool:
        """Start a job; False when it exists (running or done): nothing more to send."""
        spec = json.dumps(filters.as_dict(), sort_keys=True)
        args: list[str | int | float] = [file, size, fmt, spec, utc_now(), self.index_key, job]
        args.append(time.time())
        return bool(self._create(keys=[self.key(job)], args=args))

    def read(self, job: str) -> Progress | None:
        raw = cast(dict[bytes, bytes], self.client.hgetall(self.key(job)))
        if not raw:
            return None
        data = {k.decode(): v.decode() for k, v in raw.items()}

        def num(name: str) -> int:
            return int(data.get(name) or 0)

        return Progress(
            job=job,
            file=data.get("file", ""),
            size=num("size"),
            status=data.get("status", SCANNING),
            scan_offset=num("scan_offset"),
            scanned=num("scanned"),
            kept=num("kept"),
            ingested=num("ingested"),
            dead=num("dead"),
            ranges=num("ranges"),
            ranges_done=num("ranges_done"),
            planned=data.get("planned") == "1",
            created_at=data.get("created_at", ""),
            updated_at=data.get("updated_at", ""),
            finished_at=data.get("finished_at"),
            filters=json.loads(data.get("filters") or "{}"),
            dropped={
                k.split(":", 1)[1]: int(v) for k, v in data.items() if k.startswith("dropped:")
            },
            error=data.get("error"),
        )

    def jobs(self, limit: int = 1000) -> list[Progress]:
        """Every job still held, oldest first; ids whose hash expired leave the index."""
        ids = [j.decode() for j in cast(list[bytes], self.client.zrange(self.index_key, 0, -1))]
        out: list[Progress] = []
        gone: list[str] = []
        for job in ids:
            progress = self.read(job)
            if progress is None:
                gone.append(job)
            elif len(out) < limit:
                out.append(progress)
        if gone:
            self.client.zrem(self.index_key, *gone)
        return out

    def commit_scan(
        self, job: str, expected: int, offset: int, ranges: int, counts: dict[str, int]
    ) -> bool:
        """Move the scan's checkpoint from ``expected`` to ``offset`` with its counts."""
        args: list[str | int | float] = [expected, offset, ranges, utc_now()]
        for name, n in counts.items():
            if n:
                args += [name, n]
        return bool(self._scan(keys=[self.key(job)], args=args))

    def end_scan(self, job: str, expected: int, size: int) -> bool:
        keys = [self.key(job), self.done_key(job)]
        return bool(self._scan_end(keys=keys, args=[expected, size, utc_now(), self.ttl]))

    def range_position(self, job: str, number: int) -> int | None:
        """The index of the range's next record; None when the range is done."""
        if self.client.sismember(self.done_key(job), str(number)):
            return None
        raw = self.client.hget(self.key(job), f"r:{number}")
        return int(cast(bytes, raw)) if raw else 0

    def commit_record(self, job: str, number: int, expected: int, counts: dict[str, int]) -> bool:
        """Move range ``number`` past one record (index ``expected``) with its counts."""
        args: list[str | int | float] = [f"r:{number}", expected, expected + 1, utc_now()]
        for name, n in counts.items():
            args += [name, n]
        return bool(self._record(keys=[self.key(job)], args=args))

    def tries(self, job: str, number: int, index: int) -> int:
        """Count one more start of the range's record ``index``; a count above one means
        that runs before this one died in that record (a poison record)."""
        return int(cast(int, self.client.hincrby(self.key(job), f"t:r:{number}:{index}", 1)))

    def end_range(self, job: str, number: int) -> bool:
        keys = [self.key(job), self.done_key(job)]
        return bool(self._range_end(keys=keys, args=[number, utc_now(), self.ttl]))

    def fail(self, job: str, error: str) -> None:
        """The job cannot go on (its file is gone or is no WARC): say so, keep the counts."""
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(
            self.key(job),
            mapping={
                "status": FAILED,
                "error": error[:500],
                "finished_at": utc_now(),
                "updated_at": utc_now(),
            },
        )
        pipe.expire(self.key(job), self.ttl)
        pipe.expire(self.done_key(job), self.ttl)
        pipe.execute()

    def forget(self, job: str) -> None:
        """Drop a job's state (``backfill --again``): the file is scanned from the start."""
        self.client.delete(self.key(job), self.done_key(job))
        self.client.zrem(self.index_key, job)
