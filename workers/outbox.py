"""The task outbox and the producer: the one way work enters the queues.

The Redis broker moves a message from the queue to its "unacked" record in two steps; a
worker killed between them loses the message without trace (kombu's Redis transport). So
every ingest and translate task is first recorded in ``<prefix>:outbox`` (task id -> name,
args, queue, time) and sent with that id; the outbox middleware removes the record when the
task reaches a final outcome (a document or a dead letter). Beat's heartbeat re-sends
records older than the broker's visibility timeout. A re-sent task may run twice;
publishing is idempotent, so that is safe.

A record cannot stay for ever: after ``task_max_deliveries`` re-sends without an outcome
(about (n + 1) visibility timeouts) the sweep dead-letters its input as ``outbox_gave_up``
and drops the record; an unreadable record is dropped with a warning.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, cast

import redis
from celery import Celery
from celery.utils import uuid

from service.settings import Settings
from service.store import Store

log = logging.getLogger("newsingest.workers")

INGEST_QUEUE = "ingest"
TRANSLATE_QUEUE = "translate"
BACKFILL_QUEUE = "backfill"
# Feed and sitemap polls: a queue of their own, served by every ingest worker (workers/app.py)
# alternately with ingest, so a poll never waits behind a backlog of articles.
POLL_QUEUE = "poll"
# Live work: what `health` requires a consumer for.
LIVE_QUEUES = (INGEST_QUEUE, TRANSLATE_QUEUE, POLL_QUEUE)
QUEUES = (*LIVE_QUEUES, BACKFILL_QUEUE)
INGEST_TASK = "newsingest.ingest"
TRANSLATE_TASK = "newsingest.translate"
POLL_TASK = "newsingest.poll_source"
HEARTBEAT_TASK = "newsingest.heartbeat"
BACKFILL_SCAN_TASK = "newsingest.backfill_scan"
BACKFILL_RANGE_TASK = "newsingest.backfill_range"
# The task that does each queue's work, and so the task a step's next queue names.
TASK_OF_QUEUE = {INGEST_QUEUE: INGEST_TASK, TRANSLATE_QUEUE: TRANSLATE_TASK}
OUTBOX_TASKS = frozenset({*TASK_OF_QUEUE.values(), BACKFILL_SCAN_TASK, BACKFILL_RANGE_TASK})
# Backfill goes after live work wherever both wait: the Redis transport keeps a list per
# priority step and pops lower numbers first (0, the default, is live work).
BACKFILL_PRIORITY = 9
# The task for each kind of backfill payload (what `dead replay` sends a dead letter to).
TASK_OF_KIND = {"warc_file": BACKFILL_SCAN_TASK, "warc_range": BACKFILL_RANGE_TASK}


def outbox_key(settings: Settings) -> str:
    return f"{settings.key_prefix}:outbox"


class Producer:
    """Hands inputs and articles to the queues, through the outbox."""

    def __init__(self, app: Celery, client: redis.Redis, settings: Settings) -> None:
        self.app = app
        self.client = client
        self.settings = settings

    def send(self, queue: str, payload: dict[str, Any], *, priority: int | None = None) -> str:
        """Record, then send the queue's task with ``payload``; returns the task id."""
        return self.send_task(TASK_OF_QUEUE[queue], queue, payload, priority=priority)

    def send_task(
        self, name: str, queue: str, payload: dict[str, Any], *, priority: int | None = None
    ) -> str:
        """Record, then send task ``name`` on ``queue``; ``priority`` 9 waits for live work."""
        task_id = str(uuid())
        record: dict[str, Any] = {"name": name, "args": [payload], "queue": queue}
        record["at"] = time.time()
        if priority is not None:
            record["priority"] = priority
        self.client.hset(outbox_key(self.settings), task_id, json.dumps(record, ensure_ascii=False))
        options = {} if priority is None else {"priority": priority}
        self.app.send_task(name, args=[payload], queue=queue, task_id=task_id, **options)
        return task_id

    def ingest(self, source: dict[str, Any]) -> str:
        return self.send(INGEST_QUEUE, source)

    def translate(self, article: dict[str, Any]) -> str:
        return self.send(TRANSLATE_QUEUE, article)

    def backfill(self, payload: dict[str, Any]) -> str:
        """A backfill scan or range (by the payload's kind), after any live work."""
        name = TASK_OF_KIND[str(payload["kind"])]
        return self.send_task(name, BACKFILL_QUEUE, payload, priority=BACKFILL_PRIORITY)

    def replay(self, payload: dict[str, Any]) -> str:
        """A dead letter's input, sent again to the task that takes it."""
        if payload.get("kind") in TASK_OF_KIND:
            return self.backfill(payload)
        if payload.get("kind") == "feed":
            return self.resume_source(str(payload.get("name")))
        return self.ingest(payload)

    def resume_source(self, name: str) -> str:
        """A source's failure episode, replayed: the source (paused or backing off) is
        polled again at once (service/sources/_registry.py); gone, nothing happens."""
        from service.sources import Registry

        registry = Registry(self.client, self.settings)
        if registry.get(name) is not None:
            registry.resume(name)
        return f"source:{name}"


