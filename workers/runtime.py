"""The services one worker process uses, built once per process, on first use.

A prefork worker's parent forks its children after the app is built; nothing here is
created in the parent unless the parent itself uses it (the failure backstop runs there),
and a child that inherits a built object from its parent builds its own (the pid check), so
no socket is ever shared between processes.
"""

from __future__ import annotations

import os
import resource
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from service.batcher import TranslationBatcher
from service.fetch import FetchPolicy, make_client
from service.metrics import Recorder
from service.pipeline import Pipeline, make_engine
from service.politeness import Politeness
from service.settings import Settings
from service.store import Store
from service.tcache import TranslationCache
from service.translate import Engine

_T = TypeVar("_T")
MIB = 1024 * 1024


def address_space_mib(field: str = "VmSize", pid: int | str = "self") -> int:
    """A process's virtual size (``VmSize``, what ``ps -o vsz`` shows) or its peak so far
    (``VmPeak``), MiB; 0 where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def address_space_limit_mib() -> int:
    """This process's address-space ceiling (soft RLIMIT_AS), MiB; 0: none."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return 0 if soft == resource.RLIM_INFINITY else soft // MIB


def limit_address_space(limit_mib: int) -> None:
    """Cap this process's address space (soft RLIMIT_AS) at ``limit_mib`` MiB: an allocation
    past it fails (MemoryError in Python), instead of the process growing until the kernel's
    OOM killer picks a victim, which may be the worker's parent or Redis."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = limit_mib * MIB
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class Services:
    """Store, engine, cache, batcher, politeness, metrics, HTTP client and the pipeline."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._built: dict[str, Any] = {}
        self._pid = os.getpid()

    def _once(self, name: str, factory: Callable[[], _T]) -> _T:
        """Build on first use, once per process, also when the thread pool asks at once."""
        with self._lock:
            if self._pid != os.getpid():
                self._built.clear()
                self._pid = os.getpid()
            if name not in self._built:
                self._built[name] = factory()
            value: _T = self._built[name]
            return value

    @property
    def store(self) -> Store:
        def build() -> Store:
            client = redis.Redis.from_url(
                self.settings.redis_url,
                retry=Retry(ExponentialBackoff(cap=10, base=0.2), 8),
                retry_on_error=[redis.ConnectionError, redis.TimeoutError],
                health_check_interval=30,
            )
            return Store(client, self.settings)

        return self._once("store", build)

    @property
    def client(self) -> redis.Redis:
        return self.store.client

    @property
    def cache(self) -> TranslationCache | None:
        def build() -> TranslationCache | None:
            if self.settings.translate_cache_max_entries <= 0:
                return None
            # Its own fail-fast client without retries: the cache must never stall a document.
            client = redis.Redis.from_url(
                self.settings.redis_url, socket_connect_timeout=1, socket_timeout=1
            )
            return TranslationCache.from_settings(client, self.settings)

        return self._once("cache", build)

    @property
    def engine(self) -> Engine:
        return self._once("engine", lambda: make_engine(self.settings, self.cache))

    @property
    def batcher(self) -> TranslationBatcher:
        """Gathers the documents of concurrently running translate tasks into one call."""
        return self._once(
            "batcher",
            lambda: TranslationBatcher(
                self.engine,
                max_docs=self.settings.translate_batch_max_docs,
                max_wait=self.settings.translate_batch_max_wait,
                on_batch=lambda docs, seconds: self.recorder.observe("translate_batch", seconds),
            ),
        )

    @property
    def recorder(self) -> Recorder:
        return self._once("recorder", lambda: Recorder(self.client, self.settings.key_prefix))

    @property
    def politeness(self) -> Politeness:
        return self._once("politeness", lambda: Politeness(self.client, self.settings))

    @property
    def http(self) -> httpx.Client:
        """One guarded HTTP client per process (connection reuse, SSRF-checked connects)."""
        return self._once("http", lambda: make_client(FetchPolicy.from_settings(self.settings)))

    @property
    def pipeline(self) -> Pipeline:
        """One pipeline, and so one copy of each model, per worker process."""
        return self._once(
            "pipeline",
            lambda: Pipeline(
                self.settings,
                self.engine,
                observer=self.recorder,
                politeness=self.politeness,
                http=self.http,
                translator=self.batcher.translate,
            ),
        )
