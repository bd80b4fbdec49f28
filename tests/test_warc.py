"""Backfill from web archives: WARC files written with FastWARC from the corpus's pages,
read back by content, prefiltered, split into ranges and ingested by real workers."""

from __future__ import annotations

import gzip
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import brotli
import pytest
import redis

from devtools.http_fixtures import Site
from devtools.warcs import Page, Record, corpus_pages, write_warc
from service.archive import (
    Broken,
    Filters,
    Head,
    JobState,
    file_identity,
    job_id,
    read_record,
    record_source,
    scan,
    warc_format,
)
from service.archive._filters import (
    _CHARSET_RE,
    _META_LANG_RE,
    CJK_LANGUAGES,
    _search_tag,
    language_allowed,
    page_languages,
    script_languages,
)
from service.archive._scan import _by_library, open_warc
from service.errors import IngestError
from service.fetch import FetchPolicy
from service.pipeline import Pipeline
from service.records import Source
from service.settings import Settings

from .conftest import run_cli

WAIT_SECONDS = 240
DATE = "2024-03-01T12:00:00Z"
CHUNKED = ("Transfer-Encoding", "chunked")
TRUNCATED = ("WARC-Truncated", "length")


def small_pages(count_per_language: int) -> list[Page]:
    """The smallest pages of each of en, zh and ko (quick to extract), in a stable order."""
    out: list[Page] = []
    for lang in ("en", "zh", "ko"):
        pages = sorted(corpus_pages([lang]), key=lambda p: (p.path.stat().st_size, str(p.path)))
        out += pages[:count_per_language]
    return out


def page_warc(path: Path, pages: list[Page], base: str, **kw: object) -> list[Record]:
    records = [Record(f"{base}/page/{i}.html", p.path.read_bytes()) for i, p in enumerate(pages)]
    write_warc(path, records, **kw)  # type: ignore[arg-type]
    return records


