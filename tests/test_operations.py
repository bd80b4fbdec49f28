"""Operations: health, stats, the metrics exporter, logs and graceful shutdown."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import redis

from service.embedded import free_port
from service.settings import Settings

from .conftest import EXTRACTION, REPO, SEEDS, Worker, run_cli
from .test_integration import wait_for

ENGLISH = SEEDS / "002_7cd7f66acb43cbd0.txt"


def test_health_fails_when_redis_is_unreachable(settings_env: dict[str, str]) -> None:
    env = dict(settings_env, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    out = run_cli(env, "health")
    assert out.returncode == 1
    assert "FAIL  redis unreachable" in out.stdout


def test_health_fails_when_a_queue_has_no_consumer(settings_env: dict[str, str]) -> None:
    out = run_cli(
        dict(settings_env, NEWSINGEST_REQUIRED_LANGUAGES="zh"), "health", "--timeout", "1"
    )
    assert out.returncode == 1
    assert "FAIL  queue ingest has no consumer" in out.stdout
    assert "FAIL  queue translate has no consumer" in out.stdout


def test_health_reports_a_missing_translation_package(
    settings_env: dict[str, str], worker: Worker
) -> None:
    out = run_cli(settings_env, "health", "--role", "translate", "--timeout", "1")
    assert out.returncode == 1
    assert "ok    translation package zh->en installed" in out.stdout
    assert "FAIL  translation package ko->en missing" in out.stdout


def test_health_passes_with_workers_and_packages(
    settings_env: dict[str, str], worker: Worker
) -> None:
    out = run_cli(dict(settings_env, NEWSINGEST_REQUIRED_LANGUAGES="zh"), "health")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ok    queue ingest has a consumer" in out.stdout


def test_stats_and_exporter_show_stage_metrics_after_work(
    settings_env: dict[str, str],
    settings: Settings,
    redis_client: redis.Redis,
    worker: Worker,
    tmp_path: Path,
) -> None:
    binary = tmp_path / "photo.html"
    binary.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40)  # a JPEG named .html
    assert run_cli(settings_env, "submit", str(ENGLISH), str(binary)).returncode == 0
    wait_for(lambda: redis_client.xlen(settings.documents_stream) == 1, "the document")
    wait_for(lambda: redis_client.xlen(settings.dead_stream) == 1, "the dead letter")
    out = run_cli(settings_env, "stats", "--json")
    stats = json.loads(out.stdout)
    assert stats["length"] == 1
    assert stats["metrics"]["counts"]["extract"] >= 1
    assert stats["metrics"]["errors"]["decode|binary_body"] == 1
    assert stats["dead"]["ingest"] == 1

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "exporter", "--port", str(port), "--bind",
         "127.0.0.1"], cwd=REPO, env=settings_env,
    )  # fmt: skip
    try:
        body = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "newsingest_stream_length" not in body:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
            except OSError:
                time.sleep(0.2)
        assert "newsingest_stream_length 1.0" in body
        assert 'newsingest_stage_errors_total{reason="binary_body",stage="decode"} 1.0' in body
        assert 'newsingest_stage_seconds_count{stage="extract"}' in body
        assert 'newsingest_dead_letters{stream="ingest"} 1.0' in body
    finally:
        proc.terminate()
        proc.wait(10)


def test_worker_logs_are_json_with_ids_and_no_article_text(
    settings_env: dict[str, str], settings: Settings, redis_client: redis.Redis, worker: Worker
) -> None:
    assert run_cli(settings_env, "submit", str(ENGLISH)).returncode == 0
    wait_for(lambda: redis_client.xlen(settings.documents_stream) == 1, "the document")
    wait_for(lambda: b'"stage": "publish"' in worker.log.read_bytes(), "the publish log line")
    records = [json.loads(line) for line in worker.log.read_text().splitlines()
               if line.startswith("{")]  # fmt: skip
    [published] = [r for r in records if r.get("stage") == "publish"]
    assert published["doc_id"] and published["task_id"] and published["url"] == str(ENGLISH)
    log_text = worker.log.read_text()
    body = ENGLISH.read_text(encoding="utf-8")
    assert "weighing export restrictions against China" in body
    assert "weighing export restrictions against China" not in log_text


def test_sigterm_mid_batch_loses_nothing(
    settings_env: dict[str, str], settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    with (EXTRACTION / "index.jsonl").open(encoding="utf-8") as fh:
        pages = [EXTRACTION / json.loads(line)["html"] for line in fh]
    chinese = [p for p in pages if p.parent.parent.name == "cwced_zh"][:8]
    first = Worker(settings_env, tmp_path / "w1.log").start()
    assert run_cli(settings_env, "submit", *map(str, chinese)).returncode == 0
    # Stop the worker while translations are running: some published, some not yet.
    wait_for(lambda: redis_client.xlen(settings.documents_stream) >= 1, "the first document")
    assert first.proc is not None
    first.proc.send_signal(signal.SIGTERM)
    first.proc.wait(120)
    published_before = redis_client.xlen(settings.documents_stream)
    second = Worker(settings_env, tmp_path / "w2.log").start()
    try:
        wait_for(
            lambda: (
                redis_client.xlen(settings.documents_stream)
                + redis_client.xlen(settings.dead_stream)
                >= len(chinese)
            ),
            "every page to come out",
        )
    finally:
        second.stop()
    ids = [f[b"id"] for _, f in redis_client.xrange(settings.documents_stream)]
    assert len(ids) == len(set(ids)) == len(chinese)
    assert published_before < len(chinese)
    assert socket.gethostname()  # the workers ran on this host, named <queue>@host
