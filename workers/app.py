"""The Celery application: Redis broker, two queues, reliability settings in one place.

Delivery is at-least-once: tasks are acknowledged after they finish (``acks_late``) and
re-queued when their worker process dies (``reject_on_worker_lost``); publishing is
idempotent (see service/store.py), so running a task twice adds nothing.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from celery import Celery
from celery.exceptions import TimeLimitExceeded
from celery.signals import setup_logging, task_failure, task_postrun, task_prerun, worker_init
from kombu.entity import Queue

from service.settings import Settings, get_settings
from service.sources import configured_sources

log = logging.getLogger("newsingest.workers")

INGEST_QUEUE = "ingest"
OUTBOX_TASKS = frozenset({"newsingest.ingest", "newsingest.translate"})
TRANSLATE_QUEUE = "translate"


def poll_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """One beat entry per source in sources.toml; a poll older than its interval is dropped."""
    return {
        f"poll:{source.name}": {
            "task": "newsingest.poll_source",
            "schedule": source.interval,
            "args": [source.name],
            "options": {"queue": INGEST_QUEUE, "expires": source.interval},
        }
        for source in configured_sources(settings)
    }


def restore_sweep_seconds(settings: Settings) -> int:
    """How often a worker looks for tasks a dead worker left unacknowledged."""
    return max(1, min(60, settings.visibility_timeout // 10))


def make_app() -> Celery:
    settings = get_settings()
    app = Celery("newsingest", include=["workers.tasks"])
    app.conf.update(
        broker_url=settings.redis_url or "redis://127.0.0.1:6379/0",
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            "global_keyprefix": f"{settings.key_prefix}:celery:",
            # kombu sweeps for unacked messages of dead workers only every interval x
            # throttle seconds (100 s by default), which can be far more than the visibility
            # timeout; sweep every tenth of it instead (at most every minute).
            "unacked_restore_interval": restore_sweep_seconds(settings),
            "unacked_restore_throttle": 1,
        },
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        # Sending a task (ingest -> translate, a retry, beat) waits out a Redis restart of up
        # to ~20 s instead of failing after kombu's default 0.6 s.
        task_publish_retry=True,
        task_publish_retry_policy={
            "max_retries": 10,
            "interval_start": 0.2,
            "interval_step": 0.5,
            "interval_max": 3.0,
        },
        worker_prefetch_multiplier=1,
        worker_max_tasks_per_child=settings.worker_max_tasks_per_child,
        worker_max_memory_per_child=settings.worker_max_memory_per_child or None,
        worker_hijack_root_logger=False,
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        task_default_queue=INGEST_QUEUE,
        task_queues=(Queue(INGEST_QUEUE), Queue(TRANSLATE_QUEUE)),
        task_routes={
            "newsingest.ingest": {"queue": INGEST_QUEUE},
            "newsingest.heartbeat": {"queue": INGEST_QUEUE},
            "newsingest.poll_source": {"queue": INGEST_QUEUE},
            "newsingest.translate": {"queue": TRANSLATE_QUEUE},
        },
        beat_schedule={
            "heartbeat": {"task": "newsingest.heartbeat", "schedule": 30.0},
            **poll_schedule(settings),
        },
        worker_send_task_events=False,
        enable_utc=True,
    )
    return app


app = make_app()


@setup_logging.connect
def _logging(loglevel: str | int = "INFO", **_: object) -> None:
    """Our JSON/terminal logging instead of Celery's own format."""
    from service.logs import configure

    configure(loglevel or "INFO")


@task_prerun.connect
def _task_started(task_id: str | None = None, **_: object) -> None:
    from service.logs import current_task_id

    current_task_id.set(task_id)


@task_postrun.connect
def _task_finished(
    sender: Any = None, task_id: str | None = None, state: str | None = None, **_: object
) -> None:
    from service.logs import current_task_id

    current_task_id.set(None)
    # A final outcome (a document, a dead letter, or a failure the backstop dead-letters)
    # clears the task's outbox record; a retry keeps it.
    if state in ("SUCCESS", "FAILURE") and getattr(sender, "name", "") in OUTBOX_TASKS:
        from . import outbox
        from .tasks import store

        with contextlib.suppress(Exception):
            outbox.done(store().client, get_settings(), task_id)


@task_failure.connect
def _dead_letter_escaped(
    sender: Any = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    args: Any = None,
    **_: object,
) -> None:
    """The backstop of "nothing is lost": with acks_late a failed task is acknowledged, so a
    task that failed without writing its own dead letter (killed by the hard time limit,
    or an exception that escaped its handlers) is dead-lettered here. A task id
    dead-letters at most once, so a task that did write one adds nothing."""
    name = getattr(sender, "name", "")
    if name not in ("newsingest.ingest", "newsingest.translate") or not args:
        return
    payload = args[0] if isinstance(args[0], dict) else {}
    source = payload.get("source", {}) if name == "newsingest.translate" else payload
    hard_limit = isinstance(exception, TimeLimitExceeded)
    request = getattr(sender, "request", None)
    try:
        from workers.tasks import store

        store().dead_letter(
            input=source if isinstance(source, dict) else {"raw": repr(source)},
            reason="time_limit" if hard_limit else "internal_error",
            error=f"{type(exception).__name__}: {exception}",
            stage=name.split(".", 1)[1],
            attempts=int(getattr(request, "retries", 0) or 0) + 1,
            task_id=task_id,
        )
    except Exception:  # noqa: BLE001 - a signal handler must not raise; say so loudly
        log.exception("could not dead-letter failed task %s[%s]", name, task_id)


@worker_init.connect
def _install_models(**_: object) -> None:
    """Install packages from models_dir before the pool forks, so children share the files."""
    from service.errors import ModelError
    from service.models import install_from

    settings = get_settings()
    if settings.models_dir is None:
        return
    try:
        installed = install_from(settings.models_dir, settings.packages_dir)
        log.info("translation packages ready: %s", ", ".join(p.package_id for p in installed))
    except ModelError as exc:
        log.error("could not install translation packages from %s: %s", settings.models_dir, exc)
