"""Thin Celery tasks over service/: every outcome is a document or a dead-letter entry."""

from __future__ import annotations

import functools
import logging
import random
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import redis
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from kombu.exceptions import OperationalError
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from service import sources as feeds
from service.batcher import TranslationBatcher
from service.errors import IngestError, TransientFetchError
from service.fetch import FetchPolicy, Source, make_client, utc_now
from service.metrics import Recorder
from service.pipeline import Article, Pipeline, make_engine
from service.politeness import Politeness
from service.settings import get_settings
from service.store import Store
from service.tcache import TranslationCache
from service.translate import TranslationResult

from . import outbox
from .app import INGEST_QUEUE, TRANSLATE_QUEUE, app

log = logging.getLogger("newsingest.tasks")

# Redis unreachable while handing work on or publishing: transient, retried, never dead.
BROKER_ERRORS = (redis.ConnectionError, redis.TimeoutError, OperationalError)


_T = TypeVar("_T")


def once(factory: Callable[[], _T]) -> Callable[[], _T]:
    """Build on first use, once per process, also when the thread pool calls concurrently."""
    lock = threading.Lock()
    built: list[_T] = []

    @functools.wraps(factory)
    def get() -> _T:
        if not built:
            with lock:
                if not built:
                    built.append(factory())
        return built[0]

    return get


@once
def pipeline() -> Pipeline:
    """One pipeline, and so one copy of each model, per worker process."""
    settings = get_settings()
    return Pipeline(
        settings,
        make_engine(settings, translation_cache()),
        observer=recorder(),
        politeness=politeness(),
        http=http_client(),
    )


@once
def translation_cache() -> TranslationCache | None:
    settings = get_settings()
    if settings.translate_cache_max_entries <= 0:
        return None
    # Its own fail-fast client without retries: the cache must never stall a document.
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)
    return TranslationCache.from_settings(client, settings)


@once
def batcher() -> TranslationBatcher:
    """Gathers the documents of concurrently running translate tasks into one engine call."""
    settings = get_settings()
    return TranslationBatcher(
        pipeline().engine,
        max_docs=settings.translate_batch_max_docs,
        max_wait=settings.translate_batch_max_wait,
        on_batch=lambda docs, seconds: recorder().observe("translate_batch", seconds),
    )


@once
def http_client() -> httpx.Client:
    """One guarded HTTP client per process (connection reuse, SSRF-checked connects)."""
    return make_client(FetchPolicy.from_settings(get_settings()))


@once
def politeness() -> Politeness:
    return Politeness(store().client, get_settings())


@once
def recorder() -> Recorder:
    return Recorder(store().client, get_settings().key_prefix)


@once
def store() -> Store:
    settings = get_settings()
    client = redis.Redis.from_url(
        settings.redis_url,
        retry=Retry(ExponentialBackoff(cap=10, base=0.2), 8),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        health_check_interval=30,
    )
    return Store(client, settings)


