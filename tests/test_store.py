"""Publishing and dead letters on a real Redis."""

from __future__ import annotations

import dataclasses
import json

import redis

from service.consume import Consumer
from service.normalise import content_hash, document_id
from service.records import Document
from service.settings import Settings
from service.store import Store


def make_doc(
    text: str = "Body paragraph one.\n\nBody paragraph two.",
    url: str | None = "https://news.example.com/a/1",
) -> Document:
    hash_ = content_hash("A title", text)
    return Document(
        id=document_id(url, hash_), url=url,
        source={"kind": "url", "location": url or "/tmp/x.txt",
                "fetched_at": "2026-11-22T07:00:00.000000Z"},
        language="en", language_confidence=0.99, script="Latn", title="A title", text=text,
        title_en="A title", text_en=text,
        translation={"status": "not_needed", "engine": None, "model": None, "seconds": 0.0,
                     "detail": None},
        authors=[], published_at=None, site_name=None, canonical_url=url, description=None,
        encoding={"name": "utf-8", "reason": "http-charset"}, content_hash=hash_,
        ingested_at="2026-11-22T07:00:01.000000Z",
    )  # fmt: skip


def test_publish_adds_one_stream_entry_and_stores_the_document(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings)
    doc = make_doc()
    result = store.publish(doc)
    assert result.added and result.version == 1
    assert redis_client.xlen(settings.documents_stream) == 1
    stored = store.get(doc.id)
    assert stored is not None and stored["id"] == doc.id and stored["version"] == 1


def test_publishing_the_same_document_twice_adds_nothing(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings)
    doc = make_doc()
    first = store.publish(doc)
    second = store.publish(dataclasses.replace(doc, ingested_at="2026-11-22T08:00:00Z"))
    assert not second.added
    assert second.stream_id == first.stream_id
    assert redis_client.xlen(settings.documents_stream) == 1
    assert store.times_seen(doc.id) == 2


def test_changed_content_at_the_same_url_is_a_new_version(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings)
    store.publish(make_doc())
    changed = make_doc(text="Body paragraph one.\n\nA correction was appended.")
    result = store.publish(changed)
    assert result.added and result.version == 2
    entries = redis_client.xrange(settings.documents_stream)
    assert [json.loads(f[b"doc"])["version"] for _, f in entries] == [1, 2]


def test_stream_entry_carries_a_schema_valid_document_with_its_version(
    settings: Settings, redis_client: redis.Redis
) -> None:
    from service.document import validate

    Store(redis_client, settings).publish(make_doc())
    consumer = Consumer(redis_client, settings.documents_stream, "g1", "c1")
    [entry] = consumer.read(count=10, block_ms=100)
    validate(entry.document)
    assert entry.version == entry.document["version"] == 1
    assert consumer.ack(entry.stream_id) == 1


def test_two_consumers_in_one_group_split_the_entries(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings)
    for i in range(4):
        store.publish(make_doc(url=f"https://news.example.com/a/{i}"))
    a = Consumer(redis_client, settings.documents_stream, "g", "a")
    b = Consumer(redis_client, settings.documents_stream, "g", "b")
    got_a = a.read(count=2, block_ms=100)
    got_b = b.read(count=10, block_ms=100)
    ids_a = {e.doc_id for e in got_a}
    ids_b = {e.doc_id for e in got_b}
    assert len(ids_a) == 2 and len(ids_b) == 2 and not ids_a & ids_b


def test_dead_letter_carries_reason_input_and_attempts(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings)
    store.dead_letter(
        input={"kind": "file", "location": "/nope"},
        reason="file_not_found",
        error="file not found: /nope",
        stage="ingest",
        attempts=1,
        task_id="t-1",
    )
    [entry] = store.dead_entries()
    assert entry["reason"] == "file_not_found"
    assert json.loads(entry["input"]) == {"kind": "file", "location": "/nope"}
    assert entry["attempts"] == "1" and entry["stage"] == "ingest" and entry["at"]


def test_a_task_dead_letters_once_however_often_it_runs(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings)
    for _ in range(3):
        store.dead_letter(
            input={"kind": "file", "location": "/nope"},
            reason="file_not_found",
            error="gone",
            stage="ingest",
            attempts=1,
            task_id="same-task",
        )
    assert redis_client.xlen(settings.dead_stream) == 1


def test_publishing_after_redis_lost_its_scripts_loads_the_script_again(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """A restarted server has no scripts: the publish loads it on NOSCRIPT, once."""
    store = Store(redis_client, settings)
    first = store.publish(make_doc())
    redis_client.script_flush()
    second = store.publish(make_doc(url="https://news.example.com/a/2"))
    assert first.added and second.added
    assert redis_client.xlen(settings.documents_stream) == 2


def test_a_batch_of_annotated_documents_sees_its_own_earlier_members(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings)
    text = "Parliament passed the budget after a long night of debate. " * 20
    first, copy = make_doc(text=text), make_doc(text=text + " Updated.", url="https://b.example/x")
    store.publish_many([first, copy])
    stored = store.get(copy.id)
    assert stored is not None
    assert stored["duplicate_of"] == first.id and stored["story_id"] == first.id
