"""The tasks: each reads its arguments, calls one step of service/ and hands the result on.

Every failure goes through one policy (workers/middleware.py:RetryPolicy), applied by the
base class around the run, so a task body holds no exception ladder of its own. Every
outcome is a document, a task on the next queue, or a dead letter.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from celery.exceptions import Retry

from service import sources as feeds
from service.consume import stream_stats_for
from service.records import Article, Source, utc_now

from . import outbox

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
    services = task.news_app.services
    article = services.pipeline.ingest(Source.from_dict(source))
    step = services.pipeline.route(article)
    if step.queue is not None:
        task.news_app.producer.send(step.queue, article.as_dict())
        return {"status": "queued", "queue": step.queue}
    assert step.translation is not None
    doc, published = services.pipeline.publish(article, step.translation, services.store)
    return {"status": "published", "id": doc.id, "added": published.added}


def translate(task: NewsTask, article_data: dict[str, Any]) -> dict[str, Any]:
    """Translate and publish; a missing or failing model still publishes the original."""
    services = task.news_app.services
    article = Article.from_dict(article_data)
    result = services.pipeline.translate(article)
    doc, published = services.pipeline.publish(article, result, services.store)
    return {"status": "published", "id": doc.id, "added": published.added}


def poll_source(task: NewsTask, name: str) -> dict[str, Any]:
    """Poll one feed or sitemap; new items become ingest tasks."""
    services = task.news_app.services
    config = feeds.find_source(feeds.configured_sources(services.settings), name)
    result = feeds.poll(
        config,
        services.client,
        services.settings,
        client=services.http,
        politeness=services.politeness,
        enqueue=lambda source: task.news_app.producer.ingest(source.as_dict()),
        attempts=1,
    )
    return {"status": "polled", **result.as_dict()}


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
    ):
        app.task(name=name, bind=True, base=NewsTask)(func)
    app.task(name=outbox.HEARTBEAT_TASK, bind=True)(heartbeat)
