"""End to end on real parts: a real Redis, a real Celery worker, the real zh->en package."""

from __future__ import annotations

import json
import time

import pytest
import redis

from service.consume import Consumer
from service.document import validate
from service.settings import Settings
from service.store import Store

from .conftest import (
    ENGLISH_SEED,
    EXTRACTION,
    GB2312_SMALL_PAGE,
    KOREAN_PAGE,
    SEEDS,
    Worker,
    run_cli,
)

pytestmark = pytest.mark.integration

# Bounds for waiting on the worker; generous because a 2-core CI box may be busy.
WAIT_SECONDS = 240


def wait_for(predicate: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {WAIT_SECONDS}s waiting for {what}")
        time.sleep(0.2)


def test_worker_ingests_chinese_korean_and_english_into_the_stream_once(
    settings_env: dict[str, str], settings: Settings, redis_client: redis.Redis, worker: Worker
) -> None:
    inputs = [EXTRACTION / GB2312_SMALL_PAGE, EXTRACTION / KOREAN_PAGE, SEEDS / ENGLISH_SEED]
    out = run_cli(settings_env, "submit", *map(str, inputs))
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 3

    consumer = Consumer(redis_client, settings.documents_stream, "itest", "reader-1")
    docs: dict[str, dict[str, object]] = {}
    deadline = time.monotonic() + WAIT_SECONDS
    while len(docs) < 3 and time.monotonic() < deadline:
        for entry in consumer.read(count=10, block_ms=500):
            validate(entry.document)
            docs[str(entry.document["language"])] = entry.document
            consumer.ack(entry.stream_id)
    assert sorted(docs) == ["en", "ko", "zh"], worker.log.read_text()[-3000:]

    zh = docs["zh"]
    assert zh["translation"]["status"] == "translated"  # type: ignore[index]
    assert isinstance(zh["text_en"], str) and "Xi Jinping" in zh["text_en"]
    assert docs["ko"]["translation"]["status"] == "missing_model"  # type: ignore[index]
    assert docs["ko"]["text_en"] is None
    assert docs["en"]["translation"]["status"] == "not_needed"  # type: ignore[index]

    # The same file again: the worker publishes it, the store recognises it, nothing is added.
    store = Store(redis_client, settings)
    english_id = str(docs["en"]["id"])
    assert store.times_seen(english_id) == 1
    again = run_cli(settings_env, "submit", str(SEEDS / ENGLISH_SEED))
    assert again.returncode == 0, again.stderr
    wait_for(lambda: store.times_seen(english_id) == 2, "the resubmitted file to be processed")
    assert redis_client.xlen(settings.documents_stream) == 3
    assert consumer.read(count=10, block_ms=200) == []


def test_consume_command_prints_documents_and_acks_them(
    settings_env: dict[str, str], settings: Settings, redis_client: redis.Redis, worker: Worker
) -> None:
    out = run_cli(settings_env, "submit", str(SEEDS / ENGLISH_SEED))
    assert out.returncode == 0, out.stderr
    consumed = run_cli(
        settings_env, "consume", "--group", "cli", "--count", "1", timeout=WAIT_SECONDS
    )
    assert consumed.returncode == 0, consumed.stderr
    doc = json.loads(consumed.stdout)
    validate(doc)
    pending = redis_client.xpending(settings.documents_stream, "cli")
    assert pending["pending"] == 0


def test_a_bad_input_becomes_a_dead_letter_and_the_worker_keeps_going(
    settings_env: dict[str, str],
    settings: Settings,
    redis_client: redis.Redis,
    worker: Worker,
    tmp_path: object,
) -> None:
    from pathlib import Path

    broken = Path(str(tmp_path)) / "binary.html"
    broken.write_bytes(b"\x00\x01\x02\xff" * 5000)
    out = run_cli(settings_env, "submit", str(broken), str(SEEDS / ENGLISH_SEED))
    assert out.returncode == 0, out.stderr
    store = Store(redis_client, settings)
    wait_for(lambda: len(store.dead_entries()) == 1, "the dead-letter entry")
    wait_for(lambda: redis_client.xlen(settings.documents_stream) == 1, "the good document")
    [dead] = store.dead_entries()
    assert dead["reason"] == "binary_body"
    assert json.loads(dead["input"])["location"] == str(broken)
    assert worker.proc is not None and worker.proc.poll() is None


def test_retranslate_requeues_missing_model_documents_once_a_package_exists(
    settings_env: dict[str, str],
    settings: Settings,
    redis_client: redis.Redis,
    packages_dir: object,
    tmp_path: object,
) -> None:
    """Korean is published untranslated; after a ko package appears it comes again translated."""
    import json as _json
    from pathlib import Path

    # A worker whose packages dir has no ko package yet.
    own = Path(str(tmp_path)) / "own-packages"
    own.mkdir()
    zh = next(p for p in Path(str(packages_dir)).iterdir() if p.is_dir())
    env = dict(settings_env, NEWSINGEST_PACKAGES_DIR=str(own))
    worker = Worker(env, Path(str(tmp_path)) / "worker.log").start()
    try:
        assert run_cli(env, "submit", str(EXTRACTION / KOREAN_PAGE)).returncode == 0
        wait_for(lambda: redis_client.xlen(settings.documents_stream) == 1, "the ko document")
        [(_sid, fields)] = redis_client.xrange(settings.documents_stream)
        first = _json.loads(fields[b"doc"])
        assert first["translation"]["status"] == "missing_model"

        # Install a "ko" package (the zh model relabelled: the same code path as a real one).
        ko = own / "translate-ko_en-test"
        ko.mkdir()
        for item in zh.iterdir():
            (ko / item.name).symlink_to(item)
        (ko / "metadata.json").unlink()
        meta = _json.loads((zh / "metadata.json").read_text())
        (ko / "metadata.json").write_text(_json.dumps({**meta, "from_code": "ko"}))

        out = run_cli(env, "retranslate", "--status", "missing_model")
        assert out.returncode == 0, out.stderr
        assert "queued 1 documents" in out.stderr
        wait_for(lambda: redis_client.xlen(settings.documents_stream) == 2, "the new version")
        second = _json.loads(redis_client.xrange(settings.documents_stream)[1][1][b"doc"])
        assert second["id"] == first["id"] and second["version"] == 2
        assert second["translation"]["status"] == "translated"
        assert second["translation"]["model"] == "translate-ko_en-test@1.9"
        assert second["text_en"] and second["text"] == first["text"]
    finally:
        worker.stop()


def test_a_threaded_translate_worker_batches_documents_across_tasks(
    settings_env: dict[str, str], settings: Settings, redis_client: redis.Redis, tmp_path: object
) -> None:
    from pathlib import Path

    with (EXTRACTION / "index.jsonl").open(encoding="utf-8") as fh:
        pages = [EXTRACTION / json.loads(line)["html"] for line in fh]
    chinese = [p for p in pages if p.parent.parent.name == "cwced_zh"][:6]
    env = dict(settings_env, NEWSINGEST_TRANSLATE_BATCH_MAX_WAIT="3")
    base = Path(str(tmp_path))
    # Ingest first, with no translate worker yet, so the translate queue fills up.
    ingest = Worker(env, base / "ingest.log", ["-Q", "ingest", "-c", "2"]).start()
    try:
        assert run_cli(env, "submit", *map(str, chinese)).returncode == 0
        wait_for(
            lambda: redis_client.llen(f"{settings.key_prefix}:celery:translate") == len(chinese),
            "all pages to wait for translation",
        )
        translate = Worker(
            env, base / "translate.log", ["-Q", "translate", "-P", "threads", "-c", "6"]
        ).start()
        try:
            wait_for(
                lambda: redis_client.xlen(settings.documents_stream) == len(chinese),
                "the translated documents",
            )
        finally:
            translate.stop()
    finally:
        ingest.stop()
    docs = [json.loads(f[b"doc"]) for _, f in redis_client.xrange(settings.documents_stream)]
    assert all(d["translation"]["status"] == "translated" for d in docs)
    counts = {
        k.decode(): int(v)
        for k, v in redis_client.hgetall(f"{settings.key_prefix}:metrics:count").items()
    }
    assert counts["translate"] == len(chinese)
    assert 1 <= counts["translate_batch"] < len(chinese)
