"""What a feed item brings and what a source's rules hold back: item metadata into the
document, JSON Feed, truncated feeds, the size cap after decompression, advertisements,
trackers, max_age, URL patterns, max_items, per-source headers and discovery. Real Redis and
a real loopback server, as in test_sources.py, whose feed builders these tests share."""

from __future__ import annotations

import gzip
import json

import pytest
import redis

from devtools.http_fixtures import Request, Site
from service.errors import FetchError, SourceError
from service.fetch import FetchPolicy, Source, make_client
from service.pipeline import Pipeline
from service.settings import Settings
from service.sources import (
    SourceConfig,
    discover,
    is_advertisement,
    parse_feed,
    poll,
    unwrap,
)

from .conftest import EXTRACTION, KOREAN_PAGE
from .test_sources import config, rss, served_feed, urlset

# -- item metadata, formats and limits -------------------------------------------------------------


RICH_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"
     xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title><language>en-us</language>
<item><title>  Seoul&#8217;s   new line </title>
  <link>http://feedproxy.google.com/~r/t/~3/abc/</link>
  <feedburner:origLink>{article}</feedburner:origLink>
  <dc:creator>Kim Min-ji</dc:creator><category>World</category><category>Asia</category>
  <guid isPermaLink="false">urn:t:42</guid><pubDate>Mon, 05 Jan 2026 10:00:00 +0900</pubDate>
</item>
<item><title>[AD] Buy now</title><link>https://shop.example/deal</link></item>
<item><title>Tracked</title>
  <link>https://www.google.com/url?rct=j&amp;url=https%3A%2F%2Fnews.example%2Fa%2F7&amp;ct=ga</link>
