"""Batching translation across documents inside one translate worker process.

The translate worker runs Celery's thread pool: each thread executes one task (one
document) and hands its document to this batcher, which waits until ``max_docs`` documents
are waiting or ``max_wait`` seconds have passed since the first, translates them all in one
engine call (one CTranslate2 ``translate_batch``), and wakes each thread with its own result.
Every task then publishes its own document and only then returns, so Celery acknowledges each
message after its result is stored, exactly as without batching; a crash loses nothing
because every message in the batch is still unacknowledged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .translate import Engine, TranslationResult


@dataclass
class _Request:
    lang: str
    title: str | None
    paragraphs: list[str]
    scope: str = "full"
    done: threading.Event = field(default_factory=threading.Event)
    result: TranslationResult | None = None
    error: BaseException | None = None


class TranslationBatcher:
    """Collects documents from many threads and translates them together."""

    def __init__(
        self,
        engine: Engine,
        max_docs: int = 8,
        max_wait: float = 0.5,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self.engine = engine
        self.on_batch = on_batch
        self.max_docs = max(1, max_docs)
        self.max_wait = max(0.0, max_wait)
        self._waiting: list[_Request] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self.batches = 0  # observability: how many engine calls were made

    def translate(
        self, lang: str, title: str | None, paragraphs: Sequence[str], scope: str = "full"
    ) -> TranslationResult:
        """Translate one document (to ``scope``), batched with whatever else arrives."""
        request = _Request(lang, title, list(paragraphs), scope)
        with self._cond:
            self._ensure_thread()
            self._waiting.append(request)
            self._cond.notify_all()
        request.done.wait()
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="translate-batcher", daemon=True)
            self._thread.start()

    def _take_batch(self) -> list[_Request]:
        with self._cond:
            while not self._waiting:
                self._cond.wait()
            deadline = time.monotonic() + self.max_wait
            while len(self._waiting) < self.max_docs:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch, self._waiting = self._waiting[: self.max_docs], self._waiting[self.max_docs :]
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            by_lang: dict[str, list[_Request]] = {}
            for request in batch:
                by_lang.setdefault(request.lang, []).append(request)
            for lang, requests in by_lang.items():
                started = time.perf_counter()
                try:
                    results = self.engine.translate_documents(
                        lang,
                        [(r.title, r.paragraphs) for r in requests],
                        [r.scope for r in requests],
                    )
                    self.batches += 1
                    if self.on_batch is not None:
                        self.on_batch(len(requests), time.perf_counter() - started)
                    for request, result in zip(requests, results, strict=True):
                        request.result = result
                except BaseException as exc:  # noqa: BLE001 - handed to every waiting task
                    for request in requests:
                        request.error = exc
                for request in requests:
                    request.done.set()
