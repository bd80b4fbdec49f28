"""The source registry in Redis: seeded from sources.toml, managed while the service runs,
scheduled by beat, and keeping each source's health. Real Redis, real polls against a
loopback server; time is a parameter (``now``), so twenty minutes take a second."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import redis

from devtools.http_fixtures import Request, Site
from service.metrics import RedisCollector
from service.politeness import Politeness
from service.settings import Settings
from service.sources import (
    Registry,
    SourceConfig,
    backoff,
    parse_opml,
    poll_registered,
    record_document,
    to_opml,
)
from service.store import Store
from workers import outbox
from workers.app import make_app
from workers.cli.ops import snapshot

from .conftest import REPO, Worker, run_cli

T0 = 1_767_600_000.0  # a fixed clock: 2026-01-05T08:00:00Z


def rss(site: Site, paths: list[str]) -> bytes:
    items = "".join(
        f"<item><title>t{i}</title><link>{site.url(p)}</link>"
        f"<pubDate>Mon, 05 Jan 2026 10:00:00 GMT</pubDate></item>"
        for i, p in enumerate(paths)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>{site.url('/')}</link>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def registry(polite_settings: Settings, redis_client: redis.Redis) -> Registry:
    return Registry(redis_client, polite_settings)


@pytest.fixture
def store(polite_settings: Settings, redis_client: redis.Redis) -> Store:
    return Store(redis_client, polite_settings)


def source(
    site: Site, name: str = "s", path: str = "/rss.xml", interval: float = 60
) -> SourceConfig:
    return SourceConfig(name=name, url=site.url(path), kind="feed", interval=interval)


def dead_letters(store: Store, name: str) -> list[dict[str, str]]:
    return [e for e in store.dead_entries(1000) if json.loads(e["input"]).get("name") == name]


# -- the registry ----------------------------------------------------------------------------------


def test_the_file_seeds_new_and_changed_entries_and_a_removed_source_stays_removed(
    registry: Registry,
) -> None:
    a = SourceConfig("a", "https://a.example/rss", "rss", 900.0)
    b = SourceConfig("b", "https://b.example/sitemap.xml", "sitemap", 600.0, "zh")
    assert registry.seed([a, b], now=T0) == ["a", "b"]
    assert registry.all() == [a, b]
    assert registry.seed([a, b], now=T0) == []
    assert registry.remove("a") and not registry.remove("a")
    assert registry.seed([a, b], now=T0) == []  # the file did not change: "a" stays removed
    a2 = SourceConfig("a", "https://a.example/rss", "rss", 300.0)
    assert registry.seed([a2, b], now=T0) == ["a"]  # the file's entry changed: it wins
    assert registry.require("a").interval == 300.0


def test_add_refuses_a_taken_name_unless_it_replaces(registry: Registry) -> None:
    a = SourceConfig("a", "https://a.example/rss", "rss", 900.0)
    registry.add(a, now=T0)
    with pytest.raises(Exception) as info:
        registry.add(a, now=T0)
    assert getattr(info.value, "reason", None) == "source_exists"
    registry.add(SourceConfig("a", "https://a.example/atom", "atom", 60.0), replace=True)
    assert registry.require("a").url == "https://a.example/atom"


def test_a_new_source_is_due_at_once_then_after_its_interval(registry: Registry) -> None:
    registry.add(SourceConfig("a", "https://a.example/rss", "rss", 60.0), now=T0)
    assert [c.name for c in registry.claim_due(T0)] == ["a"]
    assert registry.claim_due(T0) == []  # claimed once, even by a second beat
    assert registry.claim_due(T0 + 59) == []
    assert [c.name for c in registry.claim_due(T0 + 60)] == ["a"]


def test_a_paused_source_is_never_due_until_resumed(registry: Registry) -> None:
    registry.add(SourceConfig("a", "https://a.example/rss", "rss", 60.0), now=T0)
    registry.pause("a", "the desk asked", now=T0)
    assert registry.claim_due(T0 + 10_000) == []
    shown = registry.show("a")
    assert shown["paused"] and shown["paused_reason"] == "the desk asked"
    assert shown["next_poll"] is None
    registry.resume("a", now=T0 + 10_000)
    assert [c.name for c in registry.claim_due(T0 + 10_000)] == ["a"]
    assert registry.show("a")["paused"] is False


def test_back_off_doubles_up_to_its_ceiling() -> None:
    config = SourceConfig("a", "https://a.example/rss", "rss", 60.0)
    assert [backoff(config, n, 600) for n in range(7)] == [60, 60, 120, 240, 480, 600, 600]


# -- health ----------------------------------------------------------------------------------------


def test_twenty_minutes_of_a_broken_feed_give_one_dead_letter_and_a_paused_source(
    site: Site, registry: Registry, store: Store, polite_settings: Settings
) -> None:
    body = rss(site, [f"/a/{i}.html" for i in range(40)])
    site.static("/rss.xml", body[: len(body) * 6 // 10], "application/rss+xml")
    registry.add(source(site), now=T0)
    outcomes = []
    now = T0
    while now < T0 + 20 * 60:
        for config in registry.claim_due(now):
            outcomes.append(poll_registered(config.name, registry, store, now=now))
        now += 5
    assert [o["status"] for o in outcomes] == ["failed"] * 5
    assert [o["dead_letter"] for o in outcomes] == [True, False, False, False, False]
    assert site.hits("/rss.xml") == 5  # at 0, 1, 3, 7 and 15 minutes: backed off
    [dead] = dead_letters(store, "s")
    assert dead["reason"] == "truncated_feed" and dead["stage"] == "poll"
    shown = registry.show("s")
    assert shown["paused"] and "5 failed polls in a row" in shown["paused_reason"]
    assert "truncated_feed" in shown["paused_reason"]
    assert (shown["consecutive_failures"], shown["failures"], shown["polls"]) == (5, 5, 5)
    assert shown["last_reason"] == "truncated_feed" and shown["dead_letters"] == 1
    assert registry.claim_due(T0 + 86_400) == []
    # Replaying the episode's dead letter resumes the source: it is due again at once.
    make_app(polite_settings).producer.replay(json.loads(dead["input"]))
    assert not registry.show("s")["paused"] and registry.show("s")["consecutive_failures"] == 0
    assert [c.name for c in registry.claim_due(time.time())] == ["s"]


def test_a_recovered_source_starts_a_new_episode(
    site: Site, registry: Registry, store: Store
) -> None:
    state = {"status": 500}

    def handle(req: Request) -> None:
        if state["status"] == 200:
            req.send(200, rss(site, ["/a/1.html"]), "application/rss+xml")
        else:
            req.send(state["status"], b"oops", "text/plain")

    site.routes["/rss.xml"] = handle
    registry.add(source(site), now=T0)
    first = poll_registered("s", registry, store, now=T0)
    assert first["status"] == "failed" and first["reason"] == "http_500"
    assert registry.next_due("s") == T0 + 60
    assert poll_registered("s", registry, store, now=T0 + 60)["dead_letter"] is False
    assert registry.next_due("s") == T0 + 60 + 120  # backed off
    state["status"] = 200
    ok = poll_registered("s", registry, store, now=T0 + 180)
    assert ok["status"] == "polled" and len(ok["new"]) == 1
    assert registry.show("s")["consecutive_failures"] == 0
    assert registry.next_due("s") == T0 + 180 + 60
    state["status"] = 404
    assert poll_registered("s", registry, store, now=T0 + 240)["dead_letter"] is True
    assert [d["reason"] for d in dead_letters(store, "s")] == ["http_500", "http_404"]


def test_a_poll_deferred_by_its_host_is_no_failure(
    site: Site, registry: Registry, store: Store, polite_settings: Settings
) -> None:
    site.static("/rss.xml", rss(site, ["/a/1.html"]), "application/rss+xml")
    registry.add(source(site), now=T0)
    Politeness(registry.client, polite_settings).defer(site.url("/rss.xml"), 120)
    outcome = poll_registered("s", registry, store, now=T0)
    assert outcome["status"] == "deferred" and outcome["reason"] == "host_backoff"
    assert registry.show("s")["consecutive_failures"] == 0 and dead_letters(store, "s") == []
    due = registry.next_due("s")
    assert due is not None and due >= T0 + 100  # the host's Retry-After, not a back-off


def test_a_feed_answering_503_does_not_hold_back_the_other_feeds_of_its_host(
    site: Site, registry: Registry, store: Store, polite_settings: Settings
) -> None:
    site.routes["/busy.xml"] = lambda req: req.send(
        503, b"later", "text/plain", {"Retry-After": "600"}
    )
    site.static("/calm.xml", rss(site, ["/a/1.html"]), "application/rss+xml")
    registry.add(source(site, "busy", "/busy.xml"), now=T0)
    registry.add(source(site, "calm", "/calm.xml"), now=T0)
    busy = poll_registered("busy", registry, store, now=T0)
    assert busy["status"] == "failed" and busy["reason"] == "http_503"
    assert registry.next_due("busy") == T0 + 600  # the server's word, over the back-off
    assert poll_registered("calm", registry, store, now=T0 + 1)["status"] == "polled"
    Politeness(registry.client, polite_settings).check_backoff(site.url("/a/1.html"))
    again = poll_registered("busy", registry, store, now=T0 + 2)  # polled early, by hand
    assert again["status"] == "deferred" and site.hits("/busy.xml") == 1


def test_show_counts_polls_items_documents_and_extraction_health(
    site: Site, registry: Registry, store: Store
) -> None:
    site.static("/rss.xml", rss(site, ["/a/1.html", "/a/2.html"]), "application/rss+xml")
    registry.add(source(site), now=T0)
    assert poll_registered("s", registry, store, now=T0)["status"] == "polled"
    assert poll_registered("s", registry, store, now=T0 + 60)["unchanged"] is True
    feed = {"feed": {"name": "s"}}
    record_document(registry, {"source": feed, "title": "A", "published_at": "x", "text": "t"})
    record_document(registry, {"source": feed, "title": None, "published_at": None, "text": ""})
    record_document(registry, {"source": {"kind": "url"}, "title": None, "text": ""})
    shown = registry.show("s")
    assert (shown["polls"], shown["unchanged"], shown["entries"], shown["new"]) == (2, 1, 2, 2)
    assert shown["last_poll"] == "2026-01-05T08:01:00Z"
    assert shown["last_success"] == "2026-01-05T08:01:00Z"
    assert shown["documents"] == 2
    assert shown["extraction"] == {"no_title": 0.5, "no_date": 0.5, "empty_text": 0.5}
    assert shown["poll_seconds_mean"] is not None and shown["last_error"] is None


def test_a_permanent_redirect_is_remembered_and_a_temporary_one_is_not(
    site: Site, registry: Registry, store: Store
) -> None:
    site.static("/new.xml", rss(site, ["/a/1.html"]), "application/rss+xml")
    site.routes["/old.xml"] = lambda req: req.send(301, b"", None, {"Location": "/new.xml"})
    site.routes["/tmp.xml"] = lambda req: req.send(302, b"", None, {"Location": "/new.xml"})
    registry.add(source(site, "moved", "/old.xml"), now=T0)
    registry.add(source(site, "visiting", "/tmp.xml"), now=T0)
    for now in (T0, T0 + 60, T0 + 120):
        for name in ("moved", "visiting"):
            assert poll_registered(name, registry, store, now=now)["status"] == "polled"
    assert registry.require("moved").url == site.url("/new.xml")
    assert registry.show("moved")["moved_from"] == site.url("/old.xml")
    assert site.hits("/old.xml") == 2  # the first poll, and the one look that it is permanent
    assert registry.require("visiting").url == site.url("/tmp.xml")
    assert site.hits("/tmp.xml") == 6  # followed every time: 302 may change back


def test_a_removed_source_is_not_polled_and_keeps_no_health(
    site: Site, registry: Registry, store: Store
) -> None:
    registry.add(source(site), now=T0)
    registry.remove("s")
    assert poll_registered("s", registry, store, now=T0) == {"status": "unknown", "source": "s"}
    registry.count("s", documents=1)
    assert not registry.client.exists(registry.health_key("s"))
    assert site.hits("/rss.xml") == 0


def test_stats_and_the_exporter_show_each_source(
    site: Site, registry: Registry, store: Store, polite_settings: Settings
) -> None:
    site.static("/rss.xml", rss(site, ["/a/1.html"]), "application/rss+xml")
    registry.add(source(site, "good"), now=T0)
    registry.add(source(site, "bad", "/missing.xml"), now=T0)
    for name in ("good", "bad"):
        poll_registered(name, registry, store, now=T0)
    snap = snapshot(registry.client, polite_settings)
    assert [(s["name"], s["failures"], s["new"]) for s in snap["sources"]] == [
        ("bad", 1, 0),
        ("good", 0, 1),
    ]
    samples = {
        (metric.name, sample.labels.get("source")): sample.value
        for metric in RedisCollector(lambda: snap).collect()
        for sample in metric.samples
    }
    assert samples[("newsingest_source_failures", "bad")] == 1
    assert samples[("newsingest_source_new", "good")] == 1
    assert samples[("newsingest_source_consecutive_failures", "bad")] == 1
    assert samples[("newsingest_source_last_success_timestamp", "good")] == T0


# -- OPML ------------------------------------------------------------------------------------------

OPML = b"""<?xml version="1.0"?><opml version="1.0"><head><title>Desk</title></head><body>
<outline text="World"><outline text="Yonhap English" type="rss"
  xmlUrl="https://en.yna.example/rss/news.xml"/>
