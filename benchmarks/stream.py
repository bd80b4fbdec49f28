"""Publish and consume throughput of the document stream, with real document sizes.

Starts its own embedded Redis, builds documents from the seeds and corpus pages (no
translation), replicates them under distinct URLs, and measures:
  - publish, one atomic script per document (what a worker does), without and with
    story/duplicate annotation;
  - publish pipelined, 100 documents per round trip;
  - consume with 1 and with 4 consumer processes in one group (read, parse JSON, ack).
Prints documents/s for each, and the ratio of each to the one-script-per-document baseline.

    .venv/bin/python benchmarks/stream.py [--docs 20000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from service.consume import Consumer  # noqa: E402
from service.document import Document  # noqa: E402
from service.embedded import EmbeddedRedis  # noqa: E402
from service.fetch import Source  # noqa: E402
from service.normalise import document_id  # noqa: E402
from service.pipeline import Pipeline  # noqa: E402
from service.settings import Settings, load_settings  # noqa: E402
from service.store import Store  # noqa: E402

SHARED = REPO.parent / "shared"


def real_documents(settings: Settings, limit: int = 120) -> list[Document]:
    pipeline = Pipeline(settings)
    paths = sorted((SHARED / "seeds").glob("*.txt"))
    with (SHARED / "corpus/extraction/index.jsonl").open() as fh:
        paths += [SHARED / "corpus/extraction" / json.loads(line)["html"] for line in fh]
    docs = []
    for path in paths[:limit]:
        try:
            docs.append(pipeline.process(Source("file", str(path)), translate=False))
        except Exception:  # noqa: BLE001, S112 - a page without text is simply not used
            continue
    return docs


def replicate(docs: list[Document], n: int, tag: str) -> list[Document]:
    out = []
    for i in range(n):
        base = docs[i % len(docs)]
        url = f"https://bench.example.com/{tag}/{i}"
        out.append(dataclasses.replace(base, id=document_id(url, f"{base.content_hash}{i}"),
                                       canonical_url=url, url=url,
                                       content_hash=f"sha256:{i:064x}"))  # fmt: skip
    return out


def publish_worker(url: str, env: dict[str, str], docs: list[Document]) -> None:
    settings = load_settings(env)
    store = Store(redis.Redis.from_url(url), settings)
    for i in range(0, len(docs), 100):
        store.publish_many(docs[i : i + 100], annotate=False)


def publish_parallel(url: str, env: dict[str, str], docs: list[Document], procs: int) -> float:
    """Several publishing processes, as several workers are in a deployment."""
    share = [docs[i::procs] for i in range(procs)]
    workers = [mp.Process(target=publish_worker, args=(url, env, part)) for part in share]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return len(docs) / (time.perf_counter() - started)


def consume_worker(url: str, stream: str, name: str, total: int, counter: mp.Value) -> None:  # type: ignore[type-arg]
    client = redis.Redis.from_url(url)
    consumer = Consumer(client, stream, "bench", name)
    while True:
        with counter.get_lock():
            if counter.value >= total:
                return
        batch = consumer.read(count=100, block_ms=200)
        if batch:
            consumer.ack(*(e.stream_id for e in batch))
            with counter.get_lock():
                counter.value += len(batch)


def consume(url: str, stream: str, consumers: int, total: int) -> float:
    client = redis.Redis.from_url(url)
    client.xgroup_destroy(stream, "bench")
    client.xgroup_create(stream, "bench", id="0")
    counter = mp.Value("i", 0)
    procs = [mp.Process(target=consume_worker, args=(url, stream, f"c{i}", total, counter))
             for i in range(consumers)]  # fmt: skip
    started = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return total / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as server:
        env = {"NEWSINGEST_DATA_DIR": tmp, "REDIS_URL": server.url,
               "NEWSINGEST_STREAM_MAXLEN": "0"}  # fmt: skip
        settings = load_settings(env)
        client = redis.Redis.from_url(server.url)
        store = Store(client, settings)
        docs = real_documents(settings)
        sizes = sorted(len(d.to_json()) for d in docs)
        print(f"{len(docs)} real documents, JSON size median {sizes[len(sizes) // 2]} B, "
              f"max {sizes[-1]} B; {args.docs} documents per measurement")  # fmt: skip

        results: dict[str, float] = {}
        batch = replicate(docs, args.docs, "single")
        t = time.perf_counter()
        for doc in batch:
            store.publish(doc, annotate=False)
        results["publish, 1 script per doc"] = args.docs / (time.perf_counter() - t)

        batch = replicate(docs, args.docs, "piped")
        t = time.perf_counter()
        for i in range(0, len(batch), 100):
            store.publish_many(batch[i : i + 100], annotate=False)
        results["publish, pipelined x100"] = args.docs / (time.perf_counter() - t)

        batch = replicate(docs, args.docs, "parallel")
        results["publish, 2 processes pipelined"] = publish_parallel(server.url, env, batch, 2)

        n_annot = min(args.docs, 3000)
        batch = replicate(docs, n_annot, "annot")
        t = time.perf_counter()
        for doc in batch:
            store.publish(doc)
        results["publish + story/dup annotation"] = n_annot / (time.perf_counter() - t)

        total = int(client.xlen(settings.documents_stream))
        results["consume, 1 consumer"] = consume(server.url, settings.documents_stream, 1, total)
        results["consume, 4 consumers"] = consume(server.url, settings.documents_stream, 4, total)

        base = results["publish, 1 script per doc"]
        for name, rate in results.items():
            print(f"{name:34s} {rate:9.0f} docs/s   x{rate / base:5.2f} vs 1-script publish")


if __name__ == "__main__":
    main()
