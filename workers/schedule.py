"""Beat's schedule of polls, read from the source registry while beat runs.

Celery beat builds its schedule once, at start. :class:`RegistryScheduler` keeps beat's own
entries (the heartbeat) and, every ``source_tick`` seconds, asks the registry
(service/sources/_registry.py) which sources are due and sends one poll task for each on the
``poll`` queue. A source added, paused, resumed or removed with `newsingest sources` is
therefore seen within ``source_tick`` seconds, without restarting anything. At start it
seeds the registry from config/sources.toml.

A poll waits at most its source's interval in the queue (``expires``); an expired poll is
counted per source and as ``poll/expired`` in the stage metrics, and logged
(:func:`count_expired_polls`), since the next one is already due.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Celery
from celery.beat import PersistentScheduler
from celery.signals import task_revoked
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from service.sources import Registry, SourceConfig

from .outbox import POLL_QUEUE, POLL_TASK

log = logging.getLogger("newsingest.beat")


def send_poll(app: Celery, config: SourceConfig) -> None:
    app.send_task(
        POLL_TASK, args=[config.name], queue=POLL_QUEUE, expires=max(1.0, config.interval)
    )


def dispatch_due(app: Any, now: float | None = None) -> list[str]:
    """Send a poll for every due source; returns their names."""
    registry = Registry(app.services.client, app.settings)
    sent = []
    for config in registry.claim_due(now):
        send_poll(app, config)
        sent.append(config.name)
    return sent


class RegistryScheduler(PersistentScheduler):  # type: ignore[misc]
    """Celery beat's persistent scheduler, plus the polls of the source registry."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_check = 0.0
        seeds = getattr(self.app, "seed_sources", None) or []
        try:
            changed = Registry(self.app.services.client, self.app.settings).seed(seeds)
        except RedisError as exc:
            log.warning("could not seed the source registry: %s", exc)
        else:
            if changed:
                log.info("source registry seeded from sources.toml: %s", ", ".join(changed))

    def tick(self, *args: Any, **kwargs: Any) -> float:
        delay = float(super().tick(*args, **kwargs))
        now = time.time()
        if now >= self._next_check:
            self._next_check = now + self.app.settings.source_tick
            try:
                for name in dispatch_due(self.app, now):
                    log.info("Sending due task poll:%s (%s)", name, POLL_TASK)
            except (RedisError, OperationalError) as exc:
                log.warning("could not read the source registry: %s", exc)
        return max(0.0, min(delay, self._next_check - time.time()))


def count_expired_polls(app: Any) -> None:
    """Count and log each poll that waited past its expiry (the worker drops it unrun)."""
    services, settings = app.services, app.settings

    def on_revoked(
        sender: Any = None, request: Any = None, expired: bool = False, **_: object
    ) -> None:
        if getattr(sender, "app", None) is not app or getattr(sender, "name", None) != POLL_TASK:
            return
        if not expired:
            return
        args = list(getattr(request, "args", None) or [])
        name = str(args[0]) if args else "?"
        log.warning("poll of source %s expired in the queue before a worker took it", name)
        try:
            services.recorder.observe("poll", 0.0, "expired")
            Registry(services.client, settings).count(name, expired=1)
        except RedisError as exc:
            log.warning("could not count the expired poll of %s: %s", name, exc)

    task_revoked.connect(on_revoked, weak=False)
