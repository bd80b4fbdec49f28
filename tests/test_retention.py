"""Bounded Redis state: what the stream trims takes its documents along, every index forgets,
and nothing that a steady input writes can pile up for ever (docs/stream.md, Retention)."""

from __future__ import annotations

import json
import logging
from typing import Any, cast

import pytest
import redis

from service.records import Document
from service.settings import Settings
from service.sources._parse import Entry
from service.sources._state import SeenStore, ValidatorStore
from service.store import TRIM_BATCH, Store
from service.stories import _TERM_KEEP, Annotation
from workers import outbox

from .test_store import make_doc

# About the median real document (7.5 kB of JSON, text and text_en), so memory figures mean
# something.
LONG_TEXT = "\n\n".join(f"Paragraph {i} of a report on the budget debate. " * 12 for i in range(6))


def doc(i: int, text: str = "Body paragraph one.\n\nBody paragraph two.") -> Document:
    return make_doc(text=f"{text}\n\nItem {i}.", url=f"https://news.example.com/r/{i}")


def stored_docs(client: redis.Redis, settings: Settings) -> tuple[int, int]:
    """(document hashes that still hold a document, tombstones)."""
    keys = set(client.scan_iter(match=settings.document_key("*"), count=1000))  # SCAN repeats
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.hexists(key, "doc")
    held = sum(bool(x) for x in pipe.execute())
    return held, len(keys) - held


def keys_memory(client: redis.Redis, settings: Settings) -> int:
    """Bytes Redis holds for this test's keys (MEMORY USAGE, all samples)."""
    keys = set(client.scan_iter(match=f"{settings.key_prefix}:*", count=1000))
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key, samples=0)
    return sum(int(n or 0) for n in pipe.execute())


def test_a_document_goes_when_its_entry_is_trimmed_by_count(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings.replace(stream_maxlen=3))
    docs = [doc(i) for i in range(3 + TRIM_BATCH)]
    for d in docs:
        store.publish(d, annotate=False)
    assert redis_client.xlen(settings.documents_stream) == 3
    assert [store.get(d.id) is not None for d in docs] == [False] * TRIM_BATCH + [True] * 3
    tombstone = settings.document_key(docs[0].id)
    assert not redis_client.hexists(tombstone, "doc")
    assert 0 < int(cast(int, redis_client.ttl(tombstone))) <= settings.dedupe_retention_days * 86400


def test_the_stream_is_trimmed_in_batches_never_more_than_a_batch_over_its_cap(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings.replace(stream_maxlen=10))
    lengths = []
    for i in range(200):
        store.publish(doc(i), annotate=False)
        lengths.append(int(cast(int, redis_client.xlen(settings.documents_stream))))
    assert max(lengths) == 10 + TRIM_BATCH - 1 and min(lengths[10:]) == 10
    assert stored_docs(redis_client, settings)[0] == lengths[-1]


def test_a_document_goes_when_its_entry_passes_the_age_limit(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings.replace(stream_max_age_days=1))
    old = [store.publish(doc(i), annotate=False) for i in range(TRIM_BATCH)]
    newest_ms = int(old[-1].stream_id.split("-")[0])
    while int(cast(Any, redis_client.time())[0]) * 1000 <= newest_ms + 1:
        pass  # the next entry must get a later millisecond than the cut below
    # "Now" one day after just past the last old entry: all old entries are over the age.
    store.clock = lambda: (newest_ms + 1.5) / 1000 + 86400
    fresh = doc(TRIM_BATCH)
    store.publish(fresh, annotate=False)
    assert redis_client.xlen(settings.documents_stream) == 1
    assert [store.get(doc(i).id) for i in range(TRIM_BATCH)] == [None] * TRIM_BATCH
    assert store.get(fresh.id) is not None


def test_a_document_stays_while_a_newer_version_of_it_is_in_the_stream(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings.replace(stream_maxlen=3))
    store.publish(doc(0), annotate=False)
    store.publish(doc(1), annotate=False)
    for i in range(2, 2 + TRIM_BATCH - 1):
        store.publish(doc(i), annotate=False)
    update = doc(0, text="Body paragraph one.\n\nA correction was appended.")
    assert store.publish(update, annotate=False).version == 2
    store.publish(doc(99), annotate=False)  # trims the first 50: doc 0 v1 and doc 1 among them
    assert redis_client.xlen(settings.documents_stream) == 3
    stored = store.get(update.id)
    assert stored is not None and stored["version"] == 2
    assert store.get(doc(1).id) is None