<outline title="Yonhap English" type="rss" xmlUrl="https://en.yna.example/rss/world.xml"/>
</outline><outline text="Xinhua &amp; Co" type="rss" xmlUrl="https://xh.example/feed.xml"
  language="zh-CN" interval="300"/><outline text="a folder without feeds"/></body></opml>"""


def test_opml_import_reads_nested_outlines_with_unique_names() -> None:
    configs = parse_opml(OPML, taken=["xinhua-co"])
    assert [(c.name, c.url, c.interval, c.language) for c in configs] == [
        ("yonhap-english", "https://en.yna.example/rss/news.xml", 900.0, None),
        ("yonhap-english-2", "https://en.yna.example/rss/world.xml", 900.0, None),
        ("xinhua-co-2", "https://xh.example/feed.xml", 300.0, "zh-cn"),
    ]


def test_opml_export_round_trips() -> None:
    configs = [
        SourceConfig("a", "https://a.example/rss", "rss", 900.0, "en"),
        SourceConfig("b", "https://b.example/sitemap.xml", "sitemap", 600.0),
    ]
    assert parse_opml(to_opml(configs)) == configs


def test_opml_that_is_not_opml_is_refused() -> None:
    with pytest.raises(Exception) as info:
        parse_opml(b"<rss/>")
    assert getattr(info.value, "reason", None) == "bad_opml"


# -- the command line ------------------------------------------------------------------------------


def test_the_sources_commands_manage_the_registry(
    settings_env: dict[str, str], redis_client: redis.Redis, tmp_path: Path
) -> None:
    env = dict(settings_env, NEWSINGEST_SOURCES_FILE=str(tmp_path / "sources.toml"))
    (tmp_path / "sources.toml").write_text(
        '[[sources]]\nname = "seeded"\nurl = "https://s.example/rss"\nkind = "rss"\n'
        "interval = 600\n"
    )
    (tmp_path / "desk.opml").write_bytes(OPML)

    def cli(*args: str) -> str:
        out = run_cli(env, "sources", *args)
        assert out.returncode == 0, out.stderr
        return out.stdout

    cli("add", "kr", "https://kr.example/rss", "--interval", "60", "--lang", "ko")
    imported = json.loads(cli("import", str(tmp_path / "desk.opml")))
    assert imported["imported"] == 3
    again = json.loads(cli("import", str(tmp_path / "desk.opml")))
    assert again["imported"] == 0 and len(again["already_registered"]) == 3
    cli("pause", "kr", "--reason", "site moved")
    names = {json.loads(line)["name"]: json.loads(line) for line in cli("list").splitlines()}
    assert set(names) == {"seeded", "kr", "yonhap-english", "yonhap-english-2", "xinhua-co"}
    assert names["kr"]["paused"] and not names["seeded"]["paused"]
    shown = json.loads(cli("show", "kr"))
    for key in ("last_poll", "last_success", "last_error", "consecutive_failures", "paused",
                "new", "documents"):  # fmt: skip
        assert key in shown
    assert shown["paused_reason"] == "site moved" and shown["language"] == "ko"
    cli("resume", "kr")
    assert json.loads(cli("show", "kr"))["paused"] is False
    exported = cli("export").encode()
    assert len(parse_opml(exported)) == 5
    stats = run_cli(env, "stats")
    assert stats.returncode == 0, stats.stderr
    assert "source kr active: 0 polls" in stats.stdout
    cli("remove", "kr")
    taken = run_cli(env, "sources", "add", "seeded", "https://x.example/rss")
    assert taken.returncode == 2 and "exists" in taken.stderr
    gone = run_cli(env, "sources", "show", "kr")
    assert gone.returncode == 2 and "no source named 'kr'" in gone.stderr


# -- beat and a worker -----------------------------------------------------------------------------


@pytest.fixture
def beat(settings_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`newsingest beat`, reading the registry twice a second."""
    log = tmp_path / "beat.log"
    env = dict(settings_env, NEWSINGEST_SOURCE_TICK="0.5")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "beat", "--loglevel", "info"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.integration
