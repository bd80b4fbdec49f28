"""The tasks: each reads its arguments, calls one step of service/ and hands the result on.

Every failure goes through one policy (workers/middleware.py:RetryPolicy), applied by the
base class around the run, so a task body holds no exception ladder of its own. Every
outcome is a document, a task on the next queue, or a dead letter.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from celery import Celery, Task
from celery.exceptions import Retry, SoftTimeLimitExceeded

from service import archive
from service import sources as feeds
from service.consume import stream_stats_for
from service.errors import IngestError
from service.records import Article, Source, utc_now

from . import outbox
from .middleware import BROKER_ERRORS

log = logging.getLogger("newsingest.tasks")


class NewsTask(Task):  # type: ignore[misc]
    """Runs the task body under the retry-or-dead-letter policy, unless the policy says its
    message already killed its worker process too often (it is then a dead letter)."""

    max_retries = None  # the policy decides; it counts retries itself

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        policy = self.news_app.policy
        try:
            lost = policy.admit(self, args)  # a message whose runs keep killing their process
            return lost if lost is not None else super().__call__(*args, **kwargs)
        except Retry:
            raise
        except Exception as exc:  # noqa: BLE001 - the policy decides: retry, or dead letter
            return policy.handle(self, exc, args)

    @property
    def news_app(self) -> Any:
        """The NewsApp (workers/app.py) this task is registered on: services, producer."""
        return self.app


def ingest(task: NewsTask, source: dict[str, Any]) -> dict[str, Any]:
    """Fetch, decode, extract and detect; then publish, or hand on to the translate queue."""
    return _ingest_one(task, Source.from_dict(source))


def _ingest_one(task: NewsTask, source: Source, priority: int | None = None) -> dict[str, Any]:
    services = task.news_app.services
    article = services.pipeline.ingest(source)
    step = services.pipeline.route(article)
    if step.queue is not None:
        task.news_app.producer.send(step.queue, article.as_dict(), priority=priority)
        return {"status": "queued", "queue": step.queue}
    assert step.translation is not None
    doc, published = services.pipeline.publish(article, step.translation, services.store)
    _count_for_source(services, doc, published.added)
    return {"status": "published", "id": doc.id, "added": published.added}


def _count_for_source(services: Any, doc: Any, added: bool) -> None:
    """A new document from a feed item counts in its source's health."""
    if added and doc.source.get("feed"):
        feeds.record_document(feeds.Registry(services.client, services.settings), doc.as_dict())


def backfill_scan(task: NewsTask, payload: dict[str, Any]) -> dict[str, Any]:
    """Scan one WARC file from its checkpoint: prefilter, send the kept records as ranges."""
    services = task.news_app.services
    state = archive.JobState(services.client, services.settings)
    try:
        status = archive.run_scan(
            state,
            payload,
            send_range=task.news_app.producer.backfill,
            dead_letter=_record_dead_letter(task, payload),
            should_stop=_should_stop(task),
            range_records=services.settings.backfill_range_records,
        )
    except IngestError as exc:  # the file itself: gone, outside file_roots, not a WARC
        state.fail(str(payload["job"]), f"{exc.reason}: {exc.message}")
        raise
    return _continue(task, payload, status)


def backfill_range(task: NewsTask, payload: dict[str, Any]) -> dict[str, Any]:
    """Ingest one range of a WARC file's kept records, each as its own input."""
    services = task.news_app.services
    status = archive.run_range(
        archive.JobState(services.client, services.settings),
        payload,
        handle=lambda source: _ingest_one(task, source, outbox.BACKFILL_PRIORITY),
        dead_letter=_record_dead_letter(task, payload),
        should_stop=_should_stop(task),
        fatal=BROKER_ERRORS,
        timeouts=(SoftTimeLimitExceeded,),
        max_tries=max(1, services.settings.task_max_deliveries - 1),
    )
    return _continue(task, payload, status)


def _continue(task: NewsTask, payload: dict[str, Any], status: str) -> dict[str, Any]:
    """A paused scan or range goes back to its queue, to go on from its checkpoint."""
    if status == "paused":
        task.news_app.producer.backfill(payload)
    return {"status": status, "job": payload.get("job"), "range": payload.get("range")}