def test_a_trimmed_document_keeps_its_revision_and_version_for_the_dedupe_retention(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings.replace(stream_maxlen=1))
    first = doc(0)
    for d in [first, *(doc(i) for i in range(1, 1 + TRIM_BATCH))]:
        store.publish(d, annotate=False)
    again = store.publish(first, annotate=False)  # a late retry of the same revision
    assert not again.added and store.get(first.id) is None
    changed = store.publish(doc(0, text="Changed body.\n\nNew paragraph."), annotate=False)
    assert changed.added and changed.version == 2
    assert redis_client.ttl(settings.document_key(first.id)) == -1  # live again
    assert store.get(first.id) is not None


def test_a_document_stored_before_revision_digests_is_still_recognised(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings.replace(stream_maxlen=1))
    first = doc(0)
    store.publish(first, annotate=False)
    outcome = first.translation
    full = f"{first.content_hash}|{outcome.get('status')}|{outcome.get('model')}"
    redis_client.hset(settings.document_key(first.id), "revision", full)  # as stored before
    assert not store.publish(first, annotate=False).added
    for i in range(1, 1 + TRIM_BATCH):
        store.publish(doc(i), annotate=False)
    assert store.get(first.id) is None  # forgotten, its tombstone holds the digest
    assert not store.publish(first, annotate=False).added


