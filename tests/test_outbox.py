"""The task outbox: a task lost between the broker's queue and its unacked record comes back."""

from __future__ import annotations

import json
import logging

import pytest
import redis

from service.settings import Settings
from workers import outbox
from workers.middleware import OutboxMiddleware
from workers.runtime import Services

from .conftest import SEEDS, Worker, run_cli
from .test_integration import wait_for


class _Recorder:
    """A stand-in for the Celery app's send_task that keeps what would be sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_task(self, name: str, args: list[object], queue: str, task_id: str) -> None:
        self.sent.append((name, task_id))


def test_a_record_older_than_the_visibility_timeout_is_sent_again(
    settings: Settings, redis_client: redis.Redis
) -> None:
    app = _Recorder()
    task_id = outbox.Producer(app, redis_client, settings).ingest({"x": 1})  # type: ignore[arg-type]
    assert outbox.sweep(app, redis_client, settings) == 0  # type: ignore[arg-type]
    later = json.loads(redis_client.hget(outbox.outbox_key(settings), task_id))["at"]
    resent = outbox.sweep(app, redis_client, settings, now=later + settings.visibility_timeout + 1)  # type: ignore[arg-type]
    assert resent == 1
    assert app.sent == [("newsingest.ingest", task_id), ("newsingest.ingest", task_id)]


def test_a_finished_task_leaves_no_outbox_record(
    settings_env: dict[str, str], settings: Settings, redis_client: redis.Redis, worker: Worker
) -> None:
    assert run_cli(settings_env, "submit", str(SEEDS / "002_7cd7f66acb43cbd0.txt")).returncode == 0
    wait_for(lambda: redis_client.xlen(settings.documents_stream) == 1, "the document")
    wait_for(lambda: outbox.pending(redis_client, settings) == 0, "the record to be cleared")


class _FinishedTask:
    name = "newsingest.ingest"


def test_a_failed_outbox_clear_is_logged_not_swallowed(
    settings: Settings, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    # The outbox key holding the wrong type makes HDEL fail at once, as a broken Redis would.
    redis_client.set(outbox.outbox_key(settings), "not a hash")
    middleware = OutboxMiddleware(Services(settings))
    with caplog.at_level(logging.WARNING, logger="newsingest.workers"):
        middleware.after_task(_FinishedTask(), "task-1", "SUCCESS")  # type: ignore[arg-type]
    [record] = [r for r in caplog.records if "outbox" in r.getMessage()]
    assert "task-1" in record.getMessage() and "WRONGTYPE" in record.getMessage()
