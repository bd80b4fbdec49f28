"""Backfill through real workers on a real Redis: a WARC of corpus pages gives one document
per page with the ids of their URLs, once; bad records are dead letters; live work first."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import redis

from devtools.http_fixtures import Site
from devtools.warcs import Record, corpus_pages, write_warc
from service.archive import JobState
from service.pipeline import Pipeline
from service.records import Source
from service.settings import Settings
from service.store import Store

from .conftest import SEEDS, Worker, run_cli
from .test_warc import CHUNKED, TRUNCATED, WAIT_SECONDS, page_warc, small_pages, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def no_translation_env(settings_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Workers without translation packages: ko and zh publish at once (missing_model)."""
    empty = tmp_path / "no-packages"
    empty.mkdir()
    return dict(
        settings_env, NEWSINGEST_PACKAGES_DIR=str(empty), NEWSINGEST_BACKFILL_RANGE_RECORDS="3"
    )


def stream_ids(client: redis.Redis, settings: Settings) -> list[str]:
    return [json.loads(f[b"doc"])["id"] for _, f in client.xrange(settings.documents_stream)]


def test_a_warc_of_n_pages_gives_n_documents_with_the_ids_of_their_urls_and_again_nothing(
    no_translation_env: dict[str, str],
    polite_settings: Settings,
    redis_client: redis.Redis,
    site: Site,
    tmp_path: Path,
) -> None:
    settings = polite_settings
    pages = small_pages(3)
    for i, page in enumerate(pages):
        site.static(f"/page/{i}.html", page.path.read_bytes())
    base = site.url("").rstrip("/")
    path = tmp_path / "pages.warc.gz"
    records = page_warc(path, pages, base)
    junk = [Record(f"{base}/robots.txt", b"", kind="request", http=False),
            Record(f"{base}/gone", b"<p>gone</p>", status=404)]  # fmt: skip
    write_warc(tmp_path / "junk.warc.gz", junk)
    # The ids the same pages get when their URLs are fetched live.
    pipeline = Pipeline(settings, confine_files=False)
    expected = {pipeline.process(Source("url", r.url), translate=False).id for r in records}
    assert len(expected) == len(pages)

    worker = Worker(
        no_translation_env, tmp_path / "worker.log", ["-Q", "ingest,translate", "-c", "2"]
    ).start()
    try:
        out = run_cli(no_translation_env, "backfill", str(path), str(tmp_path / "junk.warc.gz"),
                      "--interval", "0.2", timeout=WAIT_SECONDS)  # fmt: skip
        assert out.returncode == 0, out.stderr + worker.log.read_text()[-3000:]
        finals = [json.loads(line) for line in out.stdout.splitlines()]
        assert [f["status"] for f in finals] == ["done", "done"]
        assert finals[0]["ingested"] == len(pages) and finals[0]["dead"] == 0
        assert finals[1]["dropped"] == {"not_200": 1, "not_response": 1}
        wait_for(lambda: len(stream_ids(redis_client, settings)) >= len(pages), "the documents")
        ids = stream_ids(redis_client, settings)
        assert sorted(ids) == sorted(expected)

        again = run_cli(no_translation_env, "backfill", str(path), "--interval", "0.2")
        assert again.returncode == 0, again.stderr
        assert "backfilled already" in again.stderr
        submitted = run_cli(no_translation_env, "submit", str(path))
        assert submitted.returncode == 0, submitted.stderr
        assert json.loads(submitted.stdout)["new"] is False
        time.sleep(2)
        assert len(stream_ids(redis_client, settings)) == len(pages)
    finally:
        worker.stop()


def test_bad_records_become_dead_letters_with_their_reasons_and_the_rest_documents(
    no_translation_env: dict[str, str],
    settings: Settings,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    good = small_pages(1)
    records = [
        Record(f"http://news.test/good/{i}", p.path.read_bytes()) for i, p in enumerate(good)
    ]
    records += [
        Record("http://news.test/truncated", b"<p>half", warc_headers=[TRUNCATED]),
        Record("http://news.test/encoding", b"\x1f\x8b\x08\x00junk" * 20,
               http_headers=[("Content-Encoding", "gzip")]),
        Record("http://news.test/chunks", b"zz\r\nnope", http_headers=[CHUNKED]),
        Record("http://news.test/corrupt", b"<p>" + b"z" * 5000 + b"</p>"),
        Record("http://news.test/after", SEEDS.joinpath("002_7cd7f66acb43cbd0.txt").read_bytes(),
               content_type="text/plain"),
    ]  # fmt: skip
    path = tmp_path / "bad.warc.gz"
    offsets = write_warc(path, records)
    data = bytearray(path.read_bytes())
    middle = (offsets[-2] + offsets[-1]) // 2
    data[middle : middle + 40] = bytes(40)
    path.write_bytes(bytes(data))

    worker = Worker(
        no_translation_env, tmp_path / "worker.log", ["-Q", "ingest,translate", "-c", "2"]
    ).start()
    try:
        out = run_cli(no_translation_env, "backfill", str(path), "--interval", "0.2",
                      timeout=WAIT_SECONDS)  # fmt: skip
        assert out.returncode == 0, out.stderr
        final = json.loads(out.stdout)
        assert final["dead"] == 4 and final["ingested"] == len(good) + 1
        store = Store(redis_client, settings)
        wait_for(lambda: len(store.dead_entries()) == 4, "the dead letters")
        reasons = {json.loads(d["input"])["location"]: d["reason"] for d in store.dead_entries()}
        corrupt = f"{path}@{offsets[-2]}"
        assert reasons == {
            "http://news.test/truncated": "warc_truncated",
            "http://news.test/encoding": "bad_encoding",
            "http://news.test/chunks": "bad_chunking",
            corrupt: "warc_corrupt",
        }
        wait_for(lambda: len(stream_ids(redis_client, settings)) == len(good) + 1, "documents")
        assert worker.proc is not None and worker.proc.poll() is None
    finally:
        worker.stop()


def test_live_work_is_served_before_a_backlog_of_backfill(
    no_translation_env: dict[str, str],
    settings: Settings,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    from workers.app import make_app

    pages = [p for p in corpus_pages(["en"]) if p.path.stat().st_size < 200_000][:30]
    path = tmp_path / "backlog.warc.gz"
    write_warc(path, [Record(f"http://backlog.test/{copy}/{i}", page.path.read_bytes())
                      for copy in range(4) for i, page in enumerate(pages)])  # fmt: skip
    env = dict(no_translation_env, NEWSINGEST_BACKFILL_RANGE_RECORDS="2")
    worker = Worker(env, tmp_path / "worker.log", ["-Q", "ingest", "-c", "1"]).start()
    try:
        out = run_cli(env, "backfill", "--no-wait", str(path))
        assert out.returncode == 0, out.stderr
        job = json.loads(out.stdout)["job"]
        state = JobState(redis_client, settings)
        wait_for(lambda: (state.read(job) or state).ingested >= 2, "the backfill to be under way")  # type: ignore[union-attr]
        # Sent at once from here: the backlog has more than a hundred records to go.
        make_app(settings).producer.ingest(
            {"kind": "file", "location": str(SEEDS / "002_7cd7f66acb43cbd0.txt")}
        )
        seed_done = lambda: any(  # noqa: E731
            json.loads(f[b"doc"])["source"]["kind"] == "file"
            for _, f in redis_client.xrange(settings.documents_stream)
        )
        wait_for(seed_done, "the live document")
        progress = state.read(job)
        assert progress is not None and progress.ingested + progress.dead < progress.kept, (
            "the live input waited for the whole backfill"
        )
    finally:
        worker.stop()
