"""The Celery application, built from a Settings object: nothing is read at import.

:func:`make_app` is the one place the runtime is wired: broker and queues, the reliability
settings, the tasks, the middleware and the per-process services. Delivery is
at-least-once: tasks are acknowledged after they finish (``acks_late``) and re-queued when
their worker process dies (``reject_on_worker_lost``); publishing is idempotent (see
service/store.py), so running a task twice adds nothing.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from celery._state import get_current_app
from celery.signals import celeryd_after_setup, setup_logging, worker_init, worker_process_init
from kombu.entity import Queue

from service.errors import ModelError
from service.logs import configure
from service.models import install_from
from service.settings import Settings
from service.sources import configured_sources

from . import middleware, outbox, schedule, tasks
from .outbox import (
    BACKFILL_QUEUE,
    HEARTBEAT_TASK,
    INGEST_QUEUE,
    POLL_QUEUE,
    POLL_TASK,
    TRANSLATE_QUEUE,
    Producer,
)
from .runtime import Services, address_space_mib, limit_address_space

log = logging.getLogger("newsingest.workers")


class NewsApp(Celery):  # type: ignore[misc]
    """The Celery app with what its tasks share: settings, services, producer, policy."""

    settings: Settings
    services: Services
    policy: middleware.RetryPolicy
    seed_sources: list[Any]  # beat only: sources.toml, which seeds the registry

    @property
    def producer(self) -> Producer:
        return Producer(self, self.services.client, self.settings)


def restore_sweep_seconds(settings: Settings) -> int:
    """How often a worker looks for tasks a dead worker left unacknowledged."""
    return max(1, min(60, settings.visibility_timeout // 10))


def make_app(settings: Settings, *, schedule_sources: bool = False) -> NewsApp:
    """The app for ``settings``. Only beat asks for ``schedule_sources``: it reads the
    sources file, which seeds the source registry, and schedules polls from the registry
    (workers/schedule.py); a worker, `submit` or `health` never read the file."""
    app = NewsApp("newsingest", set_as_current=False)
    app.settings = settings
    app.seed_sources = list(configured_sources(settings)) if schedule_sources else []
    app.services = Services(settings)
    app.policy = middleware.RetryPolicy(app.services)
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
        task_queues=(
            Queue(INGEST_QUEUE),
            Queue(TRANSLATE_QUEUE),
            Queue(BACKFILL_QUEUE),
            Queue(POLL_QUEUE),
        ),
        task_routes={
            outbox.INGEST_TASK: {"queue": INGEST_QUEUE},
            HEARTBEAT_TASK: {"queue": INGEST_QUEUE},
            POLL_TASK: {"queue": POLL_QUEUE},
            outbox.TRANSLATE_TASK: {"queue": TRANSLATE_QUEUE},
            outbox.BACKFILL_SCAN_TASK: {"queue": BACKFILL_QUEUE},
            outbox.BACKFILL_RANGE_TASK: {"queue": BACKFILL_QUEUE},
        },
        beat_schedule={"heartbeat": {"task": HEARTBEAT_TASK, "schedule": 30.0}},
        beat_scheduler="workers.schedule:RegistryScheduler",
        worker_send_task_events=False,
        enable_utc=True,
    )
    tasks.register(app)
    middleware.install(
        app,
        [
            middleware.LogContext(),
            middleware.DeliveryCount(app.services),
            middleware.MemoryCeiling(),
            middleware.OutboxMiddleware(app.services),
            middleware.Backstop(app.services),
        ],
    )
    _connect_process_hooks(app, settings)
    schedule.count_expired_polls(app)
    return app


def _connect_process_hooks(app: Celery, settings: Settings) -> None:
    """Our logging instead of Celery's, packages installed before the pool forks, and the
    memory ceiling of each ingest pool process."""

    def logging_hook(loglevel: str | int = "INFO", **_: object) -> None:
        configure(loglevel or "INFO")

    def install_models(sender: Any = None, **_: object) -> None:
        if getattr(sender, "app", None) is not app or settings.models_dir is None:
            return
        try:
            installed = install_from(settings.models_dir, settings.packages_dir)
            log.info("translation packages ready: %s", ", ".join(p.package_id for p in installed))
        except ModelError as exc:
            log.error(
                "could not install translation packages from %s: %s", settings.models_dir, exc
            )

    def upgrade_store(sender: Any = None, **_: object) -> None:
        if getattr(sender, "app", None) is not app:
            return
        from redis.exceptions import RedisError

        from service.store import Store, connect

        try:
            forgotten = Store(connect(settings.redis_url, retries=3), settings).upgrade()
        except RedisError as exc:
            log.warning("store upgrade skipped, Redis unavailable: %s", exc)
            return
        if forgotten is not None:
            log.info("store upgrade: %d documents past the stream's retention forgotten", forgotten)

    def limit_memory(**_: object) -> None:
        if get_current_app() is not app:
            return
        limit_pool_process(app, settings)

    def serve_backfill(sender: Any = None, instance: Any = None, **_: object) -> None:
        """An ingest worker serves the backfill queue too (``backfill_with_ingest``): its
        tasks wait in priority 9, after any live task, and hand their slot back between
        records when live work comes (workers/tasks.py)."""
        if getattr(instance, "app", None) is not app or not settings.backfill_with_ingest:
            return
        queues = instance.app.amqp.queues
        consumed = queues.consume_from or {}
        if INGEST_QUEUE in consumed and BACKFILL_QUEUE not in consumed:
            queues.select_add(BACKFILL_QUEUE)
            log.info("this ingest worker serves the backfill queue too, after live work")

    def serve_polls(sender: Any = None, instance: Any = None, **_: object) -> None:
        """An ingest worker serves the poll queue too, taking from the two in turn."""
        if getattr(instance, "app", None) is not app:
            return
        queues = instance.app.amqp.queues
        if INGEST_QUEUE in (queues.consume_from or {}) and POLL_QUEUE not in queues.consume_from:
            queues.select_add(POLL_QUEUE)

    celeryd_after_setup.connect(serve_backfill, weak=False)
    celeryd_after_setup.connect(serve_polls, weak=False)
    setup_logging.connect(logging_hook, weak=False)
    worker_init.connect(install_models, weak=False)
    worker_init.connect(upgrade_store, weak=False)
    worker_process_init.connect(limit_memory, weak=False)


def limit_pool_process(app: Celery, settings: Settings) -> None:
    """``task_memory_limit_mb`` for a prefork pool process that serves only ingest work, so
    one page fails its own task (MemoryError: ``memory_limit``; or the process dies and the
    delivery count ends it as ``worker_lost``) instead of taking the machine's memory. Not
    for a process that serves translate: a loaded model maps far more address space than it
    uses (and the translate worker's thread pool never forks, so never gets here)."""
    limit = settings.task_memory_limit_mb
    queues = set(app.amqp.queues.consume_from or ())
    if limit <= 0 or not queues or TRANSLATE_QUEUE in queues:
        return
    size = address_space_mib()
    limit_address_space(limit)
    if size and size * 2 > limit:
        log.warning(
            "task_memory_limit_mb=%d leaves little room above this pool process's %d MiB of "
            "address space: most pages will fail with memory_limit; raise it",
            limit,
            size,
        )
    recycle_kib = settings.worker_max_memory_per_child
    if not recycle_kib or recycle_kib > limit * 1024 * 3 // 4:
        log.warning(
            "worker_max_memory_per_child=%d KiB does not replace a pool process that reached "
            "task_memory_limit_mb=%d; its later tasks may fail with memory_limit: set it "
            "well below the ceiling",
            recycle_kib,
            limit,
        )
    log.info(
        "pool process %d: address space limited to %d MiB (%d MiB now)", os.getpid(), limit, size
    )