def wait_for(predicate: object, what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {seconds}s waiting for {what}")
        time.sleep(0.2)


def policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy.from_settings(settings)


def read(path: Path, offset: int, url: str, settings: Settings) -> bytes:
    return read_record(record_source(str(path), offset, url, None), policy(settings), None).body


# ---- reading ---------------------------------------------------------------------------------


def test_a_warc_is_told_by_its_first_bytes_not_by_its_name(tmp_path: Path) -> None:
    records = [Record("http://news.test/a", b"<html><p>hi</p></html>")]
    write_warc(tmp_path / "archive.txt", records)
    write_warc(tmp_path / "archive.html", records, gzip=False)
    (tmp_path / "page.warc.gz").write_bytes(gzip.compress(b"<html>not an archive</html>"))
    (tmp_path / "page.warc").write_bytes(b"<html>not an archive</html>")
    assert warc_format(tmp_path / "archive.txt") == "gzip"
    assert warc_format(tmp_path / "archive.html") == "plain"
    assert warc_format(tmp_path / "page.warc.gz") is None
    assert warc_format(tmp_path / "page.warc") is None


@pytest.mark.parametrize("compressed", [True, False])
def test_the_scan_gives_every_record_at_its_offset_and_can_start_at_any(
    tmp_path: Path, compressed: bool
) -> None:
    records = [Record(f"http://news.test/{i}", f"<p>{i}</p>".encode()) for i in range(5)]
    path = tmp_path / "a.warc"
    offsets = write_warc(path, records, gzip=compressed)
    heads = list(scan(str(path)))
    assert [h.offset for h in heads] == offsets  # type: ignore[union-attr]
    assert [h.url for h in heads] == [r.url for r in records]  # type: ignore[union-attr]
    assert {h.date for h in heads} == {DATE}  # type: ignore[union-attr]
    assert [h.url for h in scan(str(path), offsets[3])] == [r.url for r in records[3:]]  # type: ignore[union-attr]


def test_a_record_read_by_its_offset_is_its_payload_with_url_and_warc_date(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "a.warc.gz"
    offsets = write_warc(
        path, [Record("http://News.Test/x?utm_source=feed&b=2&a=1", b"<p>one</p>")]
    )
    source = record_source(str(path), offsets[0], "http://News.Test/x?utm_source=feed&b=2&a=1",
                           "<urn:uuid:1>")  # fmt: skip
    fetched = read_record(source, policy(settings), None)
    assert fetched.body == b"<p>one</p>"
    assert fetched.final_url == source.location == "http://news.test/x?a=1&b=2"
    assert fetched.fetched_at == DATE
    assert source.as_dict()["warc"] == {"file": str(path), "offset": 0, "record_id": "<urn:uuid:1>"}


def test_a_whole_file_gzip_stream_is_refused_as_not_seekable(tmp_path: Path) -> None:
    plain = tmp_path / "a.warc"
    write_warc(plain, [Record(f"http://news.test/{i}", b"<p>x</p>") for i in range(3)], gzip=False)
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    with pytest.raises(IngestError) as caught:
        list(scan(str(whole)))
    assert caught.value.reason == "warc_not_seekable"


# ---- prefilters ----------------------------------------------------------------------------


def test_each_prefilter_drops_what_it_should_and_says_why(tmp_path: Path) -> None:
    html = b"<html><p>text</p></html>"
    records = [
        Record("http://a.test/warcinfo", b"software: x", kind="warcinfo", http=False),
        Record("http://a.test/request", b"", kind="request", http=False),
        Record("http://a.test/revisit", b"", kind="revisit"),
        Record("http://a.test/missing", html, status=404),
        Record("http://a.test/image", b"\x89PNG", content_type="image/png"),
        Record("dns:a.test", b"1.2.3.4", kind="response", http=False),
        Record("ftp://a.test/file", html),
        Record("http://a.test/old", html, date="2023-12-31T23:59:59Z"),
        Record("http://a.test/late", html, date="2024-06-01T00:00:00Z"),
        Record("http://elsewhere.test/page", html),
        Record("http://www.a.test/english", b"<html lang='en'><p>Plain English text.</p>"),
        Record("http://www.a.test/korean", "<html><p>한국어 기사 본문입니다 정말로</p>".encode()),
        Record(
            "http://a.test/chinese",
            "<p>中文新闻的正文内容在这里</p>".encode(),
            content_type="text/plain",
        ),
    ]
    path = tmp_path / "mixed.warc.gz"
    write_warc(path, records)
    filters = Filters(
        languages=frozenset({"ko", "zh"}),
        hosts=frozenset({"a.test"}),
        since="2024-01-01T00:00:00Z",
        until="2024-06-01T00:00:00Z",
    )
    verdicts = {h.url: filters.drop_reason(h) for h in scan(str(path), prefix_bytes=8192)}  # type: ignore[union-attr]
    assert verdicts == {
        "http://a.test/warcinfo": "not_response",
        "http://a.test/request": "not_response",
        "http://a.test/revisit": "revisit",
        "http://a.test/missing": "not_200",
        "http://a.test/image": "not_html",
        "dns:a.test": "not_http",
        "ftp://a.test/file": "bad_url",
        "http://a.test/old": "date",
        "http://a.test/late": "date",
        "http://elsewhere.test/page": "host",
        "http://www.a.test/english": "language",
        "http://www.a.test/korean": None,
        "http://a.test/chinese": None,
    }


def test_the_language_prefilter_keeps_every_korean_and_chinese_corpus_page(
    tmp_path: Path, settings: Settings
) -> None:
    pages = corpus_pages()
    path = tmp_path / "corpus.warc.gz"
    page_warc(path, pages, "http://news.test")
    filters = Filters(
        languages=frozenset({"ko", "zh"}), scan_bytes=settings.backfill_lang_scan_bytes
    )
    lang_of = {f"http://news.test/page/{i}.html": p.lang for i, p in enumerate(pages)}
    kept = Counter(
        lang_of[h.url]  # type: ignore[union-attr,index]
        for h in scan(str(path), prefix_bytes=filters.prefix_bytes)
        if filters.drop_reason(h) is None  # type: ignore[arg-type]
    )
    everything = Counter(lang_of.values())
    assert kept["ko"] == everything["ko"] and kept["zh"] == everything["zh"]
    others = sum(n for lang, n in kept.items() if lang not in ("ko", "zh"))
    assert others <= 0.05 * sum(n for lang, n in everything.items() if lang not in ("ko", "zh"))


def page_head(body: bytes) -> Head:
    """The Head the scan gives an HTML page in an HTTP 200 response: its first 8 KiB."""
    return Head(0, "response", "http://a.test/", DATE, None, None, True, 200, "text/html", None,
                "", "", "", body[:8192])  # fmt: skip


def language_pages() -> list[bytes]:
    """The corpus's pages as they are and with their markup in capitals, plus declarations
    in the places and spellings the language test reads."""
    pages = [p.path.read_bytes() for p in corpus_pages()]
    tags = [b"<HTML LANG='KO'>", b"<meta http-equiv=Content-Language content=zh-CN>",
            b"<META PROPERTY='og:locale' CONTENT='ja_JP'>", b"<meta charset=EUC-KR>",
            b"<script>var k = 'og:locale'; var c = 'charset';</script>",
            b"<meta name=x content=y><meta property=og:locale content=ko>"]  # fmt: skip
    return [
        *pages,
        *(p[:3000].upper() + p[3000:] for p in pages),
        *(t + p for t in tags for p in pages[:20]),
    ]


WANTED = [frozenset(w) for w in (("ko", "zh"), ("ko",), ("zh",), ("ja",), ("en",), ("ko", "en"))]


def test_the_language_test_stops_at_the_first_wanted_evidence_with_the_full_answer() -> None:
    for body in language_pages():
        head = page_head(body)
        for wanted in WANTED:
            evidence = page_languages(head, wanted)
            full = bool(evidence & wanted) or (not evidence and bool(wanted - CJK_LANGUAGES))
            assert language_allowed(head, wanted) == full, (body[:80], wanted)


def test_markup_searched_from_the_first_keyword_finds_what_a_search_from_the_start_finds() -> None:
    searches = [(_CHARSET_RE, (b"charset",)), (_META_LANG_RE, (b"content-language", b"og:locale"))]
    for body in language_pages():
        lowered = body[:8192].lower()
        for pattern, keywords in searches:
            ours, whole = _search_tag(pattern, lowered, keywords), pattern.search(lowered)
            assert (ours and ours.group(1)) == (whole and whole.group(1)), body[:80]


def test_scripts_are_counted_by_their_utf8_lead_bytes() -> None:
    def by_counting(prefix: bytes) -> set[str]:
        rest = prefix.translate(None, bytes(range(128)))
        hangul = sum(rest.count(bytes([b])) for b in (0xEB, 0xEC, 0xED))
        kana = sum(rest.count(bytes([0xE3, b])) for b in (0x81, 0x82, 0x83))
        han = sum(rest.count(bytes([b])) for b in range(0xE5, 0xEA))
        found = {lang for lang, n in (("ko", hangul), ("ja", kana)) if n >= 8}
        return found or ({"zh"} if han >= 8 else set())

    samples = [
        "한국어 기사 본문입니다",
        "日本語のテキストですね",
        "中文新闻的正文内容在这里",
        "「中文」、。",
    ]
    texts = [s.encode() for s in samples] + ["a".join(s).encode() for s in samples]
    for prefix in [*texts, *(body[:8192] for body in language_pages())]:
        assert script_languages(prefix, None) == by_counting(prefix), prefix[:80]


# ---- bad records ---------------------------------------------------------------------------


def test_content_and_transfer_codings_are_undone_within_the_caps(
    tmp_path: Path, settings: Settings
) -> None:
    body = "<html><p>본문 내용</p></html>".encode() * 50
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + 100]), body[i : i + 100])
                       for i in range(0, len(body), 100)) + b"0\r\n\r\n"  # fmt: skip
    records = [
        Record(
            "http://a.test/gzip", gzip.compress(body), http_headers=[("Content-Encoding", "gzip")]
        ),
        Record(
            "http://a.test/br", brotli.compress(body), http_headers=[("Content-Encoding", "br")]
        ),
        Record("http://a.test/chunked", chunked, http_headers=[("Transfer-Encoding", "chunked")]),
    ]
    path = tmp_path / "coded.warc.gz"
    offsets = write_warc(path, records)
    for record, offset in zip(records, offsets, strict=True):
        assert read(path, offset, record.url, settings) == body, record.url
    small = settings.replace(fetch_max_decompressed_bytes=len(body) - 1)
    with pytest.raises(IngestError) as caught:
        read(path, offsets[0], records[0].url, small)
    assert caught.value.reason == "too_large"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (Record("http://a.test/g", b"\x1f\x8b\x08\x00garbage" * 10,
                http_headers=[("Content-Encoding", "gzip")]), "bad_encoding"),
        (Record("http://a.test/z", b"data", http_headers=[("Content-Encoding", "zstd-ish")]),
         "unsupported_encoding"),
        (Record("http://a.test/c", b"zz\r\nnot hex\r\n", http_headers=[CHUNKED]), "bad_chunking"),
        (Record("http://a.test/t", b"<p>half a page", warc_headers=[("WARC-Truncated", "length")]),
         "warc_truncated"),
        (Record("http://a.test/n", b"", raw_block=b"no http here"), "warc_no_http"),
    ],
)  # fmt: skip
def test_a_bad_record_is_an_error_with_a_reason(
    tmp_path: Path, settings: Settings, record: Record, reason: str
) -> None:
    path = tmp_path / "bad.warc.gz"
    [offset] = write_warc(path, [record])
    with pytest.raises(IngestError) as caught:
        read(path, offset, record.url, settings)
    assert caught.value.reason == reason


