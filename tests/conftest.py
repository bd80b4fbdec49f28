"""Shared fixtures: the shared corpus, a real Redis (embedded unless configured), the real
zh->en package installed once per session, and a real Celery worker subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from devtools.http_fixtures import Site
from service.embedded import EmbeddedRedis
from service.models import install_from
from service.settings import Settings, load_settings
from workers.cli.running import worker_argv

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSINGEST_SHARED_DIR", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"
EXTRACTION = CORPUS / "extraction"
SEEDS = SHARED / "seeds"
MODELS = SHARED / "models"

# Pages used across tests, chosen from extraction/index.jsonl.
GBK_PAGE = "cwced_zh/pages/5acac71b-e2db-4e33-8e2f-9d6844f165fd.html"  # gbk, not UTF-8
GB2312_SMALL_PAGE = "cwced_zh/pages/f70d9c97-9d64-415e-a7e4-840c9258eaf5.html"
KOREAN_PAGE = "fundus_fixtures/pages/kr_HankookIlbo_2025_05_15.html"
ENGLISH_SEED = "002_7cd7f66acb43cbd0.txt"


def gold(page: str) -> dict[str, Any]:
    """The gold record of an extraction page, by its path relative to extraction/."""
    set_name = page.split("/", 1)[0]
    with (EXTRACTION / set_name / "gold.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            record: dict[str, Any] = json.loads(line)
            if record["html"] == page:
                return record
    raise KeyError(page)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared is missing: expected the shared corpus and models at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def packages_dir(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Path:
    """The real zh->en argos package, installed once for the session."""
    target = tmp_path_factory.mktemp("packages")
    install_from(MODELS, target)
    return target


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """NEWSINGEST_TEST_REDIS_URL when set, else an embedded Redis of our own."""
    configured = os.environ.get("NEWSINGEST_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server.url
    finally:
        server.stop()


def _env(base: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSINGEST_")}
    env.pop("REDIS_URL", None)
    env.update(base)
    return env


@pytest.fixture
def settings_env(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, packages_dir: Path, redis_url: str
) -> dict[str, str]:
    """Environment for a test's own key prefix, data dir and the session's packages; workers
    may read files from the checkout, the shared corpus and seeds, and the tests' tmp dirs."""
    roots = [REPO, SHARED, tmp_path_factory.getbasetemp()]
    return _env(
        {
            "REDIS_URL": redis_url,
            "NEWSINGEST_KEY_PREFIX": f"nitest-{uuid.uuid4().hex[:12]}",
            "NEWSINGEST_DATA_DIR": str(tmp_path / "data"),
            "NEWSINGEST_PACKAGES_DIR": str(packages_dir),
            "NEWSINGEST_MODELS_DIR": "",
            "NEWSINGEST_FILE_ROOTS": ":".join(str(r) for r in roots),
        }
    )


@pytest.fixture
def settings(settings_env: dict[str, str]) -> Settings:
    return load_settings(settings_env)


@pytest.fixture
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.redis_url)
    try:
        yield client
    finally:
        keys = list(client.scan_iter(match=f"{settings.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


class Worker:
    """A real `celery worker` subprocess serving both queues."""

    def __init__(self, env: dict[str, str], log: Path, args: list[str] | None = None) -> None:
        self.env = env
        self.log = log
        args = list(args or ["-c", "2"])
        # "-Q QUEUES" among the args names the queues; both by default.
        self.queue = args.pop(args.index("-Q") + 1) if "-Q" in args else "ingest,translate"
        self.args = [a for a in args if a != "-Q"]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> Worker:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                worker_argv(
                    self.queue,
                    name=f"test-{uuid.uuid4().hex[:6]}@%h",
                    extra=[*self.args, "--without-mingle", "--without-gossip"],
                ),
                cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("celery worker did not start:\n" + self.log.read_text()[-4000:])
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def worker(
    settings_env: dict[str, str], tmp_path: Path, redis_client: redis.Redis
) -> Iterator[Worker]:
    w = Worker(settings_env, tmp_path / "worker.log").start()
    try:
        yield w
    finally:
        w.stop()


def run_cli(
    env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        cwd=REPO, env=env, input=stdin, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.fixture
def site() -> Iterator[Site]:
    """A real HTTP server on loopback; a test module may define its own with pages on it."""
    with Site() as server:
        yield server


@pytest.fixture
def polite_settings(settings: Settings) -> Settings:
    """Settings whose fetches may reach the loopback site, with no per-host delay."""
    return settings.replace(fetch_allow="127.0.0.1:*", fetch_host_delay=0.0, robots_ttl=600)
