"""Feeds and sitemaps: sources.toml, parsing, canonical item URLs, dedupe, conditional GET,
all over a real loopback server and a real Redis. The canonicaliser itself is specified in
test_normalise.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from devtools.http_fixtures import Request, Site
from service.decode import decode
from service.errors import FetchError, SourceError
from service.fetch import FetchPolicy, Source, fetch_url
from service.politeness import Politeness
from service.settings import Settings
from service.sources import (
    SourceConfig,
    configured_sources,
    load_sources,
    parse_feed,
    parse_sitemap,
    poll,
    sources_path,
)

from .conftest import EXTRACTION, REPO

GBK_NO_DECLARATION = "cwced_zh/pages/ab65832c-15b6-4c9e-b64f-3bc575332499.html"
ENGLISH_PAGE = "scrapinghub_aeb/pages/06ee193de4bd611f.html"


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as server:
        server.static("/articles/zh-1.html", (EXTRACTION / GBK_NO_DECLARATION).read_bytes())
        server.static(
            "/articles/en-1.html",
            (EXTRACTION / ENGLISH_PAGE).read_bytes(),
            "text/html; charset=utf-8",
        )
        yield server


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    return settings.replace(
        fetch_allow="127.0.0.1:*", fetch_host_delay=0.0, fetch_read_timeout=5.0, fetch_deadline=10.0
    )


def rss(site: Site, items: list[tuple[str, str]], language: str = "zh-cn") -> bytes:
    body = "".join(
        f"<item><title>t{i}</title><link>{link}</link><pubDate>{date}</pubDate></item>"
        for i, (link, date) in enumerate(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Test</title>'
        f"<link>{site.url('/')}</link><language>{language}</language>{body}</channel></rss>"
    ).encode()


def atom(items: list[tuple[str, str]]) -> bytes:
    body = "".join(
        f'<entry><title>t{i}</title><id>urn:x:{i}</id><link rel="alternate" href="{link}"/>'
        f"<updated>{updated}</updated></entry>"
        for i, (link, updated) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Test</title><id>urn:x</id><updated>2026-01-01T00:00:00Z</updated>{body}</feed>"
    ).encode()


def urlset(items: list[tuple[str, str]], news: bool = False) -> bytes:
    parts = []
    for loc, lastmod in items:
        extra = (
            "<news:news><news:publication><news:name>T</news:name>"
            "<news:language>zh</news:language></news:publication>"
            f"<news:publication_date>{lastmod}</news:publication_date>"
            "<news:title>t</news:title></news:news>"
            if news
            else f"<lastmod>{lastmod}</lastmod>"
        )
        parts.append(f"<url><loc>{loc}</loc>{extra}</url>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        + "".join(parts)
        + "</urlset>"
    ).encode()


def served_feed(site: Site, path: str, content_type: str) -> dict[str, Any]:
    """A feed route whose body the test changes; it honours If-None-Match like a real CDN."""
    state: dict[str, Any] = {"body": b"", "etag": None}

    def handle(req: Request) -> None:
        etag = state["etag"] or f'"{hash(state["body"]) & 0xFFFFFFFF:x}"'
        if req.headers.get("If-None-Match") == etag:
            req.send(304, b"", None, {"ETag": etag})
        else:
            req.send(200, state["body"], content_type, {"ETag": etag})

    site.routes[path] = handle
    return state


def config(site: Site, path: str, kind: str, **extra: Any) -> SourceConfig:
    return SourceConfig(name=f"test-{kind}", url=site.url(path), kind=kind, interval=60, **extra)


# -- sources.toml ----------------------------------------------------------------------------------


def test_the_shipped_sources_file_polls_nothing(settings: Settings) -> None:
    assert sources_path(settings) == REPO / "config" / "sources.toml"
    assert load_sources(REPO / "config" / "sources.toml") == []


def test_sources_are_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[sources]]\nname = "a"\nurl = "https://a.example/rss"\nkind = "rss"\ninterval = 900\n'
        'language = "EN"\nhost_delay = 2.5\n\n'
        '[[sources]]\nname = "b"\nurl = "https://b.example/sitemap.xml"\nkind = "sitemap"\n'
        "interval = 600\n"
    )
    a, b = load_sources(path)
    assert a == SourceConfig("a", "https://a.example/rss", "rss", 900.0, "en", 2.5)
    assert (b.kind, b.language, b.host_delay) == ("sitemap", None, None)
    path.write_text('[[sources]]\nname = "c"\nurl = "https://c.example/"\nkind = "html"\n')
    with pytest.raises(SourceError) as info:
        load_sources(path)
    assert info.value.reason == "bad_sources_file" and "kind" in info.value.message


# -- parsing ---------------------------------------------------------------------------------------


def test_parse_feed_reads_rss_links_dates_and_language(site: Site) -> None:
    body = rss(site, [("/articles/zh-1.html", "Mon, 05 Jan 2026 10:00:00 GMT")])
    (entry,) = parse_feed(body, site.url("/rss.xml"))
    assert entry.url == site.url("/articles/zh-1.html")
    assert entry.marker == "2026-01-05T10:00:00Z"
    assert entry.language == "zh"


def test_parse_feed_refuses_what_is_not_a_feed() -> None:
    with pytest.raises(FetchError) as info:
        parse_feed(b"<html><body>nope</body></html>", "http://x.example/feed")
    assert info.value.reason == "bad_feed"


def test_parse_sitemap_index_and_entity_expansion_is_off() -> None:
    index = (
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>/s1.xml</loc></sitemap><sitemap><loc>http://o.example/s2.xml</loc>"
        b"</sitemap></sitemapindex>"
    )
    parsed = parse_sitemap(index, "http://h.example/index.xml")
    assert parsed.children == ["http://h.example/s1.xml", "http://o.example/s2.xml"]
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">'
        b'<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>http://h.example/&b;&x;</loc></url></urlset>"
    )
    for entry in parse_sitemap(bomb, "http://h.example/s.xml").entries:
        assert "aaaa" not in entry.url and "root:" not in entry.url


# -- polling ---------------------------------------------------------------------------------------


def test_rss_poll_yields_canonical_new_items_once(
    site: Site, web_settings: Settings, redis_client: redis.Redis
) -> None:
    feed = served_feed(site, "/rss.xml", "application/rss+xml")
    feed["body"] = rss(
        site,
        [
            (site.url("/articles/zh-1.html?utm_source=rss&utm_medium=x#top"), "Mon, 05 Jan 2026"),
            (site.url("/articles/en-1.html?fbclid=1"), "Mon, 05 Jan 2026 09:00:00 GMT"),
            (site.url("/articles/en-1.html?gclid=2"), "Mon, 05 Jan 2026 09:00:00 GMT"),
        ],
    )
    source = config(site, "/rss.xml", "rss")
    first = poll(source, redis_client, web_settings)
    assert not first.unchanged and first.entries == 3
    assert [s.location for s in first.new] == [
        site.url("/articles/zh-1.html"),
        site.url("/articles/en-1.html"),
    ]
    assert {s.language_hint for s in first.new} == {"zh"}

    second = poll(source, redis_client, web_settings)
    assert second.unchanged and second.new == []
    assert site.requests[-1].headers.get("if-none-match")


def test_only_new_items_are_yielded_when_the_feed_changes(
    site: Site, web_settings: Settings, redis_client: redis.Redis
) -> None:
    feed = served_feed(site, "/rss.xml", "application/rss+xml")
    old = (site.url("/articles/zh-1.html"), "Mon, 05 Jan 2026 10:00:00 GMT")
    feed["body"] = rss(site, [old])
    source = config(site, "/rss.xml", "rss", language="zh")
    assert len(poll(source, redis_client, web_settings).new) == 1
    feed["body"] = rss(site, [(site.url("/articles/en-1.html"), "Tue, 06 Jan 2026"), old])
    result = poll(source, redis_client, web_settings)
    assert [s.location for s in result.new] == [site.url("/articles/en-1.html")]
    assert result.updated == 0


def test_an_updated_entry_is_yielded_again(
    site: Site, web_settings: Settings, redis_client: redis.Redis
) -> None:
    feed = served_feed(site, "/atom.xml", "application/atom+xml")
    link = site.url("/articles/en-1.html")
    feed["body"] = atom([(link, "2026-01-05T10:00:00Z")])
    source = config(site, "/atom.xml", "atom", language="en")
    assert [s.location for s in poll(source, redis_client, web_settings).new] == [link]
    feed["body"] = atom([(link, "2026-01-05T12:30:00Z")])
    again = poll(source, redis_client, web_settings)
    assert [s.location for s in again.new] == [link] and again.updated == 1
    assert again.new[0].language_hint == "en"


def test_same_body_under_new_validators_is_unchanged(
    site: Site, web_settings: Settings, redis_client: redis.Redis
) -> None:
    feed = served_feed(site, "/rss.xml", "application/rss+xml")
    feed["body"] = rss(site, [(site.url("/articles/zh-1.html"), "Mon, 05 Jan 2026")])
    source = config(site, "/rss.xml", "feed")
    feed["etag"] = '"a"'
    assert len(poll(source, redis_client, web_settings).new) == 1
    feed["etag"] = '"b"'
    assert poll(source, redis_client, web_settings).unchanged
    assert site.hits("/rss.xml") == 2


def test_a_changed_body_under_the_same_validators_is_noticed(
    site: Site, web_settings: Settings, redis_client: redis.Redis
) -> None:
    state = {"body": rss(site, [(site.url("/articles/zh-1.html"), "Mon, 05 Jan 2026")])}

    def handle(req: Request) -> None:  # ignores If-None-Match, always the same ETag
        req.send(200, state["body"], "application/rss+xml", {"ETag": '"stuck"'})

    site.routes["/rss.xml"] = handle
    source = config(site, "/rss.xml", "rss")
    assert len(poll(source, redis_client, web_settings).new) == 1
    state["body"] = rss(site, [(site.url("/articles/en-1.html"), "Tue, 06 Jan 2026")])
    result = poll(source, redis_client, web_settings)
    assert not result.unchanged
    assert [s.location for s in result.new] == [site.url("/articles/en-1.html")]


def test_sitemap_index_with_a_google_news_sitemap(
    site: Site, web_settings: Settings, redis_client: redis.Redis
) -> None:
    site.static(
        "/sitemap.xml",
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>/news.xml</loc></sitemap><sitemap><loc>/pages.xml</loc></sitemap>"
        b"<sitemap><loc>/missing.xml</loc></sitemap></sitemapindex>",
        "application/xml",
    )
    news = served_feed(site, "/news.xml", "application/xml")
    news["body"] = urlset([(site.url("/articles/zh-1.html"), "2026-01-05T10:00:00+08:00")], True)
    pages = served_feed(site, "/pages.xml", "text/xml")
    pages["body"] = urlset([(site.url("/articles/en-1.html?utm_campaign=s"), "2026-01-04")])
    source = config(site, "/sitemap.xml", "sitemap")
    result = poll(source, redis_client, web_settings)
    assert sorted(s.location for s in result.new) == [
        site.url("/articles/en-1.html"),
        site.url("/articles/zh-1.html"),
    ]
    hints = {s.location: s.language_hint for s in result.new}
    assert hints[site.url("/articles/zh-1.html")] == "zh"
    assert result.sitemaps == 2 and result.errors == [f"{site.url('/missing.xml')}: http_404"]

    pages["body"] = urlset([(site.url("/articles/en-1.html"), "2026-01-06")])
    again = poll(source, redis_client, web_settings)
    assert [s.location for s in again.new] == [site.url("/articles/en-1.html")]
    assert again.updated == 1


def test_an_item_whose_enqueue_failed_is_offered_again(
    site: Site, web_settings: Settings, redis_client: redis.Redis
) -> None:
    feed = served_feed(site, "/rss.xml", "application/rss+xml")
    feed["body"] = rss(site, [(site.url("/articles/zh-1.html"), "Mon, 05 Jan 2026")])
    source = config(site, "/rss.xml", "rss")

    def broken(item: Source) -> None:
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        poll(source, redis_client, web_settings, enqueue=broken)
    queued: list[Source] = []
    result = poll(source, redis_client, web_settings, enqueue=queued.append)
    assert [s.location for s in queued] == [site.url("/articles/zh-1.html")]
    assert result.new == queued


def test_polled_items_fetch_and_decode_end_to_end(
    site: Site, web_settings: Settings, redis_client: redis.Redis
) -> None:
    """Feed -> item URL -> polite fetch -> decode; the GBK page has no charset anywhere."""
    feed = served_feed(site, "/rss.xml", "application/rss+xml")
    feed["body"] = rss(
        site,
        [
            (site.url("/articles/zh-1.html?utm_source=feed"), "Mon, 05 Jan 2026"),
            (site.url("/articles/en-1.html"), "Mon, 05 Jan 2026"),
        ],
    )
    result = poll(config(site, "/rss.xml", "rss"), redis_client, web_settings)
    politeness = Politeness(redis_client, web_settings)
    texts = {}
    for item in result.new:
        got = fetch_url(item, FetchPolicy.from_settings(web_settings), politeness=politeness)
        texts[item.location] = decode(got.body, got.charset, is_html=True).text
    assert "为拆一幢房，断送了三条人命" in texts[site.url("/articles/zh-1.html")]
    assert site.hits("/robots.txt") == 1


def test_a_feed_served_as_html_is_refused(
    site: Site, web_settings: Settings, redis_client: redis.Redis
) -> None:
    site.static("/notfeed", b"<html></html>", "text/html")
    with pytest.raises(FetchError) as info:
        poll(config(site, "/notfeed", "rss"), redis_client, web_settings)
    assert info.value.reason == "disallowed_type"


def test_an_article_in_two_sources_is_fetched_once_and_never_flaps(
    site: Site, web_settings: Settings, redis_client: redis.Redis
) -> None:
    """Markers are compared per source: an RSS date and a sitemap lastmod for the same URL
    differ in form, and must not make the item look updated on every poll."""
    link = site.url("/articles/en-1.html")
    feed = served_feed(site, "/rss.xml", "application/rss+xml")
    feed["body"] = rss(site, [(link, "Mon, 05 Jan 2026 10:00:00 GMT")])
    pages = served_feed(site, "/pages.xml", "application/xml")
    pages["body"] = urlset([(link, "2026-01-05")])
    by_rss = config(site, "/rss.xml", "rss")
    by_sitemap = config(site, "/pages.xml", "sitemap")
    assert [s.location for s in poll(by_rss, redis_client, web_settings).new] == [link]
    assert poll(by_sitemap, redis_client, web_settings).new == []
    feed["body"] += b" "  # both change bodies, neither changes the item's marker
    pages["body"] += b" "
    assert poll(by_rss, redis_client, web_settings).new == []
    assert poll(by_sitemap, redis_client, web_settings).new == []
    pages["body"] = urlset([(link, "2026-01-07")])
    assert [s.location for s in poll(by_sitemap, redis_client, web_settings).new] == [link]


def test_a_dry_run_reports_new_items_and_remembers_nothing(
    site: Site, web_settings: Settings, redis_client: redis.Redis
) -> None:
    feed = served_feed(site, "/rss.xml", "application/rss+xml")
    feed["body"] = rss(site, [(site.url("/articles/zh-1.html"), "Mon, 05 Jan 2026")])
    source = config(site, "/rss.xml", "rss")
    for _ in range(2):
        dry = poll(source, redis_client, web_settings, dry_run=True)
        assert [s.location for s in dry.new] == [site.url("/articles/zh-1.html")]
    assert len(poll(source, redis_client, web_settings).new) == 1


def test_configured_sources_tolerate_a_missing_default_file(
    settings: Settings, tmp_path: Path
) -> None:
    assert configured_sources(settings.replace(config_dir=tmp_path)) == []
    with pytest.raises(SourceError) as info:
        configured_sources(settings.replace(sources_file=str(tmp_path / "nope.toml")))
    assert info.value.reason == "bad_sources_file"


def test_a_source_may_set_its_own_translate_scope() -> None:
    entry = {"name": "s", "url": "https://s.example/rss", "kind": "rss", "interval": 60}
    scoped = SourceConfig.from_dict({**entry, "translate_scope": "lead"})
    assert scoped.translate_scope == "lead"
    assert SourceConfig.from_dict(scoped.as_dict()) == scoped
    assert SourceConfig.from_dict(entry).translate_scope is None
    with pytest.raises(SourceError, match="translate_scope"):
        SourceConfig.from_dict({**entry, "translate_scope": "most"})