def test_a_corrupt_gzip_member_is_one_broken_record_and_the_scan_goes_on(tmp_path: Path) -> None:
    records = [Record(f"http://a.test/{i}", f"<p>{'x' * 3000} {i}</p>".encode()) for i in range(6)]
    path = tmp_path / "corrupt.warc.gz"
    offsets = write_warc(path, records)
    data = bytearray(path.read_bytes())
    middle = (offsets[2] + offsets[3]) // 2
    data[middle : middle + 40] = bytes(40)
    path.write_bytes(bytes(data))
    items = list(scan(str(path)))
    broken = [i for i in items if isinstance(i, Broken)]
    assert [(b.offset, b.reason) for b in broken] == [(offsets[2], "warc_corrupt")]
    good = [i.url for i in items if not isinstance(i, Broken)]
    assert good == [r.url for k, r in enumerate(records) if k != 2]


def library_scan(path: Path, *, prefix_bytes: int) -> list[Head | Broken]:
    """What FastWARC alone gives for the whole file: the scan before its gzip fast path."""
    fh, fmt = open_warc(str(path))
    with fh:
        size = os.fstat(fh.fileno()).st_size
        return list(_by_library(fh, str(path), fmt, size, 0, prefix_bytes))


def odd_and_plain_records() -> list[Record]:
    html = b"<html lang='ko'><p>text</p></html>"
    ctype = "Content-Type"
    raw = {
        "folded": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n charset=utf-8\r\n\r\nx",
        "lf-only": b"HTTP/1.1 200 OK\nContent-Type: text/html\n\n<p>x</p>",
        "no-end": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n",
        "odd-status": b"HTTP/1.1 2x0 OK\r\nContent-Type: text/html\r\n\r\nx",
        "no-http": b"hello world\r\n\r\nx",
        "empty": b"",
    }
    pages = [Record(f"https://news.test/{i}", p.path.read_bytes()) for i, p in
             enumerate(small_pages(2))]  # fmt: skip
    return [
        *pages[:3],
        Record("http://a.test/warcinfo", b"software: x", kind="warcinfo", http=False),
        Record("http://a.test/request", b"", kind="request", http=False),
        Record("http://a.test/req", b"", kind="request", raw_block=b"GET / HTTP/1.1\r\n\r\n"),
        Record("http://a.test/revisit", b"", kind="revisit"),
        Record("http://a.test/missing", html, status=404),
        Record("dns:a.test", b"1.2.3.4", kind="response", http=False),
        Record(
            "http://a.test/gz", gzip.compress(html), http_headers=[("Content-Encoding", "gzip")]
        ),
        Record("http://a.test/chunked", b"5\r\nhello\r\n0\r\n\r\n", http_headers=[CHUNKED]),
        Record("http://a.test/trunc", html, warc_headers=[TRUNCATED]),
        Record("http://a.test/cs", html, content_type="text/html; charset=EUC-KR"),
        Record("http://a.test/latin1", html, http_headers=[("X-Name", "caf\xe9")]),
        Record("http://a.test/twice", html, http_headers=[("content-type", "text/plain")]),
        Record("http://a.test/big", b"x", http_headers=[("X-Big", "a" * 20000)]),
        Record("<http://a.test/angle>", html, date="2024-03-01T12:00:00+09:00"),
        Record("http://a.test/p1", html, warc_headers=[(ctype, "application/http;msgtype=x")]),
        Record("http://a.test/p2", html, warc_headers=[(ctype, "application/http ; msgtype=x")]),
        Record("http://a.test/p3", html, warc_headers=[(ctype, "application/httpx")]),
        Record("http://a.test/p4", html, warc_headers=[(ctype, "Application/HTTP")]),
        *[Record(f"http://a.test/{name}", b"", raw_block=block) for name, block in raw.items()],
        *pages[3:],
    ]


