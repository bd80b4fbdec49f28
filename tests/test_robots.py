"""robots.txt is read to its first 500 KiB (RFC 9309's minimum) while streaming, the rest never
read, and a line cut by that limit is dropped rather than misread."""

from __future__ import annotations

import pytest
import redis

from devtools.http_fixtures import Request, Site
from service.errors import FetchError
from service.fetch import ROBOTS_MAX_BYTES, Source, fetch_url
from service.politeness import Politeness
from service.settings import Settings

from .test_fetch import policy

HEAD = b"User-agent: *\nDisallow: /early/\n"
COMMENT = b"# " + b"x" * 97 + b"\n"  # 100 bytes


@pytest.fixture
def politeness(settings: Settings, redis_client: redis.Redis) -> Politeness:
    polite = settings.replace(fetch_allow="127.0.0.1:*", fetch_host_delay=0.0, robots_ttl=600)
    return Politeness(redis_client, polite)


def fetch(site: Site, path: str, politeness: Politeness) -> bytes:
    return fetch_url(Source("url", site.url(path)), policy(), politeness=politeness).body


def disallowed(site: Site, path: str, politeness: Politeness) -> bool:
    try:
        fetch(site, path, politeness)
    except FetchError as exc:
        assert exc.reason == "robots_disallowed", exc
        return True
    return False


def test_a_robots_txt_over_500_kib_is_obeyed_for_its_first_500_kib_only(
    site: Site, politeness: Politeness
) -> None:
    body = HEAD + COMMENT * 6000 + b"Disallow: /late/\n"  # 600 KB, declared up front
    assert len(body) > ROBOTS_MAX_BYTES
    site.static("/robots.txt", body, "text/plain")
    site.static("/early/a", b"<p>early</p>")
    site.static("/late/a", b"<p>late</p>")
    assert disallowed(site, "/early/a", politeness)
    assert fetch(site, "/late/a", politeness) == b"<p>late</p>"
    assert site.hits("/robots.txt") == 1


def test_an_endless_robots_txt_is_read_only_to_the_limit_and_then_obeyed(
    site: Site, politeness: Politeness
) -> None:
    def endless_robots(req: Request) -> None:
        req.send_response(200)
        req.send_header("Content-Type", "text/plain")
        req.send_header("Connection", "close")
        req.end_headers()
        req.close_connection = True
        req.wfile.write(HEAD)
        while not req.stopping:
            req.wfile.write(COMMENT * 100)

    site.routes["/robots.txt"] = endless_robots
    site.static("/early/a", b"<p>early</p>")
    site.static("/public", b"<p>public</p>")
    assert disallowed(site, "/early/a", politeness)
    assert fetch(site, "/public", politeness) == b"<p>public</p>"


def test_a_line_cut_by_the_limit_is_dropped_not_read_as_a_shorter_rule(
    site: Site, politeness: Politeness
) -> None:
    """Cut at the limit, "Disallow: /secret/" would read "Disallow: /": everything."""
    rule = b"Disallow: /"
    filler = ROBOTS_MAX_BYTES - len(HEAD) - len(rule)
    padding = COMMENT * (filler // len(COMMENT))
    padding += b"#" * (filler - len(padding) - 1) + b"\n"
    body = HEAD + padding + rule + b"secret/\n" + COMMENT * 100
    assert body.index(rule + b"secret/") + len(rule) == ROBOTS_MAX_BYTES
    site.static("/robots.txt", body, "text/plain")
    site.static("/public", b"<p>public</p>")
    assert fetch(site, "/public", politeness) == b"<p>public</p>"
    assert disallowed(site, "/early/a", politeness)