def test_a_source_added_while_running_is_polled_and_its_items_published(
    settings_env: dict[str, str],
    settings: Settings,
    redis_client: redis.Redis,
    site: Site,
    tmp_path: Path,
    beat: object,
) -> None:
    env = dict(settings_env, NEWSINGEST_FETCH_ALLOW="127.0.0.1:*", NEWSINGEST_FETCH_HOST_DELAY="0")
    worker = Worker(env, tmp_path / "worker.log").start()
    try:
        site.static("/a/1.html", b"<html><head><title>One</title></head><body><article><p>"
                    + b"A long enough paragraph about the harbour and its new ferry line. " * 8
                    + b"</p></article></body></html>", "text/html; charset=utf-8")  # fmt: skip
        site.static("/rss.xml", rss(site, ["/a/1.html"]), "application/rss+xml")
        out = run_cli(env, "sources", "add", "live", site.url("/rss.xml"), "--interval", "3600")
        assert out.returncode == 0, out.stderr
        registry = Registry(redis_client, settings)
        # A poll that waited past its expiry is dropped by the worker, counted and logged.
        app = make_app(settings)
        past = datetime.now(UTC) - timedelta(minutes=5)
        app.send_task(outbox.POLL_TASK, args=["live"], queue=outbox.POLL_QUEUE, expires=past)
        deadline = time.monotonic() + 240
        while registry.show("live")["documents"] < 1 or registry.show("live")["expired"] < 1:
            if time.monotonic() > deadline:
                pytest.fail("the source added while running was not polled and ingested:\n"
                            + worker.log.read_text()[-3000:])  # fmt: skip
            time.sleep(0.3)
        shown = registry.show("live")
        assert shown["polls"] == 1 and shown["new"] == 1 and shown["last_success"]
        assert shown["expired"] == 1 and "poll of source live expired" in worker.log.read_text()
        [entry] = cast(list[Any], redis_client.xrange(settings.documents_stream))
        doc = json.loads(entry[1][b"doc"])
        assert doc["source"]["feed"]["name"] == "live" and doc["source"]["feed"]["title"] == "t0"
    finally:
        worker.stop()


