"""The two kinds of backfill work, as plain loops over a file and a checkpoint.

- :func:`run_scan` reads a whole file once (streamed), applies the prefilters, and sends
  the records it keeps in *ranges* of at most ``backfill_range_records`` (their offsets),
  committing its checkpoint and counts with each range, at least every second.
- :func:`run_range` ingests one range's records one by one through the pipeline (the
  caller's ``handle``), committing after each record.

Both stop when ``should_stop`` says so (live work is waiting, or the task's time is half
gone) and return ``paused``; the caller sends the same payload again and the next run goes
on from the checkpoint. Celery, the queues and the pipeline stay with the caller.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from ..errors import IngestError
from ..logs import current_stage
from ..normalise import canonical_url
from ..records import Source, WarcOrigin
from ._filters import Filters
from ._head import Broken, Head
from ._scan import scan
from ._state import JobState

log = logging.getLogger("newsingest.backfill")

SCAN_KIND = "warc_file"
RANGE_KIND = "warc_range"
# Checkpoint the scan at least this often (seconds), whether or not a range is full.
COMMIT_EVERY = 1.0

# What a dead letter of one record needs: the record's source, reason, message, stage.
DeadLetter = Callable[[Source, str, str, str], None]


def scan_payload(job: str, file: str) -> dict[str, Any]:
    return {"kind": SCAN_KIND, "job": job, "file": file}


def record_source(file: str, offset: int, url: str | None, record_id: str | None,
                  hint: str | None = None) -> Source:  # fmt: skip
    """The input one WARC record is: its canonical URL, and where it lies."""
    location = (canonical_url(url) or url) if url else None
    return Source("warc", location or f"{file}@{offset}", hint, WarcOrigin(file, offset, record_id))


def run_scan(
    state: JobState,
    payload: dict[str, Any],
    *,
    send_range: Callable[[dict[str, Any]], None],
    dead_letter: DeadLetter,
    should_stop: Callable[[], bool],
    range_records: int,
) -> str:
    """Scan the file from its checkpoint; ``done``, ``paused``, ``superseded`` (another run
    of the same scan is ahead) or ``gone`` (the job's state expired or was dropped)."""
    job, file = str(payload["job"]), str(payload["file"])
    progress = state.read(job)
    if progress is None:
        return "gone"
    if progress.planned or progress.finished:
        return "done"
    filters = Filters.from_dict(progress.filters)
    batch_start = progress.scan_offset
    ranges = progress.ranges
    counts: Counter[str] = Counter()
    kept: list[list[Any]] = []
    last_commit = time.monotonic()

    def commit(next_offset: int) -> bool:
        nonlocal ranges, batch_start, last_commit
        if kept:
            send_range(
                {"kind": RANGE_KIND, "job": job, "file": file, "range": ranges,
                 "records": list(kept), "language_hint": filters.language_hint}
            )  # fmt: skip
            ranges += 1
        if not state.commit_scan(job, batch_start, next_offset, ranges, dict(counts)):
            return False
        kept.clear()
        counts.clear()
        batch_start, last_commit = next_offset, time.monotonic()
        return True

    current_stage.set("scan")
    for item in scan(file, batch_start, prefix_bytes=filters.prefix_bytes):
        if counts and (
            len(kept) >= range_records or time.monotonic() - last_commit >= COMMIT_EVERY
        ):
            if not commit(item.offset):
                return "superseded"
            if should_stop():
                return "paused"
        counts["scanned"] += 1
        if isinstance(item, Broken):
            counts["dead"] += 1
            source = record_source(file, item.offset, None, None)
            dead_letter(source, item.reason, f"{file}@{item.offset}: {item.error}", "scan")
            continue
        reason = filters.drop_reason(item)
        if reason is not None:
            counts[f"dropped:{reason}"] += 1
            continue
        counts["kept"] += 1
        kept.append(_record(item))
    size = progress.size
    if (counts or batch_start < size) and not commit(size):
        return "superseded"
    state.end_scan(job, size, size)
    return "done"


def _record(head: Head) -> list[Any]:
    return [head.offset, head.url, head.record_id]


def run_range(
    state: JobState,
    payload: dict[str, Any],
    *,
    handle: Callable[[Source], Any],
    dead_letter: DeadLetter,
    should_stop: Callable[[], bool],
    fatal: tuple[type[BaseException], ...] = (),
    timeouts: tuple[type[BaseException], ...] = (),
    max_tries: int = 2,
) -> str:
    """Ingest the range's records from its checkpoint; ``done``, ``paused``,
    ``superseded`` or ``gone``.

    A record that fails is a dead letter and the range goes on; ``fatal`` exceptions (Redis
    away) propagate, and the next run resumes at the same record. A record whose runs died
    ``max_tries`` times (it kills its worker) is dead-lettered as ``worker_lost``; a record
    that ran out of time (``timeouts``) as ``time_limit``, and the range pauses.
    """
    job, number = str(payload["job"]), int(payload["range"])
    file, hint = str(payload["file"]), payload.get("language_hint")
    records: list[list[Any]] = list(payload["records"])
    position = state.range_position(job, number)
    if position is None:
        return "done"
    if state.read(job) is None:
        return "gone"
    while position < len(records):
        if should_stop():
            return "paused"
        offset, url, record_id = records[position]
        source = record_source(file, int(offset), url, record_id, hint)
        tries = state.tries(job, number, position)
        pause = False
        counts = {"ingested": 1}
        try:
            if tries > max_tries:
                raise IngestError(
                    f"the worker process ingesting this record died {tries - 1} times; "
                    "not tried again (out of memory is the usual cause)",
                    reason="worker_lost",
                )
            current_stage.set(None)
            handle(source)
        except fatal:
            raise
        except timeouts:
            counts, pause = {"dead": 1}, True
            dead_letter(source, "time_limit", f"{source.location}: ran out of time", _stage())
        except IngestError as exc:
            counts = {"dead": 1}
            dead_letter(source, exc.reason, exc.message, _stage())
        except MemoryError as exc:
            counts = {"dead": 1}
            dead_letter(source, "memory_limit", f"needed more memory than allowed: {exc!r}",
                        _stage())  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - a bug on one record must not stop the file
            log.exception("unexpected error on %s", source.location)
            counts = {"dead": 1}
            dead_letter(source, "internal_error", f"{type(exc).__name__}: {exc}", _stage())
        if not state.commit_record(job, number, position, counts):
            return "superseded"
        position += 1
        if pause and position < len(records):
            return "paused"
    state.end_range(job, number)
    return "done"


def _stage() -> str:
    return current_stage.get() or "ingest"
