"""Cross-cutting concerns, one class each, as dramatiq's middleware does it.

Celery has no middleware; its signals are the hook points. :func:`install` connects one
dispatcher per hook for one app, and each middleware sees only that app's tasks:

- :class:`LogContext`: the task id (and the stage running) on every log line;
- :class:`OutboxMiddleware`: a final outcome clears the task's outbox record;
- :class:`Backstop`: a task that failed without writing its own dead letter (the hard
  time limit killed it, or an exception escaped) is dead-lettered, so nothing is lost;
- :class:`DeliveryCount`: counts the runs of each task message that ended without an
  outcome (the pool process died), so a page that kills its worker is not redelivered
  forever (:meth:`RetryPolicy.admit` dead-letters it as ``worker_lost``);
- :class:`MemoryCeiling`: notes the process's peak size as a task starts, so the policy can
  tell a failure that came as the task ran into ``task_memory_limit_mb``.

The retry-or-dead-letter policy is :class:`RetryPolicy`, applied by the tasks' base class
(workers/tasks.py) around every run: one ladder for every task, one back-off function
(``service.retry.backoff_delay``) shared with fetching.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

import redis
from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from celery.signals import task_failure, task_postrun, task_prerun
from kombu.exceptions import OperationalError

from service.errors import IngestError, TransientFetchError
from service.logs import current_stage, current_task_id
from service.retry import backoff_delay
from service.settings import Settings

from . import outbox
from .runtime import Services, address_space_limit_mib, address_space_mib

log = logging.getLogger("newsingest.workers")

# Redis unreachable while handing work on or publishing: transient, retried, never dead.
BROKER_ERRORS = (redis.ConnectionError, redis.TimeoutError, OperationalError)


class Middleware:
    """Hooks around a task run; every hook must not raise."""

    def before_task(self, task: Task, task_id: str | None) -> None:
        """The task is about to run."""

    def after_task(self, task: Task, task_id: str | None, state: str | None) -> None:
        """The task returned (SUCCESS), failed (FAILURE) or asked to be retried (RETRY)."""

    def on_failure(
        self, task: Task, task_id: str | None, exc: BaseException | None, args: Any
    ) -> None:
        """An exception escaped the task, or the pool killed it (hard time limit)."""


class LogContext(Middleware):
    def before_task(self, task: Task, task_id: str | None) -> None:
        current_task_id.set(task_id)
        current_stage.set(None)

    def after_task(self, task: Task, task_id: str | None, state: str | None) -> None:
        current_task_id.set(None)
        current_stage.set(None)


class OutboxMiddleware(Middleware):
    """A final outcome (a document, a dead letter, or a failure the backstop dead-letters)
    clears the task's outbox record; a retry keeps it."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def after_task(self, task: Task, task_id: str | None, state: str | None) -> None:
        if state not in ("SUCCESS", "FAILURE") or task.name not in outbox.OUTBOX_TASKS:
            return
        try:
            outbox.done(self.services.client, self.services.settings, task_id)
        except redis.RedisError as exc:
            # The heartbeat will re-send it; publishing is idempotent, so that adds nothing.
            log.warning("could not clear outbox record of %s: %s", task_id, exc)