@pytest.mark.parametrize("damage", ["none", "corrupt", "cut", "trailing", "two-in-one"])
def test_the_member_by_member_scan_gives_what_fastwarc_alone_gives(
    tmp_path: Path, damage: str
) -> None:
    records = odd_and_plain_records()
    path = tmp_path / "odd.warc.gz"
    offsets = write_warc(path, records)
    data = path.read_bytes()
    if damage == "corrupt":
        middle = (offsets[1] + offsets[2]) // 2
        data = data[:middle] + bytes(40) + data[middle + 40 :]
    elif damage == "cut":
        data = data[: offsets[-2] + 1000]
    elif damage == "trailing":
        data += b"not a gzip member\n" * 3
    elif damage == "two-in-one":  # records 4 and 5 in one member
        second = gzip.decompress(data[offsets[4] : offsets[5]])
        third = gzip.decompress(data[offsets[5] : offsets[6]])
        data = data[: offsets[4]] + gzip.compress(second + third) + data[offsets[6] :]
    path.write_bytes(data)
    for prefix_bytes in (0, 8192):
        ours, theirs = outcome(scan, path, prefix_bytes), outcome(library_scan, path, prefix_bytes)
        assert ours == theirs
    if damage == "none":
        assert [h.offset for h in scan(str(path))] == offsets
    if damage == "two-in-one":  # both refuse it, as they do a file gzipped as one stream
        assert ours == "warc_not_seekable"


