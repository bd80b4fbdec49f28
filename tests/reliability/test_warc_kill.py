"""A backfill survives `kill -9` of its worker in the middle of a file: every record comes
out as exactly one document, none twice on the stream, and the job's counts add up."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from devtools.harness import (
    REPO,
    REPORTS,
    Proc,
    Report,
    celery_worker,
    with_canonical,
    worker_env,
)
from devtools.warcs import Record, corpus_pages, write_warc
from service.embedded import EmbeddedRedis
from service.normalise import canonical_url, document_id

pytestmark = pytest.mark.integration

PAGES = 40
SETTLE_SECONDS = 300


def job_progress(client: redis.Redis, job: str) -> dict[str, str]:
    raw = client.hgetall(f"rel:backfill:{job}")
    return {k.decode(): v.decode() for k, v in raw.items()}


def test_kill_9_of_a_worker_in_the_middle_of_a_warc_loses_nothing(tmp_path: Path) -> None:
    work = tmp_path
    (work / "data").mkdir()
    no_packages = work / "no-packages"
    no_packages.mkdir()
    pages = [p for p in corpus_pages() if p.path.stat().st_size < 150_000][:PAGES]
    urls = [f"http://archive.test/story/{i}.html" for i in range(len(pages))]
    # A canonical link of its own in each page, so that every record is its own document.
    records = [
        Record(url, with_canonical(page.path.read_bytes(), url))
        for url, page in zip(urls, pages, strict=True)
    ]
    path = work / "news.warc.gz"
    write_warc(path, records)
    expected = {document_id(canonical_url(u), "") for u in urls}

    server = EmbeddedRedis(work / "redis", appendfsync="always").start()
    env = worker_env(server.url, work, no_packages, {"NEWSINGEST_BACKFILL_RANGE_RECORDS": "4"})
    client = redis.Redis.from_url(server.url)
    ingest = celery_worker("ingest", 2, env, work / "ingest.log")
    translate = celery_worker("translate", None, env, work / "translate.log")
    procs: list[Proc] = [ingest, translate]
    started = time.monotonic()
    try:
        for proc in procs:
            proc.start()
        out = subprocess.run(
            [sys.executable, "-m", "workers.cli", "backfill", "--no-wait", str(path)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        job = json.loads(out.stdout)["job"]

        deadline = time.monotonic() + 180
        while int(job_progress(client, job).get("ingested", 0)) < 6:
            assert time.monotonic() < deadline, ingest.tail()
            time.sleep(0.1)
        before = job_progress(client, job)
        ingest.kill()
        assert int(before["ingested"]) < len(records), "the file was done before the kill"
        ingest.start()

        deadline = time.monotonic() + SETTLE_SECONDS
        while job_progress(client, job).get("status") != "done":
            if time.monotonic() > deadline:
                pytest.fail(
                    f"backfill did not finish: {job_progress(client, job)}\n{ingest.tail()}"
                )
            time.sleep(0.5)
        # The ko and zh pages go on to the translate queue: wait for their documents too.
        while client.xlen("rel:documents") < len(records) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(3)  # late duplicates, if any, would land now

        entries = client.xrange("rel:documents")
        ids = Counter(json.loads(fields[b"doc"])["id"] for _, fields in entries)
        dead = client.xrange("rel:dead")
        final = job_progress(client, job)
        report = Report(
            "kill -9 mid-WARC", len(records), len(ids), len(dead),
            len(expected - set(ids)), sum(n - 1 for n in ids.values() if n > 1),
            time.monotonic() - started, 0.0,
        )  # fmt: skip
        report.notes.append(
            f"killed with {before['ingested']} of {len(records)} records ingested; job counts "
            f"after: ingested {final.get('ingested')}, dead {final.get('dead', 0)}, "
            f"ranges {final.get('ranges_done')}/{final.get('ranges')}"
        )
        REPORTS.append(report)
        assert set(ids) == expected
        assert all(n == 1 for n in ids.values()), ids
        assert dead == []
        assert int(final["ingested"]) == len(records) and int(final.get("dead", 0)) == 0
    finally:
        for proc in procs:
            proc.stop(30)
        client.close()
        server.stop()
