"""One article, one id: the same page reached from a feed item, from a link carrying tracking
parameters and from its plain URL is one document, whether the page names its canonical URL
or not, and for plain text. Real corpus pages, a real loopback server, the real pipeline."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import redis

from devtools.http_fixtures import Request, Site
from service.fetch import Source
from service.pipeline import Pipeline
from service.settings import Settings
from service.sources import SourceConfig, poll

from .conftest import ENGLISH_SEED, EXTRACTION, GB2312_SMALL_PAGE, SEEDS, run_cli

# An article whose own parameters are not in sorted order, as on many CMSs (show.php?id=...).
QUERY = "?id=7&cat=world"
TRACKED = "&utm_source=x&utm_medium=y"
NO_CANONICAL = GB2312_SMALL_PAGE  # no canonical link, no og:url
WITH_CANONICAL = "scrapinghub_aeb/pages/06ee193de4bd611f.html"
SLASHGEAR = (
    "https://www.slashgear.com/"
    "the-vw-id-space-vizzion-is-a-weird-ev-sports-wagon-with-a-secret-message-19600475/"
)


def echo_canonical(page: bytes) -> Callable[[Request], None]:
    """A CMS that writes the request URL, query and all, into the page's canonical link."""

    def handle(req: Request) -> None:
        link = f'<link rel="canonical" href="http://{req.headers["Host"]}{req.path}">'
        body = re.sub(rb"<head>", b"<head>" + link.encode(), page, count=1, flags=re.I)
        req.send(200, body, "text/html")

    return handle


@dataclass(frozen=True)
class Kind:
    path: str
    canonical: str | None  # the document's canonical_url; None: the plain article URL


KINDS = {
    "html without a canonical link": Kind("/plain/show.php", None),
    "html whose canonical link echoes the request": Kind("/echo/show.php", None),
    "html with a fixed canonical link": Kind("/fixed/show.php", SLASHGEAR),
    "plain text": Kind("/text/show.php", None),
}


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with Site() as server:
        no_canonical = (EXTRACTION / NO_CANONICAL).read_bytes()
        server.static("/plain/show.php", no_canonical, "text/html")
        server.routes["/echo/show.php"] = echo_canonical(no_canonical)
        server.static("/fixed/show.php", (EXTRACTION / WITH_CANONICAL).read_bytes())
        server.static(
            "/text/show.php", (SEEDS / ENGLISH_SEED).read_bytes(), "text/plain; charset=utf-8"
        )
        yield server


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    return settings.replace(
        fetch_allow="127.0.0.1:*", fetch_host_delay=0.0, fetch_read_timeout=5.0, fetch_deadline=10.0
    )


def feed_item(site: Site, link: str, settings: Settings, client: redis.Redis) -> Source:
    """The item a real poll of a one-item RSS feed linking to ``link`` hands on."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>{site.url('/')}</link><item><title>t</title>"
        f"<link>{link.replace('&', '&amp;')}</link></item></channel></rss>"
    )
    site.static("/rss.xml", body.encode(), "application/rss+xml")
    (item,) = poll(SourceConfig("identity", site.url("/rss.xml"), "rss", 60), client, settings).new
    return item


@pytest.mark.parametrize("name", list(KINDS))
def test_one_article_gets_one_id_however_it_arrives(
    name: str, site: Site, web_settings: Settings, redis_client: redis.Redis
) -> None:
    kind = KINDS[name]
    article = site.url(kind.path + QUERY)
    pipeline = Pipeline(web_settings)
    docs = {
        "feed item": pipeline.process(
            feed_item(
                site, article + "&utm_source=rss&utm_medium=feed", web_settings, redis_client
            ),
            translate=False,
        ),
        "tracking parameters": pipeline.process(Source("url", article + TRACKED), translate=False),
        "plain URL": pipeline.process(Source("url", article), translate=False),
    }
    ids = {how: doc.id for how, doc in docs.items()}
    assert len(set(ids.values())) == 1, ids
    canonical = kind.canonical or site.url(kind.path + "?cat=world&id=7")
    assert {how: doc.canonical_url for how, doc in docs.items()} == dict.fromkeys(docs, canonical)


def test_the_command_line_gives_a_tracked_link_and_the_plain_url_one_id(
    site: Site, settings_env: dict[str, str]
) -> None:
    article = site.url("/plain/show.php" + QUERY)
    env = {**settings_env, "NEWSINGEST_FETCH_ALLOW": "127.0.0.1:*"}
    out = run_cli(env, "process", "--no-translate", article + TRACKED, article, timeout=120)
    assert out.returncode == 0, out.stderr
    tracked, plain = (json.loads(line) for line in out.stdout.splitlines())
    assert tracked["url"] != plain["url"]  # each keeps the URL it was fetched from
    assert tracked["id"] == plain["id"]
