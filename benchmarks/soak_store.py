"""Soak of the store: does Redis memory level off under a steady input?

Starts its own embedded Redis (AOF off: this measures memory, and an AOF rewrite of gigabytes
would only add noise and minutes), builds documents from the seeds and corpus pages as
benchmarks/stream.py does, and publishes ``--docs`` copies under distinct URLs through
``Store.publish_many`` (100 per call, no annotation) at a steady ``--rate``, twice in the
same run:

  - with retention: ``stream_maxlen = --maxlen``, and tombstones and the exact-duplicate
    index kept ``--retention-seconds`` (``dedupe_retention_days``, 30 days in production,
    shortened so that their expiry shows within the run);
  - the baseline: retention off (``stream_maxlen = 0``, no age limit), where everything
    stays, as document hashes did before the publish script trimmed them.

Every ``--every`` documents it prints Redis ``used_memory`` (INFO memory) for both, their
ratio, and what the document keys hold. The server is flushed between the two runs.

    .venv/bin/python benchmarks/soak_store.py [--docs 100000] [--maxlen 10000] [--every 10000]
        [--rate 1000] [--retention-seconds 20]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.stream import real_documents  # noqa: E402
from service.embedded import EmbeddedRedis  # noqa: E402
from service.normalise import document_id  # noqa: E402
from service.records import Document  # noqa: E402
from service.settings import Settings, load_settings  # noqa: E402
from service.store import Store  # noqa: E402

MIB = 1024 * 1024


def copies(docs: list[Document], start: int, n: int) -> Iterator[Document]:
    """Documents ``start`` .. ``start + n`` of the endless input: real documents, distinct ids."""
    for i in range(start, start + n):
        base = docs[i % len(docs)]
        url = f"https://soak.example.com/{i}"
        yield dataclasses.replace(
            base,
            id=document_id(url, f"{base.content_hash}{i}"),
            canonical_url=url,
            url=url,
            content_hash=f"sha256:{i:064x}",
        )


def used_memory(client: redis.Redis) -> int:
    return int(cast(dict[str, Any], client.info("memory"))["used_memory"])


def doc_keys(client: redis.Redis, settings: Settings) -> tuple[int, int]:
    """(document hashes holding a document, tombstones)."""
    held = total = 0
    for keys in _batches(client.scan_iter(match=settings.document_key("*"), count=5000), 5000):
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.hexists(key, "doc")
        held += sum(bool(x) for x in pipe.execute())
        total += len(keys)
    return held, total - held


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def soak(
    client: redis.Redis,
    settings: Settings,
    docs: list[Document],
    total: int,
    every: int,
    rate: float,
) -> tuple[list[tuple[int, int, int, int, int]], float]:
    """Publish ``total`` documents, ``rate`` a second (0: as fast as it goes); (documents,
    used_memory, stream length, held, tombstones) every ``every`` documents, and the publish
    rate while publishing."""
    client.flushall()
    store = Store(client, settings)
    samples = [(0, used_memory(client), 0, 0, 0)]
    busy = 0.0
    t0 = time.monotonic()
    for start in range(0, total, 100):
        if rate > 0:
            time.sleep(max(0.0, t0 + start / rate - time.monotonic()))
        batch = list(copies(docs, start, min(100, total - start)))
        began = time.perf_counter()
        store.publish_many(batch, annotate=False)
        busy += time.perf_counter() - began
        done = start + len(batch)
        if done % every == 0 or done == total:
            length = int(cast(int, client.xlen(settings.documents_stream)))
            samples.append((done, used_memory(client), length, *doc_keys(client, settings)))
    return samples, total / busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--maxlen", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0, help="documents a second")
    parser.add_argument("--retention-seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as server:
        client = redis.Redis.from_url(server.url)
        client.config_set("appendonly", "no")
        env = {"NEWSINGEST_DATA_DIR": tmp, "REDIS_URL": server.url}
        settings = load_settings(env)
        docs = real_documents(settings)
        sizes = sorted(len(d.to_json_bytes()) for d in docs)
        print(f"{len(docs)} real documents (JSON median {sizes[len(sizes) // 2]} B), "
              f"{args.docs} published, 100 per call, {args.rate:g}/s; retention: stream_maxlen "
              f"{args.maxlen}, tombstones and hash index {args.retention_seconds:g} s")  # fmt: skip
        short = settings.replace(
            stream_maxlen=args.maxlen, dedupe_retention_days=args.retention_seconds / 86400
        )
        kept, kept_rate = soak(client, short, docs, args.docs, args.every, args.rate)
        off = settings.replace(stream_maxlen=0, stream_max_age_days=0)
        base, base_rate = soak(client, off, docs, args.docs, args.every, args.rate)
        print(f"{'docs':>8} {'retention MiB':>14} {'baseline MiB':>13} {'ratio':>6}   "
              f"{'stream':>7} {'held':>7} {'tombstones':>10}   (with retention)")  # fmt: skip
        for (n, mem, length, held, tomb), (_, bmem, *_rest) in zip(kept, base, strict=True):
            ratio = f"{mem / bmem:6.2f}" if n else "     -"
            print(f"{n:8d} {mem / MIB:14.1f} {bmem / MIB:13.1f} {ratio}   "
                  f"{length:7d} {held:7d} {tomb:10d}")  # fmt: skip
        (n1, m1, *_a), (n2, m2, *_b) = kept[-2], kept[-1]
        (_, b1, *_c), (_, b2, *_d) = base[-2], base[-1]
        print(f"growth over the last {n2 - n1} documents: {(m2 - m1) / (n2 - n1):.0f} B/doc "
              f"with retention, {(b2 - b1) / (n2 - n1):.0f} B/doc without")  # fmt: skip
        half = kept[len(kept) // 2]
        print(f"growth over the second half ({half[0]} to {n2} documents): "
              f"{(m2 - half[1]) / (n2 - half[0]):.0f} B/doc with retention")  # fmt: skip
        print(f"publish rate while publishing: {kept_rate:.0f} docs/s with retention, "
              f"{base_rate:.0f} docs/s without")  # fmt: skip


if __name__ == "__main__":
    main()
