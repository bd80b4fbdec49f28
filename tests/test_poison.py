"""Poison inputs: a page that keeps killing its worker process is dead-lettered after
``task_max_deliveries`` runs instead of being redelivered forever; a page that needs more
memory than one task may have fails its own task (``memory_limit``) and leaves the worker
serving; a retry is not a lost worker. A real Redis, a real Celery worker, real inputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
import redis

from devtools.harness import process_children
from devtools.http_fixtures import Request, Site
from service.settings import Settings
from workers import outbox
from workers.runtime import address_space_mib

from .conftest import ENGLISH_SEED, REPO, SEEDS, Worker, run_cli

pytestmark = pytest.mark.integration

# Bounds for waiting on the worker; generous because a 2-core CI box may be busy.
WAIT_SECONDS = 240


def wait_for(predicate: Callable[[], object], what: str, worker: Worker) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {WAIT_SECONDS}s waiting for {what}:\n{tail(worker)}")
        time.sleep(0.1)


def tail(worker: Worker) -> str:
    return worker.log.read_text(errors="replace")[-4000:]


def pool_children(worker: Worker) -> list[int]:
    """The worker's prefork pool processes (children of its main process), from /proc."""
    assert worker.proc is not None
    return process_children().get(worker.proc.pid, [])


def dead_letters(client: redis.Redis, settings: Settings) -> list[dict[str, str]]:
    entries = cast(list[tuple[bytes, dict[bytes, bytes]]], client.xrange(settings.dead_stream))
    return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]


def submit(env: dict[str, str], *inputs: str) -> None:
    out = run_cli(env, "submit", *inputs)
    assert out.returncode == 0, out.stderr


def assert_worker_still_serves(
    env: dict[str, str], settings: Settings, client: redis.Redis, worker: Worker
) -> None:
    """The worker is alive and a normal input still becomes a document; then nothing is
    left waiting: no queued or unacknowledged message, no outbox record, no delivery count."""
    assert worker.proc is not None and worker.proc.poll() is None, tail(worker)
    submit(env, str(SEEDS / ENGLISH_SEED))
    wait_for(lambda: client.xlen(settings.documents_stream) == 1, "a normal document", worker)
    prefix = settings.key_prefix

    def settled() -> bool:
        waiting = [cast(int, client.llen(f"{prefix}:celery:{q}")) for q in outbox.QUEUES]
        waiting.append(cast(int, client.hlen(f"{prefix}:celery:unacked")))
        waiting.append(outbox.pending(client, settings))
        counts = list(client.scan_iter(match=f"{prefix}:deliveries:*"))
        return not any(waiting) and not counts

    wait_for(settled, "queues, outbox and delivery counts to empty", worker)


def fetched(site: Site, path: str, times: int) -> Callable[[], bool]:
    return lambda: site.hits(path) == times