def outcome(read: Any, path: Path, prefix_bytes: int) -> object:
    """The heads and (offset, reason) of each broken record; the reason when it is refused."""
    try:
        items = list(read(str(path) if read is scan else path, prefix_bytes=prefix_bytes))
    except IngestError as exc:
        return exc.reason
    return [i if isinstance(i, Head) else (i.offset, i.reason) for i in items]


def test_a_plain_record_with_a_wrong_length_is_one_broken_record_and_the_scan_goes_on(
    tmp_path: Path,
) -> None:
    records = [Record(f"http://a.test/{i}", f"<p>{'x' * 3000} {i}</p>".encode()) for i in range(6)]
    path = tmp_path / "plain.warc"
    offsets = write_warc(path, records, gzip=False)
    data = path.read_bytes()
    start = data.index(b"Content-Length: ", offsets[2]) + len(b"Content-Length: ")
    end = data.index(b"\r\n", start)
    path.write_bytes(data[:start] + str(int(data[start:end]) + 700).encode() + data[end:])
    items = list(scan(str(path)))
    assert [(i.offset, i.reason) for i in items if isinstance(i, Broken)] == [
        (offsets[2], "warc_unparseable")
    ]
    good = [i.url for i in items if not isinstance(i, Broken)]
    assert good == [r.url for k, r in enumerate(records) if k != 2]


def test_a_file_cut_short_ends_in_a_truncated_record(tmp_path: Path, settings: Settings) -> None:
    records = [Record(f"http://a.test/{i}", b"<p>" + b"y" * 20000 + b"</p>") for i in range(3)]
    path = tmp_path / "cut.warc"
    offsets = write_warc(path, records, gzip=False)
    path.write_bytes(path.read_bytes()[: offsets[2] + 5000])
    with pytest.raises(IngestError) as caught:
        read(path, offsets[2], records[2].url, settings)
    assert caught.value.reason == "warc_truncated"


# ---- the same document as live -------------------------------------------------------------


def test_a_record_becomes_the_document_its_url_fetched_live_becomes(
    tmp_path: Path, polite_settings: Settings, site: Site
) -> None:
    pages = small_pages(2)
    for i, page in enumerate(pages):
        site.static(f"/page/{i}.html", page.path.read_bytes())
    path = tmp_path / "live.warc.gz"
    base = site.url("").rstrip("/")
    records = page_warc(path, pages, base)
    offsets = [h.offset for h in scan(str(path))]  # type: ignore[union-attr]
    pipeline = Pipeline(polite_settings, confine_files=False)
    for record, offset in zip(records, offsets, strict=True):
        live = pipeline.process(Source("url", record.url), translate=False)
        archived = pipeline.process(record_source(str(path), offset, record.url, None),
                                    translate=False)  # fmt: skip
        assert archived.id == live.id, record.url
        assert (archived.text, archived.title, archived.url) == (live.text, live.title, live.url)
        assert archived.source["kind"] == "warc" and archived.source["fetched_at"] == DATE