</item>
</channel></rss>"""


def test_feed_items_carry_title_date_author_categories_and_guid() -> None:
    body = RICH_RSS.format(article="https://news.example/kr/1").encode()
    first, _ad, tracked = parse_feed(body, "https://news.example/rss")
    assert first.url == "https://news.example/kr/1"  # FeedBurner's origLink, not its redirect
    assert first.title == "Seoul\u2019s new line"
    assert first.published == "2026-01-05T01:00:00Z"
    assert first.author == "Kim Min-ji"
    assert first.categories == ("World", "Asia")
    assert first.guid == "urn:t:42"
    assert unwrap(tracked.url) == "https://news.example/a/7"


def test_advertisements_are_recognised() -> None:
    body = RICH_RSS.format(article="https://news.example/kr/1").encode()
    first, ad, tracked = parse_feed(body, "https://news.example/rss")
    assert is_advertisement(ad) and not is_advertisement(first) and not is_advertisement(tracked)
    sponsored = parse_feed(
        b'<rss version="2.0"><channel><title>T</title><item><title>Nice</title>'
        b"<link>https://n.example/1</link><category>Sponsored</category></item></channel></rss>",
        "https://n.example/rss",
    )[0]
    assert is_advertisement(sponsored)


def test_a_json_feed_is_read() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "J",
            "language": "ko-KR",
            "authors": [{"name": "Desk"}],
            "items": [
                {"id": "1", "url": "/a/1", "title": "One", "tags": ["x"],
                 "date_published": "2026-01-05T10:00:00+09:00"},
                {"id": "2", "external_url": "https://o.example/2",
                 "date_modified": "2026-01-06T00:00:00Z", "authors": [{"name": "Lee"}]},
                {"id": "3", "content_text": "no link"},
            ],
        }
    ).encode()  # fmt: skip
    one, two = parse_feed(body, "https://j.example/feed.json", "application/feed+json")
    assert (one.url, one.title, one.published, one.guid) == (
        "https://j.example/a/1", "One", "2026-01-05T01:00:00Z", "1",
    )  # fmt: skip
    assert (one.language, one.author, one.categories) == ("ko", "Desk", ("x",))
    assert (two.url, two.marker, two.author) == (
        "https://o.example/2",
        "2026-01-06T00:00:00Z",
        "Lee",
    )


@pytest.mark.parametrize("cut", [0.6, 0.95])
def test_a_truncated_feed_is_an_error_with_a_reason(cut: float) -> None:
    items = "".join(
        f"<item><title>t{i}</title><link>https://n.example/{i}</link></item>" for i in range(50)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}'
    body += "</channel></rss>\n"
    assert len(parse_feed(body.encode(), "https://n.example/rss")) == 50
    with pytest.raises(FetchError) as info:
        parse_feed(body.encode()[: int(len(body) * cut)], "https://n.example/rss")
    assert info.value.reason == "truncated_feed"


@pytest.mark.parametrize("media", ["application/feed+json", "application/json"])
def test_a_json_feed_is_polled_over_http(
    media: str, site: Site, polite_settings: Settings, redis_client: redis.Redis
) -> None:
    body = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "items": [{"id": str(i), "url": site.url(f"/j/{i}.html")} for i in range(3)],
    }
    site.static("/feed.json", json.dumps(body).encode(), f"{media}; charset=utf-8")
    result = poll(config(site, "/feed.json", "rss"), redis_client, polite_settings)
    assert [s.location for s in result.new] == [site.url(f"/j/{i}.html") for i in range(3)]


def test_a_truncated_json_feed_is_an_error_with_a_reason() -> None:
    body = json.dumps(
        {"version": "https://jsonfeed.org/version/1.1",
         "items": [{"id": str(i), "url": f"https://j.example/{i}"} for i in range(20)]}
    ).encode()  # fmt: skip
    with pytest.raises(FetchError) as info:
        parse_feed(body[: len(body) // 2], "https://j.example/feed.json")
    assert info.value.reason == "truncated_feed"
    with pytest.raises(FetchError) as info:
        parse_feed(b'{"items": []}', "https://j.example/feed.json")
    assert info.value.reason == "bad_feed"


def test_an_undefined_entity_or_junk_after_the_feed_is_no_truncation() -> None:
    body = (
        b'<rss version="2.0"><channel><title>T</title><item><title>a&nbsp;b</title>'
        b"<link>https://n.example/1</link></item></channel></rss>\n<script>ad()</script>"
    )
    assert [e.title for e in parse_feed(body, "https://n.example/rss")] == ["a b"]


def test_the_size_cap_applies_after_decompression(
    site: Site, polite_settings: Settings, redis_client: redis.Redis
) -> None:
    items = [(site.url(f"/articles/{i}.html"), "Mon, 05 Jan 2026") for i in range(400)]
    body = rss(site, items)
    packed = gzip.compress(body)
    site.routes["/big.xml"] = lambda req: req.send(
        200, packed, "application/rss+xml", {"Content-Encoding": "gzip"}
    )
    small = polite_settings.replace(feed_max_bytes=len(body) - 1)
    assert len(packed) < small.feed_max_bytes
    with pytest.raises(FetchError) as info:
        poll(config(site, "/big.xml", "rss"), redis_client, small)
    assert info.value.reason == "too_large" and "after decompression" in info.value.message
    assert len(poll(config(site, "/big.xml", "rss"), redis_client, polite_settings).new) == 400


def test_rules_skip_ads_old_items_and_urls_outside_the_patterns(
    site: Site, polite_settings: Settings, redis_client: redis.Redis
) -> None:
    feed = served_feed(site, "/rss.xml", "application/rss+xml")
    feed["body"] = rss(
        site,
        [
            (site.url("/news/1.html"), "Mon, 05 Jan 2026 10:00:00 GMT"),
            (site.url("/news/old.html"), "Fri, 02 Jan 2004 10:00:00 GMT"),
            (site.url("/video/2.html"), "Mon, 05 Jan 2026 10:00:00 GMT"),
            (site.url("/news/live-3.html"), "Mon, 05 Jan 2026 10:00:00 GMT"),
            ("https://ad.doubleclick.net/ddm/clk/1", "Mon, 05 Jan 2026 10:00:00 GMT"),
        ],
    )
    source = config(
        site, "/rss.xml", "rss", max_age=30 * 86400, include=("/news/",), exclude=("live-",)
    )
    now = 1767607200.0 + 86400  # the day after 2026-01-05 10:00 UTC
    result = poll(source, redis_client, polite_settings, now=now)
    assert [s.location for s in result.new] == [site.url("/news/1.html")]
    assert result.skipped == {"max_age": 1, "include": 1, "exclude": 1, "advertisement": 1}


def test_max_items_takes_the_rest_next_time(
    site: Site, polite_settings: Settings, redis_client: redis.Redis
) -> None:
    feed = served_feed(site, "/rss.xml", "application/rss+xml")
    feed["body"] = rss(site, [(site.url(f"/a/{i}.html"), "Mon, 05 Jan 2026") for i in range(5)])
    source = config(site, "/rss.xml", "rss", max_items=2)
    batches = [
        [s.location for s in poll(source, redis_client, polite_settings).new] for _ in range(4)
    ]
    assert batches == [
        [site.url("/a/0.html"), site.url("/a/1.html")],
        [site.url("/a/2.html"), site.url("/a/3.html")],
        [site.url("/a/4.html")],
        [],
    ]


def test_an_item_brings_its_feed_metadata_into_the_document(
    site: Site, polite_settings: Settings, redis_client: redis.Redis
) -> None:
    """And the feed's wrong en-us does not make a Korean page English."""
    site.static("/kr/1.html", (EXTRACTION / KOREAN_PAGE).read_bytes(), "text/html; charset=utf-8")
    site.static(
        "/rss.xml", RICH_RSS.format(article=site.url("/kr/1.html")).encode(), "application/rss+xml"
    )
    result = poll(config(site, "/rss.xml", "rss"), redis_client, polite_settings)
    item = result.new[0]
    assert item.language_hint == "en" and item.feed is not None
    assert Source.from_dict(item.as_dict()) == item  # crosses the queue intact
    doc = Pipeline(polite_settings).process(item, translate=False)
    doc.validate()
    assert doc.language == "ko"
    assert doc.source["feed"] == {
        "name": "test-rss",
        "title": "Seoul\u2019s new line",
        "published": "2026-01-05T01:00:00Z",
        "author": "Kim Min-ji",
        "categories": ["World", "Asia"],
        "guid": "urn:t:42",
    }