@pytest.fixture
def base_env(settings_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Files may be submitted from the test's directory and the seeds."""
    return {**settings_env, "NEWSINGEST_FILE_ROOTS": f"{tmp_path}:{SEEDS}"}


@pytest.fixture
def fetch_env(base_env: dict[str, str]) -> dict[str, str]:
    """Loopback fetches allowed, no politeness delay, and enough per-host slots that the
    slots of killed processes (held until their lease ends) never hold a fetch back."""
    return {
        **base_env,
        "NEWSINGEST_FETCH_ALLOW": "127.0.0.0/8:*",
        "NEWSINGEST_FETCH_HOST_DELAY": "0",
        "NEWSINGEST_FETCH_HOST_CONCURRENCY": "20",
        "NEWSINGEST_RETRY_BACKOFF_MAX": "1",
    }


def test_a_page_that_keeps_killing_its_worker_process_is_dead_lettered_as_worker_lost(
    fetch_env: dict[str, str],
    settings: Settings,
    redis_client: redis.Redis,
    site: Site,
    tmp_path: Path,
) -> None:
    """Each time the page is being fetched its pool process is SIGKILLed (as the kernel's
    OOM killer would): Celery puts the task back each time; the delivery count ends it."""
    release = threading.Event()

    def hang(req: Request) -> None:
        release.wait(WAIT_SECONDS)

    site.routes["/poison.html"] = hang
    env = {**fetch_env, "NEWSINGEST_TASK_MAX_DELIVERIES": "3"}
    worker = Worker(env, tmp_path / "worker.log", ["-Q", "ingest", "-c", "1"]).start()
    try:
        url = site.url("/poison.html")
        submit(env, url)
        for run in (1, 2, 3):
            wait_for(fetched(site, "/poison.html", run), f"fetch {run}", worker)
            for pid in pool_children(worker):
                os.kill(pid, signal.SIGKILL)

        wait_for(lambda: dead_letters(redis_client, settings), "the dead letter", worker)
        [entry] = dead_letters(redis_client, settings)
        assert entry["reason"] == "worker_lost", entry
        assert entry["attempts"] == "3"
        assert entry["stage"] == "ingest"
        assert json.loads(entry["input"])["location"] == url
        assert_worker_still_serves(env, settings, redis_client, worker)
        assert site.hits("/poison.html") == 3  # the fourth delivery was not run
        assert len(dead_letters(redis_client, settings)) == 1
    finally:
        release.set()
        worker.stop()


def test_retries_do_not_count_as_lost_workers(
    fetch_env: dict[str, str],
    settings: Settings,
    redis_client: redis.Redis,
    site: Site,
    tmp_path: Path,
) -> None:
    """With one delivery allowed per message, a page that answers 503 twice is retried
    twice (each retry a new message) and published: only runs that died are counted."""
    article = (SEEDS / ENGLISH_SEED).read_bytes()
    busy = {"Content-Type": "text/plain", "Retry-After": "0"}
    site.sequence(
        "/busy.txt",
        [
            (503, b"busy", busy),
            (503, b"busy", busy),
            (200, article, {"Content-Type": "text/plain"}),
        ],
    )
    env = {**fetch_env, "NEWSINGEST_TASK_MAX_DELIVERIES": "1"}
    worker = Worker(env, tmp_path / "worker.log", ["-Q", "ingest", "-c", "2"]).start()
    try:
        submit(env, site.url("/busy.txt"))
        wait_for(lambda: redis_client.xlen(settings.documents_stream) == 1, "the document", worker)
        assert site.hits("/busy.txt") == 3
        assert dead_letters(redis_client, settings) == []
        assert not list(redis_client.scan_iter(match=f"{settings.key_prefix}:deliveries:*"))
    finally:
        worker.stop()


# The ceiling of the memory test, MiB: an idle pool process maps about 210 MiB (Linux x86-64,
# this venv), the English seed needs a few MiB more, and the page below about 400 MiB more.
TEST_MEMORY_LIMIT_MB = 450


def address_space_limit(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max address space"):
            return line.split()[3]
    return ""


def test_a_page_that_needs_more_memory_than_a_task_may_have_is_dead_lettered_as_memory_limit(
    base_env: dict[str, str],
    settings: Settings,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    """190,000 empty paragraphs (1.5 MB, under parse_max_elements) take about 400 MiB to
    parse and extract. With the pool process's ceiling at 450 MiB an allocation fails inside
    the task, which ends as one ``memory_limit`` dead letter: not a dead worker, not a
    redelivery. The process, whose peak RSS passed worker_max_memory_per_child, is replaced."""
    page = tmp_path / "paragraphs.html"
    page.write_bytes(b"<html><body>" + b"<p>x</p>" * 190_000 + b"</body></html>")
    env = {
        **base_env,
        "NEWSINGEST_TASK_MEMORY_LIMIT_MB": str(TEST_MEMORY_LIMIT_MB),
        "NEWSINGEST_WORKER_MAX_MEMORY_PER_CHILD": "256000",
        "NEWSINGEST_PARSE_MAX_ELEMENTS": "1000000",
    }
    worker = Worker(env, tmp_path / "worker.log", ["-Q", "ingest", "-c", "1"]).start()
    try:
        [child] = pool_children(worker)
        assert address_space_limit(child) == str(TEST_MEMORY_LIMIT_MB * 1024 * 1024)
        idle = address_space_mib("VmSize", child)
        assert idle + 150 < TEST_MEMORY_LIMIT_MB, f"an idle pool process maps {idle} MiB"

        submit(env, str(page))
        wait_for(lambda: dead_letters(redis_client, settings), "the dead letter", worker)
        [entry] = dead_letters(redis_client, settings)
        assert entry["reason"] == "memory_limit", entry
        assert entry["attempts"] == "1"
        assert entry["stage"] == "extract"
        assert json.loads(entry["input"])["location"] == str(page)
        assert_worker_still_serves(env, settings, redis_client, worker)
        assert len(dead_letters(redis_client, settings)) == 1
    finally:
        worker.stop()


def test_a_worker_serving_translate_has_no_memory_ceiling(
    base_env: dict[str, str], redis_client: redis.Redis, tmp_path: Path
) -> None:
    """A loaded translation model maps far more address space than it uses."""
    env = {**base_env, "NEWSINGEST_TASK_MEMORY_LIMIT_MB": str(TEST_MEMORY_LIMIT_MB)}
    worker = Worker(env, tmp_path / "worker.log", ["-Q", "ingest,translate", "-c", "1"]).start()
    try:
        [child] = pool_children(worker)
        assert address_space_limit(child) == "unlimited"
    finally:
        worker.stop()


# A library that turns a failed allocation into an error of its own (trafilatura, libxml2)
# stands here as a loop that swallows MemoryError, in a process with a real ceiling.
CEILING_PROBE = """
from types import SimpleNamespace
from workers.middleware import MemoryCeiling, ran_into_ceiling
from workers.runtime import address_space_mib, limit_address_space
limit_address_space(address_space_mib() + 200)
task = SimpleNamespace(request=SimpleNamespace())
MemoryCeiling().before_task(task, "task-1")
before = ran_into_ceiling(task)
hoard = []
try:
    while True:
        hoard.append(bytearray(1 << 20))
except MemoryError:
    hoard.clear()
print(before, ran_into_ceiling(task))
"""


def test_a_failure_after_the_task_ran_into_its_memory_ceiling_is_put_down_to_memory() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CEILING_PROBE],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]