def _should_stop(task: NewsTask) -> Callable[[], bool]:
    """Hand the slot back when half the task's time is gone, or when live work waits and
    this worker serves it (a backfill-only worker has nothing to hand it to)."""
    services = task.news_app.services
    settings = services.settings
    deadline = time.monotonic() + settings.task_soft_time_limit / 2
    consumed = task.app.amqp.queues.consume_from or {}
    # Live work this worker would take instead (not translate: a prefork worker that also
    # serves translate is a test set-up; translate has workers of its own).
    live = [
        f"{settings.key_prefix}:celery:{q}"
        for q in outbox.LIVE_QUEUES
        if q != outbox.TRANSLATE_QUEUE and q in consumed
    ]

    def should_stop() -> bool:
        if time.monotonic() > deadline:
            return True
        return any(int(services.client.llen(key)) > 0 for key in live)

    return should_stop


def _record_dead_letter(
    task: NewsTask, payload: dict[str, Any]
) -> Callable[[Source, str, str, str], None]:
    """One record's dead letter: once per record of the job, however often it is read."""
    services = task.news_app.services
    job = payload.get("job")

    def dead_letter(source: Source, reason: str, error: str, stage: str) -> None:
        offset = source.warc.offset if source.warc is not None else source.location
        services.store.dead_letter(
            input=source.as_dict(),
            reason=reason,
            error=error,
            stage=stage,
            attempts=1,
            task_id=f"warc:{job}:{offset}",
        )
        services.recorder.observe("dead_letter", 0.0, reason)
        log.warning(
            "dead-lettered at %s: %s", stage, reason, extra={"url": source.location, "stage": stage}
        )

    return dead_letter


def translate(task: NewsTask, article_data: dict[str, Any]) -> dict[str, Any]:
    """Translate and publish; a missing or failing model still publishes the original."""
    services = task.news_app.services
    article = Article.from_dict(article_data)
    result = services.pipeline.translate(article)
    doc, published = services.pipeline.publish(article, result, services.store)
    _count_for_source(services, doc, published.added)
    return {"status": "published", "id": doc.id, "added": published.added}


def poll_source(task: NewsTask, name: str) -> dict[str, Any]:
    """Poll one registered feed or sitemap; new items become ingest tasks. A failed poll is
    recorded in the source's health (back-off, one dead letter per episode, pause), not
    retried here: the source's next poll is the retry."""
    services = task.news_app.services
    started = time.perf_counter()
    outcome = feeds.poll_registered(
        name,
        feeds.Registry(services.client, services.settings),
        services.store,
        client=services.http,
        politeness=services.politeness,
        enqueue=lambda source: task.news_app.producer.ingest(source.as_dict()),
    )
    error = outcome["reason"] if outcome["status"] == "failed" else None
    services.recorder.observe("poll", time.perf_counter() - started, error)
    return outcome


def heartbeat(task: Task) -> str:
    """Scheduled by beat: proves beat and an ingest worker are alive, logs backpressure, and
    re-sends tasks that went missing in transit (the outbox). Not under the retry policy: a
    failed heartbeat is logged by Celery and the next one comes 30 s later."""
    services = task.app.services
    now = utc_now()
    services.client.set(f"{services.settings.key_prefix}:heartbeat", now, ex=300)
    for warning in stream_stats_for(services.client, services.settings)["backpressure"]:
        log.warning("backpressure: %s", warning)
    resent = outbox.sweep(task.app, services.client, services.settings)
    if resent:
        log.warning("re-sent %d tasks that went missing in transit", resent)
    return now


def register(app: Celery) -> None:
    """Register the tasks on ``app`` under their stable names."""
    for name, func in (
        (outbox.INGEST_TASK, ingest),
        (outbox.TRANSLATE_TASK, translate),
        (outbox.POLL_TASK, poll_source),
        (outbox.BACKFILL_SCAN_TASK, backfill_scan),
        (outbox.BACKFILL_RANGE_TASK, backfill_range),
    ):
        app.task(name=name, bind=True, base=NewsTask)(func)
    app.task(name=outbox.HEARTBEAT_TASK, bind=True)(heartbeat)