class Backstop(Middleware):
    """The backstop of "nothing is lost": with acks_late a failed task is acknowledged, so a
    task that failed without writing its own dead letter is dead-lettered here. A task id
    dead-letters at most once, so a task that did write one adds nothing."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_failure(
        self, task: Task, task_id: str | None, exc: BaseException | None, args: Any
    ) -> None:
        if task.name not in outbox.OUTBOX_TASKS or not args:
            return
        request = getattr(task, "request", None)
        try:
            self.services.store.dead_letter(
                input=outbox.dead_letter_input(task.name, args),
                reason="time_limit" if isinstance(exc, TimeLimitExceeded) else "internal_error",
                error=f"{type(exc).__name__}: {exc}",
                stage=task.name.split(".", 1)[1],
                attempts=int(getattr(request, "retries", 0) or 0) + 1,
                task_id=task_id,
            )
        except Exception:  # noqa: BLE001 - a signal handler must not raise; say so loudly
            log.exception("could not dead-letter failed task %s[%s]", task.name, task_id)


class DeliveryCount(Middleware):
    """How often each task message was delivered to a pool process without reaching an
    outcome. ``acks_late`` + ``reject_on_worker_lost`` put a task back whenever its process
    dies, and the Redis broker says nothing reliable about redelivery, so a page that makes
    its process get killed (out of memory, a crash in C) would come back forever.

    Each task id has one Redis hash, ``<prefix>:deliveries:<task id>``, with a field per
    message of that task (its retry number): a run increments its field before it starts
    and stores the count in ``task.request.deliveries`` for :meth:`RetryPolicy.admit`. Any
    outcome clears it: a retry forgets its own field (the retry is a new message, with a
    field of its own, so a retry never counts as a lost worker), a final outcome forgets
    the task. Only runs whose process died leave their count behind. Redis away: the run is
    not counted (and will fail on Redis anyway)."""

    COUNTED = outbox.OUTBOX_TASKS | {outbox.POLL_TASK}

    def __init__(self, services: Services) -> None:
        self.services = services

    def key(self, task_id: str) -> str:
        return f"{self.services.settings.key_prefix}:deliveries:{task_id}"

    def ttl(self) -> int:
        """Longer than the longest chain of redeliveries: each after at most the visibility
        timeout (the whole worker died) plus a run."""
        s = self.services.settings
        return (max(1, s.task_max_deliveries) + 1) * (s.visibility_timeout + s.task_time_limit)

    def before_task(self, task: Task, task_id: str | None) -> None:
        if task.name not in self.COUNTED or not task_id:
            return
        field = str(int(task.request.retries or 0))
        try:
            pipe = self.services.client.pipeline(transaction=True)
            pipe.hincrby(self.key(task_id), field, 1)
            pipe.expire(self.key(task_id), self.ttl())
            task.request.deliveries = int(pipe.execute()[0])
        except redis.RedisError as exc:
            log.warning("could not count the delivery of %s: %s", task_id, exc)

    def after_task(self, task: Task, task_id: str | None, state: str | None) -> None:
        if task.name not in self.COUNTED or not task_id:
            return
        try:
            if state == "RETRY":
                self.services.client.hdel(self.key(task_id), str(int(task.request.retries or 0)))
            else:
                self.services.client.delete(self.key(task_id))
        except redis.RedisError as exc:
            log.warning("could not clear the delivery count of %s: %s", task_id, exc)

    def on_failure(
        self, task: Task, task_id: str | None, exc: BaseException | None, args: Any
    ) -> None:
        """The hard time limit (in the worker's main process): the task is over."""
        self.after_task(task, task_id, "FAILURE")


class MemoryCeiling(Middleware):
    """A pool process with an address-space ceiling (workers/app.py:limit_pool_process) fails
    an allocation past it; Python raises MemoryError, but libraries often turn the failure
    into an error of their own (trafilatura reports "could not parse the page", libxml2
    "unknown error"). Noting the process's peak size (``VmPeak``) as each task starts lets
    :func:`ran_into_ceiling` tell that the task itself pushed the process to its ceiling."""

    def before_task(self, task: Task, task_id: str | None) -> None:
        if address_space_limit_mib():
            task.request.peak_at_start = address_space_mib("VmPeak")


def ran_into_ceiling(task: Task) -> bool:
    """The running task raised its process's peak size to within a tenth of its ceiling.
    (A process that reached its ceiling is replaced after the task: its peak RSS passes
    ``worker_max_memory_per_child``; so a later task starts below it again.)"""
    limit = address_space_limit_mib()
    start = getattr(task.request, "peak_at_start", None)
    if not limit or start is None:
        return False
    peak = address_space_mib("VmPeak")
    return peak > start and peak >= limit - max(16, limit // 10)


# Fetches deferred because their host asked us to wait or is busy; see RetryPolicy.handle.
DEFERRALS = frozenset({"host_backoff", "host_busy"})
DEFERRAL_BUDGET = 4


class RetryPolicy:
    """One ladder for every task's failures:

    - transient fetch errors (timeouts, 5xx, 429) are retried with back-off, a server's
      Retry-After winning, and dead-lettered after ``task_max_retries``;
    - Redis or the broker away: retried with back-off, never dead-lettered (not the input's
      fault, and the dead letter would need Redis too);
    - an IngestError is a dead letter with its reason; the soft time limit is ``time_limit``;
    - MemoryError, or any failure as the task ran into its process's ceiling
      (``task_memory_limit_mb``, :class:`MemoryCeiling`), is ``memory_limit``;
    - a message whose runs died more than ``task_max_deliveries`` times is ``worker_lost``
      (:meth:`admit`, before the run);
    - anything else is a bug: logged with its traceback, dead-lettered as ``internal_error``.
    """

    def __init__(self, services: Services) -> None:
        self.services = services

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def admit(self, task: Task, args: Any) -> dict[str, Any] | None:
        """None: run the task. Else the dead letter of a message whose previous runs all
        died without an outcome (:class:`DeliveryCount`); it is not run again."""
        deliveries = int(getattr(task.request, "deliveries", 0) or 0)
        limit = self.settings.task_max_deliveries
        if limit <= 0 or deliveries <= limit:
            return None
        lost = deliveries - 1
        return self.dead(
            task,
            args,
            task.name.split(".", 1)[1],
            "worker_lost",
            f"the worker process running it died {lost} times (task_max_deliveries="
            f"{limit}); not run again. Out of memory is the usual cause: the kernel log "
            "(dmesg) names the kill; task_memory_limit_mb makes such a page fail on its own",
            attempts=lost,
        )

    def handle(self, task: Task, exc: Exception, args: Any) -> dict[str, Any]:
        """The task's outcome for ``exc``: a dead letter, or raises Celery's Retry."""
        retries = int(task.request.retries or 0)
        stage = current_stage.get() or task.name.split(".", 1)[1]
        if isinstance(exc, BROKER_ERRORS):
            delay = backoff_delay(retries, None, self.settings.retry_backoff_max, base=2.0)
            raise task.retry(exc=exc, countdown=delay) from exc
        if isinstance(exc, TransientFetchError):
            # Waiting for a host (its Retry-After, or its slots all taken) is not a failure of
            # this input: such deferrals get a larger budget than real transient errors.
            deferred = exc.reason in DEFERRALS
            budget = self.settings.task_max_retries * (DEFERRAL_BUDGET if deferred else 1)
            if retries < budget:
                delay = backoff_delay(retries, None, self.settings.retry_backoff_max, base=2.0)
                if exc.retry_after is not None:
                    # The server's word wins, up to the configured maximum.
                    delay = max(delay, min(exc.retry_after, self.settings.fetch_retry_after_max))
                raise task.retry(exc=exc, countdown=delay) from exc
            return self.dead(task, args, stage, exc.reason, f"gave up after retries: {exc}")
        if isinstance(exc, MemoryError) or (
            not isinstance(exc, SoftTimeLimitExceeded) and ran_into_ceiling(task)
        ):
            # The frames of the failed stage hold what it had built: free it before writing.
            traceback.clear_frames(exc.__traceback__)
            return self.dead(
                task,
                args,
                stage,
                "memory_limit",
                f"{task.name} needed more memory than one task may use "
                f"(task_memory_limit_mb={self.settings.task_memory_limit_mb}): {exc!r}",
            )
        if isinstance(exc, IngestError):
            return self.dead(task, args, stage, exc.reason, exc.message)
        if isinstance(exc, SoftTimeLimitExceeded):
            return self.dead(
                task, args, stage, "time_limit", f"{task.name} exceeded its time limit"
            )
        log.exception("unexpected error in %s", task.name)
        return self.dead(task, args, stage, "internal_error", f"{type(exc).__name__}: {exc}")

    def dead(
        self,
        task: Task,
        args: Any,
        stage: str,
        reason: str,
        error: str,
        *,
        attempts: int | None = None,
    ) -> dict[str, Any]:
        payload = outbox.dead_letter_input(task.name, args)
        self.services.store.dead_letter(
            input=payload,
            reason=reason,
            error=error,
            stage=stage,
            attempts=int(task.request.retries or 0) + 1 if attempts is None else attempts,
            task_id=task.request.id,
        )
        self.services.recorder.observe("dead_letter", 0.0, reason)
        log.warning(
            "dead-lettered at %s: %s",
            stage,
            reason,
            extra={"url": payload.get("location"), "stage": stage},
        )
        return {"status": "dead", "reason": reason}


def install(app: Celery, middleware: list[Middleware]) -> None:
    """Connect the hooks of ``middleware`` to Celery's signals, for ``app``'s tasks only."""

    def mine(sender: Any) -> bool:
        return getattr(sender, "app", None) is app

    def prerun(sender: Any = None, task_id: str | None = None, **_: object) -> None:
        if mine(sender):
            for m in middleware:
                m.before_task(sender, task_id)

    def postrun(
        sender: Any = None, task_id: str | None = None, state: str | None = None, **_: object
    ) -> None:
        if mine(sender):
            for m in reversed(middleware):
                m.after_task(sender, task_id, state)

    def failure(
        sender: Any = None,
        task_id: str | None = None,
        exception: BaseException | None = None,
        args: Any = None,
        **_: object,
    ) -> None:
        if mine(sender):
            for m in reversed(middleware):
                m.on_failure(sender, task_id, exception, args)

    hooks: list[tuple[Any, Callable[..., None]]] = [
        (task_prerun, prerun),
        (task_postrun, postrun),
        (task_failure, failure),
    ]
    for signal, handler in hooks:
        signal.connect(handler, weak=False)