def done(client: redis.Redis, settings: Settings, task_id: str | None) -> None:
    """The task reached its final outcome: forget it."""
    if task_id:
        client.hdel(outbox_key(settings), task_id)


def sweep(app: Celery, client: redis.Redis, settings: Settings, now: float | None = None) -> int:
    """Re-send tasks recorded longer ago than the visibility timeout; returns how many.

    A record already re-sent ``task_max_deliveries`` times is dead-lettered and dropped
    instead, so the outbox holds only work that may still finish.
    """
    now = time.time() if now is None else now
    older_than = now - settings.visibility_timeout
    key = outbox_key(settings)
    resent = 0
    for task_id, raw in client.hscan_iter(key, count=500):
        tid = task_id.decode() if isinstance(task_id, bytes) else str(task_id)
        try:
            record = json.loads(raw)
            at, resends = float(record["at"]), int(record.get("resends", 0))
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("outbox record %s is unreadable (%s); dropped", tid, exc)
            client.hdel(key, tid)
            continue
        if at > older_than:
            continue
        if resends >= settings.task_max_deliveries:
            _give_up(client, settings, tid, record, resends)
            continue
        record["at"], record["resends"] = now, resends + 1
        client.hset(key, tid, json.dumps(record, ensure_ascii=False))
        options = {"priority": record["priority"]} if "priority" in record else {}
        app.send_task(
            record["name"], args=record["args"], queue=record["queue"], task_id=tid, **options
        )
        resent += 1
    return resent


def dead_letter_input(task_name: str, args: Any) -> dict[str, Any]:
    """What to store as a dead letter's input, so `dead replay` can send it again."""
    payload = args[0] if args else None
    if task_name == TRANSLATE_TASK and isinstance(payload, dict):
        payload = payload.get("source", payload)
    if task_name == POLL_TASK:
        return {"kind": "feed", "name": str(payload)}
    return payload if isinstance(payload, dict) else {"raw": repr(payload)}


def _give_up(
    client: redis.Redis, settings: Settings, task_id: str, record: dict[str, Any], resends: int
) -> None:
    """Dead-letter a task that never reached an outcome, then forget its record."""
    Store(client, settings).dead_letter(
        input=dead_letter_input(str(record.get("name", "")), record.get("args") or []),
        reason="outbox_gave_up",
        error=(
            f"task {record.get('name')} was sent {resends + 1} times and never finished "
            "(no document, no dead letter); check the workers' logs for this task id, "
            "then `newsingest dead replay` it"
        ),
        stage=str(record.get("name", "")).rsplit(".", 1)[-1],
        attempts=resends + 1,
        task_id=task_id,
    )
    client.hdel(outbox_key(settings), task_id)
    log.warning("outbox record %s dead-lettered after %d sends", task_id, resends + 1)


def pending(client: redis.Redis, settings: Settings) -> int:
    return int(cast(int, client.hlen(outbox_key(settings))))
