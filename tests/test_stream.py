"""The document stream's contract for consumers, on a real Redis."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import pytest
import redis

from service.consume import Consumer, stream_stats
from service.document import validate
from service.embedded import EmbeddedRedis
from service.errors import IngestError
from service.fetch import Source
from service.pipeline import Pipeline
from service.settings import Settings
from service.store import Store

from .conftest import EXTRACTION, SEEDS
from .test_store import make_doc


def consumer(client: redis.Redis, settings: Settings, name: str, **kw: int) -> Consumer:
    return Consumer(
        client, settings.documents_stream, "g", name,
        dead_stream=settings.documents_dead_stream, **kw,
    )  # fmt: skip


def publish_n(store: Store, n: int) -> list[str]:
    return [
        store.publish(make_doc(url=f"https://news.example.com/{i}")).stream_id for i in range(n)
    ]


def test_a_consumer_that_dies_without_acking_has_its_entries_reclaimed(
    settings: Settings, redis_client: redis.Redis
) -> None:
    publish_n(Store(redis_client, settings), 3)
    doomed = consumer(redis_client, settings, "doomed", reclaim_idle_ms=50)
    taken = doomed.read(count=3, block_ms=100)
    assert len(taken) == 3  # ... and then it dies without acking
    time.sleep(0.1)  # let the entries become idle for longer than reclaim_idle_ms
    survivor = consumer(redis_client, settings, "survivor", reclaim_idle_ms=50)
    reclaimed = survivor.read(count=10, block_ms=100)
    assert {e.stream_id for e in reclaimed} == {e.stream_id for e in taken}
    assert all(e.deliveries == 2 for e in reclaimed)
    survivor.ack(*(e.stream_id for e in reclaimed))
    assert redis_client.xpending(settings.documents_stream, "g")["pending"] == 0


def test_a_poison_entry_lands_in_the_dead_stream_after_n_deliveries(
    settings: Settings, redis_client: redis.Redis
) -> None:
    [sid] = publish_n(Store(redis_client, settings), 1)
    deliveries = 0
    for attempt in range(6):
        c = consumer(redis_client, settings, f"c{attempt}", reclaim_idle_ms=0, max_deliveries=3)
        got = c.read(count=1, block_ms=50)
        deliveries += len(got)  # never acked: the consumer "crashes" on it every time
    assert deliveries == 3
    [(dead_id, fields)] = redis_client.xrange(settings.documents_dead_stream)
    assert fields[b"source_id"].decode() == sid
    assert fields[b"deliveries"] == b"3"
    assert b"not acked after 3 deliveries" in fields[b"reason"]
    assert redis_client.xpending(settings.documents_stream, "g")["pending"] == 0


def test_replay_from_an_id_delivers_that_entry_and_the_later_ones_again(
    settings: Settings, redis_client: redis.Redis
) -> None:
    ids = publish_n(Store(redis_client, settings), 4)
    c = consumer(redis_client, settings, "c")
    c.ack(*(e.stream_id for e in c.read(count=10, block_ms=50)))
    c.replay_from(ids[2])
    assert [e.stream_id for e in c.read(count=10, block_ms=50)] == ids[2:]


def test_replay_from_a_time_delivers_entries_published_after_it(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings)
    publish_n(store, 2)
    time.sleep(0.01)
    cutoff = time.time()
    later = [store.publish(make_doc(url=f"https://news.example.com/late/{i}")).stream_id
             for i in range(2)]  # fmt: skip
    c = consumer(redis_client, settings, "c")
    c.ack(*(e.stream_id for e in c.read(count=10, block_ms=50)))
    from datetime import UTC, datetime

    c.replay_from(datetime.fromtimestamp(cutoff, UTC).isoformat())
    assert [e.stream_id for e in c.read(count=10, block_ms=50)] == later


def test_stats_report_length_lag_pending_and_dead(
    settings: Settings, redis_client: redis.Redis
) -> None:
    publish_n(Store(redis_client, settings), 5)
    c = consumer(redis_client, settings, "c")
    c.read(count=2, block_ms=50)
    stats = stream_stats(
        redis_client, settings.documents_stream,
        {"documents": settings.documents_dead_stream}, cap=5, lag_warn=1,
    )  # fmt: skip
    [group] = stats["groups"]
    assert stats["length"] == 5
    assert (group["lag"], group["pending"]) == (3, 2)
    assert stats["dead"] == {"documents": 0}
    assert stats["backpressure"] and "lags 3 entries" in stats["backpressure"][0]


def test_the_same_content_under_another_url_is_an_exact_duplicate(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings)
    first = make_doc(url="https://a.example.com/story")
    store.publish(first)
    store.publish(make_doc(url="https://b.example.com/syndicated"))
    docs = [json.loads(f[b"doc"]) for _, f in redis_client.xrange(settings.documents_stream)]
    assert [d["duplicate_of"] for d in docs] == [None, first.id]


def test_a_lightly_edited_copy_is_a_near_duplicate(
    settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings)
    text = (SEEDS / "002_7cd7f66acb43cbd0.txt").read_text(encoding="utf-8")
    body = "\n\n".join(p for p in text.split("\n") if p.strip())
    first = make_doc(text=body, url="https://wire.example.com/a")
    store.publish(first)
    edited = body.replace("Wednesday", "Thursday").replace("official", "spokesperson", 1)
    store.publish(make_doc(text=edited + "\n\nReporting by Staff.", url="https://b.example.com/x"))
    docs = [json.loads(f[b"doc"]) for _, f in redis_client.xrange(settings.documents_stream)]
    assert docs[1]["duplicate_of"] == first.id
    assert docs[1]["content_hash"] != docs[0]["content_hash"]


def _corpus_english(limit: int) -> list[Path]:
    pages = []
    with (EXTRACTION / "index.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            if record["lang"] == "en":
                pages.append(EXTRACTION / record["html"])
    return pages[:limit]


def test_the_five_seeds_form_one_story_and_unrelated_pages_stay_out(
    settings: Settings, redis_client: redis.Redis
) -> None:
    pipeline = Pipeline(settings)
    store = Store(redis_client, settings)
    published: dict[str, str] = {}
    unrelated = _corpus_english(60)
    # Interleave: unrelated pages before, between and after the seeds, all in one window
    # (published_at cleared, so the corpus pages' old dates do not keep them apart).
    seeds = sorted(SEEDS.glob("*.txt"))
    order = unrelated[:20] + seeds[:2] + unrelated[20:40] + seeds[2:] + unrelated[40:]
    for path in order:
        try:
            doc = pipeline.process(Source("file", str(path)))
        except IngestError:  # a corpus page without article text is not part of this test
            continue
        doc = dataclasses.replace(doc, published_at=None)
        store.publish(doc)
        published[str(path)] = doc.id
    entries = [json.loads(f[b"doc"]) for _, f in redis_client.xrange(settings.documents_stream)]
    story = {d["id"]: d["story_id"] for d in entries}
    seed_stories = {story[published[str(p)]] for p in seeds}
    assert len(seed_stories) == 1
    [seed_story] = seed_stories
    joined = [p.name for p in unrelated if str(p) in published
              and story[published[str(p)]] == seed_story]  # fmt: skip
    assert joined == []
    assert len(published) >= 50
    for doc in entries:
        validate(doc)


def test_story_grouping_does_not_depend_on_seed_order(
    settings: Settings, redis_client: redis.Redis
) -> None:
    pipeline = Pipeline(settings)
    store = Store(redis_client, settings)
    stories = set()
    for path in sorted(SEEDS.glob("*.txt"), reverse=True):
        published = store.publish(pipeline.process(Source("file", str(path))))
        [(_sid, fields)] = redis_client.xrange(
            settings.documents_stream, published.stream_id, published.stream_id
        )
        stories.add(json.loads(fields[b"doc"])["story_id"])
    assert len(stories) == 1


@pytest.fixture
def own_redis(tmp_path: Path) -> EmbeddedRedis:
    server = EmbeddedRedis(tmp_path / "aof", appendfsync="always").start()
    yield server
    server.stop()


def test_a_redis_crash_loses_nothing_acknowledged_to_the_producer(
    settings: Settings, own_redis: EmbeddedRedis
) -> None:
    settings = settings.replace(redis_url=own_redis.url)
    acknowledged: list[str] = []
    stop = threading.Event()

    def produce() -> None:
        client = redis.Redis.from_url(own_redis.url, socket_timeout=2, socket_connect_timeout=1)
        store = Store(client, settings)
        i = 0
        while not stop.is_set():
            doc = make_doc(url=f"https://news.example.com/crash/{i}")
            try:
                store.publish(doc, annotate=False)
            except (redis.ConnectionError, redis.TimeoutError):
                time.sleep(0.05)  # not acknowledged: publish the same document again
                store = Store(client, settings)
                continue
            acknowledged.append(doc.id)
            i += 1

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        while len(acknowledged) < 200:
            time.sleep(0.01)
        own_redis.kill()
        time.sleep(0.3)
        own_redis.start()
        count_at_restart = len(acknowledged)
        while len(acknowledged) < count_at_restart + 200:
            time.sleep(0.01)
    finally:
        stop.set()
        producer.join(30)
    client = redis.Redis.from_url(own_redis.url)
    in_stream = [f[b"id"].decode() for _, f in client.xrange(settings.documents_stream)]
    assert set(acknowledged) <= set(in_stream)
    assert len(in_stream) == len(set(in_stream))  # and nothing twice