def test_discover_finds_linked_feeds_and_robots_sitemaps(
    site: Site, polite_settings: Settings
) -> None:
    site.static(
        "/",
        b'<html><head><link rel="alternate" type="application/rss+xml" title="All" '
        b'href="/rss.xml"><link rel="stylesheet" href="/s.css"></head><body>hi</body></html>',
        "text/html",
    )
    site.static("/rss.xml", rss(site, [(site.url("/a/1.html"), "Mon, 05 Jan 2026")]),
                "application/rss+xml")  # fmt: skip
    site.static("/robots.txt", b"User-agent: *\nAllow: /\nSitemap: /news-map.xml\n", "text/plain")
    site.static("/news-map.xml", urlset([(site.url("/a/1.html"), "2026-01-05")], True),
                "application/xml")  # fmt: skip
    found = discover(site.url("/"), FetchPolicy.from_settings(polite_settings))
    assert [(f["url"], f["kind"], f["via"], f["items"]) for f in found] == [
        (site.url("/rss.xml"), "feed", "link", 1),
        (site.url("/news-map.xml"), "sitemap", "robots", 1),
    ]
    assert found[0]["language"] == "zh"
    for proposal in found:
        SourceConfig.from_dict({k: proposal[k] for k in ("name", "url", "kind", "interval")})


def test_a_source_sends_its_own_headers_and_only_its_own(
    site: Site, polite_settings: Settings, redis_client: redis.Redis
) -> None:
    def handle(req: Request) -> None:
        if req.headers.get("X-Api-Key") == "k1":
            req.send(200, rss(site, [(site.url("/a/1.html"), "Mon, 05 Jan 2026")]),
                     "application/rss+xml")  # fmt: skip
        else:
            req.send(403, b"key?", "text/plain")

    site.routes["/private.xml"] = handle
    site.static("/public.xml", rss(site, []), "application/rss+xml")
    shared = make_client(FetchPolicy.from_settings(polite_settings))
    try:
        private = config(site, "/private.xml", "rss", headers=(("X-Api-Key", "k1"),))
        assert len(poll(private, redis_client, polite_settings, client=shared).new) == 1
        poll(config(site, "/public.xml", "rss"), redis_client, polite_settings, client=shared)
        with pytest.raises(FetchError) as info:
            poll(config(site, "/private.xml", "rss"), redis_client, polite_settings, client=shared)
    finally:
        shared.close()
    assert info.value.reason == "http_403"
    [public] = [r for r in site.requests if r.path == "/public.xml"]
    assert "x-api-key" not in public.headers


def test_headers_the_fetcher_owns_are_refused() -> None:
    entry = {"name": "a", "url": "https://a.example/rss", "interval": 60}
    with pytest.raises(SourceError) as info:
        SourceConfig.from_dict({**entry, "headers": {"Accept-Encoding": "identity"}})
    assert "set by the fetcher" in info.value.message
    with pytest.raises(SourceError):
        SourceConfig.from_dict({**entry, "headers": {"X-A": "b\r\nInjected: 1"}})
    ok = SourceConfig.from_dict({**entry, "headers": {"Cookie": "consent=1"}})
    assert SourceConfig.from_dict(ok.as_dict()) == ok