@pytest.mark.integration
def test_a_poll_does_not_wait_behind_a_backlog_of_articles(
    settings_env: dict[str, str],
    settings: Settings,
    redis_client: redis.Redis,
    site: Site,
    tmp_path: Path,
) -> None:
    ingest_queue = f"{settings.key_prefix}:celery:{outbox.INGEST_QUEUE}"
    backlog_at_poll: list[int] = []

    def handle(req: Request) -> None:
        backlog_at_poll.append(cast(int, redis_client.llen(ingest_queue)))
        req.send(200, rss(site, ["/a/1.html"]), "application/rss+xml")

    site.routes["/rss.xml"] = handle
    app = make_app(settings)
    for _ in range(60):
        app.producer.ingest({"kind": "file", "location": str(REPO / "README.md")})
    Registry(redis_client, settings).add(source(site, "first"))
    app.send_task(outbox.POLL_TASK, args=["first"], queue=outbox.POLL_QUEUE)
    env = dict(settings_env, NEWSINGEST_FETCH_ALLOW="127.0.0.1:*", NEWSINGEST_FETCH_HOST_DELAY="0")
    worker = Worker(env, tmp_path / "worker.log").start()
    try:
        deadline = time.monotonic() + 240
        while not backlog_at_poll:
            if time.monotonic() > deadline:
                pytest.fail("the poll never ran:\n" + worker.log.read_text()[-3000:])
            time.sleep(0.2)
    finally:
        worker.stop()
    assert backlog_at_poll[0] >= 50  # taken after at most a few of the 60 articles
