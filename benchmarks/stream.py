"""Publish and consume throughput of the document stream, with real document sizes.

Starts its own embedded Redis (AOF on, appendfsync everysec, as `newsingest run` does), builds
documents from the seeds and corpus pages (no translation), replicates them under distinct
URLs, and measures, each over ``--rounds`` rounds (the median is printed):
  - the baseline, in the same run: a bare pipelined XADD of the same document bytes, with no
    store hash, no duplicate check and no version (what Redis does at the least);
  - publish, one call per document (a worker's call), without and with story/duplicate
    annotation (the worker's real path);
  - publish pipelined, 100 documents per round trip, in one and in two processes;
  - consume with 1 and with 4 consumer processes in one group (read, parse JSON, ack).
Prints documents/s, the ratio to the baseline, and Redis's own time per publish script.
``--maxlen N`` caps the stream (default 0: no cap), so that each publish also trims the
stream and forgets the documents it trims, as a deployment's does once its stream is full.

    .venv/bin/python benchmarks/stream.py [--docs 20000] [--rounds 3] [--maxlen 0]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from service.consume import Consumer  # noqa: E402
from service.embedded import EmbeddedRedis  # noqa: E402
from service.errors import IngestError  # noqa: E402
from service.fetch import Source  # noqa: E402
from service.normalise import document_id  # noqa: E402
from service.pipeline import Pipeline  # noqa: E402
from service.records import Document  # noqa: E402
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
        except IngestError as exc:  # a page without article text is not used; say which
            print(f"skipped {path.name}: {exc.reason}", file=sys.stderr)
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


def bench_settings(env: dict[str, str], maxlen: int) -> Settings:
    """The settings, with the stream capped at ``maxlen`` (0: no cap, which the settings file
    refuses; a benchmark of the publish itself wants it)."""
    return load_settings(env).replace(stream_maxlen=maxlen)


def publish_worker(url: str, env: dict[str, str], docs: list[Document], maxlen: int) -> None:
    settings = bench_settings(env, maxlen)
    store = Store(redis.Redis.from_url(url), settings)
    for i in range(0, len(docs), 100):
        store.publish_many(docs[i : i + 100], annotate=False)


def publish_parallel(
    url: str, env: dict[str, str], docs: list[Document], procs: int, maxlen: int
) -> float:
    """Several publishing processes, as several workers are in a deployment."""
    share = [docs[i::procs] for i in range(procs)]
    workers = [mp.Process(target=publish_worker, args=(url, env, part, maxlen)) for part in share]
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


def bare_xadd(client: redis.Redis, stream: str) -> Callable[[list[Document]], None]:
    """The baseline: the same bytes appended with plain XADD, 100 per round trip."""

    def work(docs: list[Document]) -> None:
        for i in range(0, len(docs), 100):
            pipe = client.pipeline(transaction=False)
            for doc in docs[i : i + 100]:
                pipe.xadd(stream, {"id": doc.id, "version": 1, "doc": doc.to_json_bytes()})
            pipe.execute()

    return work


def timed(docs: list[Document], work: Callable[[list[Document]], object]) -> float:
    started = time.perf_counter()
    work(docs)
    return len(docs) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--maxlen", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as server:
        env = {"NEWSINGEST_DATA_DIR": tmp, "REDIS_URL": server.url}
        settings = bench_settings(env, args.maxlen)
        client = redis.Redis.from_url(server.url)
        store = Store(client, settings)
        docs = real_documents(settings)
        sizes = sorted(len(d.to_json_bytes()) for d in docs)
        n, n_single = args.docs, min(args.docs, 5000)
        print(f"{len(docs)} real documents, JSON size median {sizes[len(sizes) // 2]} B, "
              f"max {sizes[-1]} B; {n} documents per measurement ({n_single} one call "
              f"per document), median of {args.rounds} rounds")  # fmt: skip

        def one_by_one(annotate: bool) -> Callable[[list[Document]], object]:
            return lambda batch: [store.publish(doc, annotate=annotate) for doc in batch]

        def pipelined(batch: list[Document]) -> None:
            for i in range(0, len(batch), 100):
                store.publish_many(batch[i : i + 100], annotate=False)

        runs: dict[str, list[float]] = {}
        script_us: list[float] = []

        def measure(name: str, rate: float) -> None:
            runs.setdefault(name, []).append(rate)

        for r in range(args.rounds):
            scratch = f"{settings.key_prefix}:bench:bare"
            measure("baseline: bare XADD, pipelined x100",
                    timed(replicate(docs, n, f"bare{r}"), bare_xadd(client, scratch)))  # fmt: skip
            client.delete(scratch)
            client.config_resetstat()
            measure("publish, pipelined x100", timed(replicate(docs, n, f"piped{r}"), pipelined))
            stats = cast(dict[str, Any], client.info("commandstats")).get("cmdstat_evalsha", {})
            script_us.append(float(stats.get("usec_per_call", 0.0)))
            parallel = replicate(docs, n, f"par{r}")
            measure("publish, 2 processes pipelined x100",
                    publish_parallel(server.url, env, parallel, 2, args.maxlen))  # fmt: skip
            measure("publish, 1 call per doc",
                    timed(replicate(docs, n_single, f"one{r}"), one_by_one(False)))  # fmt: skip
            measure("publish, 1 call per doc, annotated",
                    timed(replicate(docs, n_single, f"annot{r}"), one_by_one(True)))  # fmt: skip
            total = int(cast(int, client.xlen(settings.documents_stream)))
            measure("consume, 1 consumer", consume(server.url, settings.documents_stream, 1, total))
            measure("consume, 4 consumers",
                    consume(server.url, settings.documents_stream, 4, total))  # fmt: skip

        base = statistics.median(runs["baseline: bare XADD, pipelined x100"])
        for name, rates in runs.items():
            rate = statistics.median(rates)
            print(f"{name:38s} {rate:8.0f} docs/s   x{rate / base:5.2f} vs bare XADD   "
                  f"(rounds: {', '.join(f'{x:.0f}' for x in rates)})")  # fmt: skip
        per_call = statistics.median(script_us)
        print(f"Redis time per publish script: {per_call:.1f} us "
              f"(a capacity of {1e6 / per_call:.0f} docs/s for the server itself)")  # fmt: skip


if __name__ == "__main__":
    main()