def test_entries_the_ledger_does_not_know_are_trimmed_with_their_documents(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """Entries written before the ledger existed (an upgrade), and a `dead replay` copy."""
    store = Store(redis_client, settings.replace(stream_maxlen=0))
    for i in range(60):
        store.publish(doc(i), annotate=False)
    redis_client.delete(store.ledger_key)  # as before the upgrade
    store.publish(doc(60), annotate=False)
    replayed = {"id": doc(0).id, "version": "1", "doc": "{}", "replayed_from": "1-0"}
    redis_client.xadd(settings.documents_stream, replayed)  # type: ignore[arg-type]
    capped = Store(redis_client, settings.replace(stream_maxlen=2))
    capped.publish(doc(61), annotate=False)  # 63 entries: the first 61 go
    assert redis_client.xlen(settings.documents_stream) == 2
    assert [capped.get(doc(i).id) is not None for i in range(62)] == [False] * 61 + [True]
    assert redis_client.llen(capped.ledger_key) == 1


def test_stored_documents_level_off_under_a_steady_input(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings.replace(stream_maxlen=100))
    size = len(doc(0, LONG_TEXT).to_json_bytes())
    memory = []
    for start in range(0, 2000, 100):
        store.publish_many([doc(i, LONG_TEXT) for i in range(start, start + 100)], annotate=False)
        if start + 100 in (1000, 2000):
            memory.append(keys_memory(redis_client, settings))
    held, tombstones = stored_docs(redis_client, settings)
    assert (
        held == int(cast(int, redis_client.xlen(settings.documents_stream))) <= 100 + TRIM_BATCH - 1
    )
    assert tombstones == 2000 - held
    # After the stream is full, a publish adds a tombstone and an index key, not a document.
    per_doc = (memory[1] - memory[0]) / 1000
    assert per_doc < size / 10, (per_doc, size)
    assert memory[1] < 2000 * size / 4


def _published_then_trimmed_as_before(
    settings: Settings, redis_client: redis.Redis, docs: int
) -> Store:
    """``docs`` documents published uncapped, then all but the last entry trimmed as the old
    XADD MAXLEN ~ did: the entries go, their hashes stay."""
    store = Store(redis_client, settings.replace(stream_maxlen=0))
    for i in range(docs):
        store.publish(doc(i), annotate=False)
    redis_client.xtrim(settings.documents_stream, maxlen=1, approximate=False)
    return store


def test_hashes_of_entries_trimmed_before_the_script_trimmed_them_can_be_forgotten(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = _published_then_trimmed_as_before(settings, redis_client, 4)
    assert store.forget_trimmed() == 3
    assert [store.get(doc(i).id) is not None for i in range(4)] == [False, False, False, True]
    assert store.forget_trimmed() == 0


def test_a_trimmed_document_leaves_a_tombstone_that_get_can_name(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = _published_then_trimmed_as_before(settings, redis_client, 2)
    assert store.forget_trimmed() == 1
    gone = store.tombstone(doc(0).id)
    assert gone is not None and gone["version"] == "1"
    assert store.tombstone(doc(1).id) is None  # still stored
    assert store.tombstone("no-such-id") is None


def test_upgrade_forgets_what_older_versions_left_once_per_deployment(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = _published_then_trimmed_as_before(settings, redis_client, 3)
    assert store.upgrade() == 2
    # A second start does nothing, even when there would be something to forget.
    store.publish(doc(3), annotate=False)
    redis_client.xtrim(settings.documents_stream, maxlen=1, approximate=False)
    assert store.upgrade() is None
    assert store.get(doc(2).id) is not None


def test_the_ingest_dead_letter_stream_is_capped(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings.replace(stream_maxlen=10))
    for i in range(300):
        store.dead_letter(input={"i": i}, reason="r", error="e", stage="fetch", attempts=1)
    # Approximate, like a MAXLEN ~: at most one radix-tree node (100 entries) over the cap.
    assert int(cast(int, redis_client.xlen(settings.dead_stream))) <= 110


def _note(doc_id: str, fingerprint: int, terms: list[str], at: float) -> Annotation:
    vector = {t: 1.0 for t in terms}
    return Annotation(doc_id, doc_id, None, fingerprint, vector, at, False)


def test_near_duplicate_bands_forget_members_after_the_retention(
    settings: Settings, redis_client: redis.Redis
) -> None:
    index = Store(redis_client, settings).stories
    retention = index.policy.retention_seconds
    t0 = 1_800_000_000.0
    pipe = redis_client.pipeline(transaction=False)
    index.record(pipe, _note("old", 0xABCD, ["budget"], t0), now=t0)
    index.record(pipe, _note("new", 0xABCD, ["budget"], t0 + retention + 1), now=t0 + retention + 1)
    pipe.execute()
    for key in index._band_keys(0xABCD):
        members = [
            m.decode().split(":")[0] for m in cast(list[bytes], redis_client.zrange(key, 0, -1))
        ]
        assert members == ["new"]


def test_story_terms_forget_old_members_and_keep_at_most_the_latest_few(
    settings: Settings, redis_client: redis.Redis
) -> None:
    index = Store(redis_client, settings).stories
    retention = index.policy.retention_seconds
    now = 1_800_000_000.0
    pipe = redis_client.pipeline(transaction=False)
    index.record(pipe, _note("ancient", 1, ["budget"], now - retention - 10), now=now)
    for i in range(_TERM_KEEP + 50):
        index.record(pipe, _note(f"d{i}", i, ["budget"], now - 1000 + i), now=now)
    pipe.execute()
    key = index._term_key("budget")
    assert redis_client.zcard(key) == _TERM_KEEP
    assert redis_client.zscore(key, "ancient") is None
    assert redis_client.zscore(key, f"d{_TERM_KEEP + 49}") is not None  # the latest stay
    assert redis_client.zscore(key, "d0") is None


def test_seen_feed_items_and_validators_expire(
    settings: Settings, redis_client: redis.Redis
) -> None:
    from service.fetch import Validators

    seen = SeenStore(redis_client, settings)
    seen.mark("feed-a", [Entry("https://news.example.com/item", "v1")])
    seen.mark("feed-b", [Entry("https://news.example.com/item", "v1")])
    [key] = set(redis_client.scan_iter(match=f"{settings.key_prefix}:seen:*"))
    assert 0 < int(cast(int, redis_client.ttl(key))) <= settings.seen_ttl
    ValidatorStore(redis_client, settings).put("https://news.example.com/feed", Validators("e"))
    [key] = set(redis_client.scan_iter(match=f"{settings.key_prefix}:http:*"))
    assert 0 < int(cast(int, redis_client.ttl(key))) <= settings.seen_ttl


class _Recorder:
    """A stand-in for the Celery app's send_task that keeps what would be sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_task(self, name: str, args: list[object], queue: str, task_id: str) -> None:
        self.sent.append(task_id)


def test_an_outbox_record_that_never_finishes_is_dead_lettered_after_its_resends(
    settings: Settings, redis_client: redis.Redis
) -> None:
    app: Any = _Recorder()
    task_id = outbox.Producer(app, redis_client, settings).ingest({"kind": "url", "location": "x"})
    now = json.loads(cast(bytes, redis_client.hget(outbox.outbox_key(settings), task_id)))["at"]
    for _ in range(settings.task_max_deliveries + 3):
        now += settings.visibility_timeout + 1
        outbox.sweep(app, redis_client, settings, now=now)
    assert len(app.sent) == 1 + settings.task_max_deliveries
    assert outbox.pending(redis_client, settings) == 0
    [letter] = Store(redis_client, settings).dead_entries()
    assert letter["reason"] == "outbox_gave_up" and letter["task_id"] == task_id
    assert json.loads(letter["input"]) == {"kind": "url", "location": "x"}


def test_an_unreadable_outbox_record_is_dropped_with_a_warning(
    settings: Settings, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    redis_client.hset(outbox.outbox_key(settings), "broken", "{not json")
    with caplog.at_level(logging.WARNING, logger="newsingest.workers"):
        assert outbox.sweep(cast(Any, _Recorder()), redis_client, settings) == 0
    assert outbox.pending(redis_client, settings) == 0
    assert any("broken" in r.getMessage() for r in caplog.records)