def test_stats_lists_running_backfills(
    settings_env: dict[str, str], settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    path = tmp_path / "running.warc.gz"
    write_warc(path, [Record("http://a.test/x", b"<p>x</p>")])
    filters = Filters()
    job = job_id(file_identity(str(path)), filters)
    assert JobState(redis_client, settings).create(
        job, str(path), path.stat().st_size, "gzip", filters
    )
    out = run_cli(settings_env, "stats")
    assert out.returncode == 0, out.stderr
    assert f"backfill {job} scanning: {path}" in out.stdout
    as_json = json.loads(run_cli(settings_env, "stats", "--json").stdout)
    assert [b["job"] for b in as_json["backfills"]] == [job]


def test_checkpoints_move_once_from_where_their_run_started(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    state = JobState(redis_client, settings)
    filters = Filters()
    assert state.create("job1", str(tmp_path / "f.warc.gz"), 100, "gzip", filters)
    assert not state.create("job1", str(tmp_path / "f.warc.gz"), 100, "gzip", filters)
    assert state.commit_scan("job1", 0, 60, 1, {"scanned": 3, "kept": 2})
    assert not state.commit_scan("job1", 0, 60, 1, {"scanned": 3, "kept": 2})  # a second run
    assert state.commit_record("job1", 0, 0, {"ingested": 1})
    assert not state.commit_record("job1", 0, 0, {"ingested": 1})
    assert state.range_position("job1", 0) == 1
    assert state.end_scan("job1", 100, 100) is False  # not from where the scan stands
    assert state.commit_scan("job1", 60, 100, 1, {"scanned": 1})
    assert state.end_scan("job1", 100, 100)
    assert state.end_range("job1", 0) and not state.end_range("job1", 0)
    progress = state.read("job1")
    assert progress is not None
    assert (progress.status, progress.scanned, progress.kept, progress.ingested) == (
        "done",
        4,
        2,
        1,
    )
    assert state.range_position("job1", 0) is None


def test_backfill_tasks_wait_behind_live_work_and_keep_their_priority_when_resent(
    settings: Settings, redis_client: redis.Redis
) -> None:
    from workers.app import make_app
    from workers.outbox import outbox_key, sweep

    app = make_app(settings)
    app.producer.backfill({"kind": "warc_file", "job": "j", "file": "/x.warc.gz"})
    app.producer.ingest({"kind": "url", "location": "http://a.test/"})
    low = f"{settings.key_prefix}:celery:backfill\x06\x169"
    assert redis_client.llen(low) == 1
    assert redis_client.llen(f"{settings.key_prefix}:celery:backfill") == 0
    assert redis_client.llen(f"{settings.key_prefix}:celery:ingest") == 1
    records = [json.loads(v) for v in redis_client.hvals(outbox_key(settings))]
    assert sorted(r.get("priority", 0) for r in records) == [0, 9]
    assert (
        sweep(app, redis_client, settings, now=time.time() + settings.visibility_timeout + 1) == 2
    )
    assert redis_client.llen(low) == 2


def test_dead_replay_sends_each_input_back_to_the_task_that_takes_it(
    settings: Settings, redis_client: redis.Redis
) -> None:
    from workers.app import make_app

    producer = make_app(settings).producer
    record = record_source("/x.warc.gz", 120, "http://a.test/x", None).as_dict()
    producer.replay(record)  # a record: read again by its offset, through ingest
    producer.replay({"kind": "warc_range", "job": "j", "file": "/x.warc.gz", "range": 3,
                     "records": [[120, "http://a.test/x", None]]})  # fmt: skip
    queued = redis_client.lrange(f"{settings.key_prefix}:celery:ingest", 0, -1)
    assert [json.loads(m)["headers"]["task"] for m in queued] == ["newsingest.ingest"]
    backfill = redis_client.lrange(f"{settings.key_prefix}:celery:backfill\x06\x169", 0, -1)
    assert [json.loads(m)["headers"]["task"] for m in backfill] == ["newsingest.backfill_range"]