def backoff(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter; a server's Retry-After wins when longer."""
    cap = get_settings().retry_backoff_max
    delay = random.uniform(0, min(cap, 2.0 ** (attempt + 1)))
    return min(cap, max(delay, retry_after or 0.0))


def _dead(
    task: Task, payload: dict[str, Any], stage: str, reason: str, error: str
) -> dict[str, Any]:
    store().dead_letter(
        input=payload,
        reason=reason,
        error=error,
        stage=stage,
        attempts=task.request.retries + 1,
        task_id=task.request.id,
    )
    recorder().observe("dead_letter", 0.0, reason)
    log.warning(
        "dead-lettered at %s: %s",
        stage,
        reason,
        extra={"url": payload.get("location"), "stage": stage},
    )
    return {"status": "dead", "reason": reason}


def _retry_or_dead(
    task: Task, payload: dict[str, Any], stage: str, exc: TransientFetchError
) -> dict[str, Any]:
    """Retry a transient failure with backoff; after the last attempt, dead-letter it."""
    if task.request.retries >= get_settings().task_max_retries:
        return _dead(task, payload, stage, exc.reason, f"gave up after retries: {exc}")
    raise task.retry(exc=exc, countdown=backoff(task.request.retries, exc.retry_after)) from exc


def _publish(article: Article, result: TranslationResult) -> dict[str, Any]:
    doc = pipeline().finish(article, result)
    with recorder().timed("publish"):
        published = store().publish(doc)
    if result.status == "translated":
        chars = len(doc.text) + len(doc.title or "")
        recorder().translated(chars, result.seconds)
    log.info(
        "published v%d (%s), translation %s",
        published.version,
        "new" if published.added else "already there",
        result.status,
        extra={"doc_id": doc.id, "url": article.source.location, "stage": "publish"},
    )
    return {"status": "published", "id": doc.id, "added": published.added}


@app.task(name="newsingest.ingest", bind=True, max_retries=None)
def ingest(self: Task, source: dict[str, Any]) -> dict[str, Any]:
    """Fetch, decode, extract and detect; English goes straight to the stream."""
    try:
        article = pipeline().ingest(Source.from_dict(source))
    except TransientFetchError as exc:
        return _retry_or_dead(self, source, "fetch", exc)
    except IngestError as exc:
        return _dead(self, source, "ingest", exc.reason, exc.message)
    except SoftTimeLimitExceeded:
        return _dead(self, source, "ingest", "time_limit", "ingest exceeded its time limit")
    except Exception as exc:  # noqa: BLE001 - an unexpected bug must not lose the input
        log.exception("unexpected error ingesting %s", source.get("location"))
        return _dead(self, source, "ingest", "internal_error", f"{type(exc).__name__}: {exc}")

    try:
        if article.needs_translation:
            outbox.send(
                app, store().client, get_settings(), "newsingest.translate",
                [article.as_dict()], TRANSLATE_QUEUE,
            )  # fmt: skip
            return {"status": "queued_for_translation"}
        return _publish(
            article,
            TranslationResult("not_needed", article.extracted.title, article.extracted.paragraphs),
        )
    except IngestError as exc:
        return _dead(self, source, "publish", exc.reason, exc.message)
    except BROKER_ERRORS as exc:
        # Redis restarting: the work is idempotent, so run the whole task again later.
        raise self.retry(exc=exc, countdown=backoff(self.request.retries, None)) from exc


def _translate(article: Article) -> TranslationResult:
    if article.language == "und":
        return pipeline().translate(article)
    ex = article.extracted
    with recorder().timed("translate"):
        return batcher().translate(article.language, ex.title, ex.paragraphs)


@app.task(name="newsingest.translate", bind=True, max_retries=None)
def translate(self: Task, article_data: dict[str, Any]) -> dict[str, Any]:
    """Translate and publish; a missing or failing model still publishes the original."""
    article = Article.from_dict(article_data)
    try:
        result = _translate(article)
    except IngestError as exc:
        result = TranslationResult("failed", None, None, detail=f"{exc.reason}: {exc.message}")
    except SoftTimeLimitExceeded:
        result = TranslationResult("failed", None, None, detail="translation exceeded time limit")
    except Exception as exc:  # noqa: BLE001 - publish untranslated rather than lose it
        log.exception("translation crashed for %s", article.source.location)
        result = TranslationResult("failed", None, None, detail=f"{type(exc).__name__}: {exc}")
    try:
        return _publish(article, result)
    except IngestError as exc:
        return _dead(self, article.source.as_dict(), "publish", exc.reason, exc.message)
    except BROKER_ERRORS as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries, None)) from exc


@app.task(name="newsingest.poll_source", bind=True, max_retries=None)
def poll_source(self: Task, name: str) -> dict[str, Any]:
    """Poll one feed or sitemap from sources.toml; new items become ingest tasks."""
    settings = get_settings()
    payload: dict[str, Any] = {"kind": "feed", "name": name}
    try:
        config = feeds.find_source(feeds.configured_sources(settings), name)
    except IngestError as exc:
        return _dead(self, payload, "poll", exc.reason, exc.message)
    payload["location"] = config.url

    def enqueue(source: Source) -> None:
        outbox.send(
            app, store().client, settings, "newsingest.ingest", [source.as_dict()], INGEST_QUEUE
        )

    try:
        result = feeds.poll(
            config,
            store().client,
            settings,
            client=http_client(),
            politeness=politeness(),
            enqueue=enqueue,
            attempts=1,
        )
    except TransientFetchError as exc:
        return _retry_or_dead(self, payload, "poll", exc)
    except IngestError as exc:
        return _dead(self, payload, "poll", exc.reason, exc.message)
    except SoftTimeLimitExceeded:
        return _dead(self, payload, "poll", "time_limit", "poll exceeded its time limit")
    return {"status": "polled", **result.as_dict()}


@app.task(name="newsingest.heartbeat")
def heartbeat() -> str:
    """Scheduled by beat: proves beat and an ingest worker are alive, and logs backpressure."""
    from service.consume import stream_stats_for

    settings = get_settings()
    now = utc_now()
    client = store().client
    client.set(f"{settings.key_prefix}:heartbeat", now, ex=300)
    stats = stream_stats_for(client, settings)
    for warning in stats["backpressure"]:
        log.warning("backpressure: %s", warning)
    resent = outbox.sweep(app, client, settings)
    if resent:
        log.warning("re-sent %d tasks that went missing in transit", resent)
    return now
