"""Fetching over real loopback servers: every case ends in bytes or a typed error with the
right reason. No mocks of httpx; waiting is bounded, durations are never asserted."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import redis

from devtools.http_fixtures import Listener, Request, Silent, Site, drip_headers, endless, gzip_bomb
from service.decode import decode
from service.errors import DecodeError, FetchError, TransientFetchError
from service.fetch import (
    FEED,
    Fetched,
    FetchPolicy,
    Source,
    Validators,
    check_url,
    fetch_url,
    fetch_with_retries,
    make_client,
)
from service.politeness import Politeness
from service.settings import Settings

from .conftest import EXTRACTION, GBK_PAGE

GBK_NO_DECLARATION = "cwced_zh/pages/ab65832c-15b6-4c9e-b64f-3bc575332499.html"
ENGLISH_PAGE = "scrapinghub_aeb/pages/06ee193de4bd611f.html"


def policy(**changes: Any) -> FetchPolicy:
    base: dict[str, Any] = dict(
        connect_timeout=2.0,
        read_timeout=3.0,
        deadline=10.0,
        max_bytes=2_000_000,
        max_redirects=5,
        user_agent="newsingest-test/1.0 (+https://example.invalid/bot)",
        # The loopback servers listen on random ports; a bare host would open only 80 and 443.
        allow=("127.0.0.1:*",),
        max_decompressed_bytes=4_000_000,
    )
    base.update(changes)
    return FetchPolicy(**base)


def page(path: str) -> bytes:
    return (EXTRACTION / path).read_bytes()


def gold_body(path: str) -> str:
    set_name = path.split("/", 1)[0]
    for line in (EXTRACTION / set_name / "gold.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line)
        if record["html"] == path:
            return str(record["body"])
    raise KeyError(path)


def fetch(site: Site, path: str, **changes: Any) -> Fetched:
    return fetch_url(Source("url", site.url(path)), policy(**changes))


def failure(site: Site, path: str, **changes: Any) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch(site, path, **changes)
    return info.value


# -- pages and encodings -------------------------------------------------------------------------


def test_http_charset_is_passed_through_to_decoding(site: Site) -> None:
    site.static("/gbk", page(GBK_PAGE), "text/html; charset=GBK")
    got = fetch(site, "/gbk")
    assert (got.media_type, got.charset, got.status) == ("html", "GBK", 200)
    assert got.body == page(GBK_PAGE)
    text = decode(got.body, got.charset, is_html=True).text
    assert gold_body(GBK_PAGE).split()[0][:12] in text


def test_gbk_page_without_any_charset_header_still_decodes_right(site: Site) -> None:
    site.static("/nocharset", page(GBK_NO_DECLARATION), "text/html")
    got = fetch(site, "/nocharset")
    assert got.charset is None
    decoded = decode(got.body, got.charset, is_html=True)
    assert "为拆一幢房，断送了三条人命" in decoded.text
    assert decoded.encoding.lower().startswith("gb")


def test_utf8_page_with_charset_header(site: Site) -> None:
    site.static("/en", page(ENGLISH_PAGE), "text/html; charset=utf-8")
    got = fetch(site, "/en")
    assert got.charset == "utf-8"
    assert gold_body(ENGLISH_PAGE)[:40] in decode(got.body, got.charset).text


def test_gzip_encoded_page_is_decompressed(site: Site) -> None:
    import gzip

    body = page(ENGLISH_PAGE)
    site.static("/gz", gzip.compress(body), "text/html", {"Content-Encoding": "gzip"})
    assert fetch(site, "/gz").body == body


def test_brotli_encoded_page_is_decompressed(site: Site) -> None:
    brotli = pytest.importorskip("brotli")
    body = page(ENGLISH_PAGE)
    site.static("/br", brotli.compress(body), "text/html", {"Content-Encoding": "br"})
    assert fetch(site, "/br").body == body


def test_user_agent_and_accept_headers_are_sent(site: Site) -> None:
    site.static("/ua", b"<p>hi</p>")
    fetch(site, "/ua")
    headers = site.requests[-1].headers
    assert headers["user-agent"].startswith("newsingest-test/1.0")
    assert "text/html" in headers["accept"]
    assert "gzip" in headers["accept-encoding"]


# -- redirects -------------------------------------------------------------------------------------


def test_redirect_chain_is_followed_to_the_final_url(site: Site) -> None:
    site.redirect("/r1", "/r2")
    site.redirect("/r2", site.url("/r3"), status=302)
    site.redirect("/r3", "/final", status=308)
    site.static("/final", b"<html><body><p>arrived</p></body></html>")
    got = fetch(site, "/r1")
    assert got.final_url == site.url("/final")
    assert got.body.endswith(b"</html>")


def test_redirect_loop_ends_as_too_many_redirects(site: Site) -> None:
    site.redirect("/loop", "/loop")
    error = failure(site, "/loop", max_redirects=3)
    assert error.reason == "too_many_redirects" and error.permanent
    assert site.hits("/loop") == 4


# -- status codes and retries ----------------------------------------------------------------------


def test_429_raises_transient_with_retry_after_then_a_retry_succeeds(site: Site) -> None:
    site.sequence(
        "/busy",
        [(429, b"slow down", {"Retry-After": "1", "Content-Type": "text/plain"}),
         (200, b"<p>ok</p>", {})],
    )  # fmt: skip
    with pytest.raises(TransientFetchError) as info:
        fetch(site, "/busy")
    assert info.value.reason == "http_429" and info.value.retry_after == 1.0
    slept: list[float] = []
    got = fetch_with_retries(
        Source("url", site.url("/busy")), policy(), attempts=3, backoff_max=30, sleep=slept.append
    )
    assert got.body == b"<p>ok</p>"


def test_503_retry_after_is_honoured_by_the_retry_loop(site: Site) -> None:
    site.sequence(
        "/maint",
        [(503, b"", {"Retry-After": "7"}), (200, b"<p>back</p>", {})],
    )
    slept: list[float] = []
    got = fetch_with_retries(
        Source("url", site.url("/maint")), policy(), attempts=2, backoff_max=30, sleep=slept.append
    )
    assert got.body == b"<p>back</p>"
    assert slept and slept[0] >= 7.0


def test_a_retry_after_beyond_the_backoff_cap_is_left_to_the_scheduler(site: Site) -> None:
    site.static("/later", b"", "text/plain", {"Retry-After": "3600"}, status=503)
    slept: list[float] = []
    with pytest.raises(TransientFetchError) as info:
        fetch_with_retries(
            Source("url", site.url("/later")), policy(), attempts=5, backoff_max=60,
            sleep=slept.append,
        )  # fmt: skip
    assert info.value.retry_after == 3600.0 and slept == []


def test_500_is_transient_and_retried_with_backoff(site: Site) -> None:
    site.sequence("/flaky", [(500, b"oops", {}), (200, b"<p>fine</p>", {})])
    with pytest.raises(TransientFetchError) as info:
        fetch(site, "/flaky")
    assert info.value.reason == "http_500" and not info.value.permanent
    slept: list[float] = []
    got = fetch_with_retries(
        Source("url", site.url("/flaky")), policy(), attempts=3, backoff_max=5, sleep=slept.append
    )
    assert got.body == b"<p>fine</p>"
    assert len(slept) == 0  # the sequence had already moved on to 200


def test_backoff_is_used_between_attempts(site: Site) -> None:
    site.static("/down", b"", "text/plain", status=502)
    slept: list[float] = []
    with pytest.raises(TransientFetchError) as info:
        fetch_with_retries(
            Source("url", site.url("/down")), policy(), attempts=3, backoff_max=5,
            sleep=slept.append,
        )  # fmt: skip
    assert info.value.reason == "http_502"
    assert site.hits("/down") == 3 and len(slept) == 2
    assert all(0 <= s <= 5 for s in slept)


@pytest.mark.parametrize("status", [404, 410])
def test_gone_pages_are_permanent(site: Site, status: int) -> None:
    site.static("/gone", b"no", "text/plain", status=status)
    error = failure(site, "/gone")
    assert error.reason == f"http_{status}" and error.permanent


def test_disallowed_content_type_is_refused(site: Site) -> None:
    site.static("/img", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png")
    assert failure(site, "/img").reason == "disallowed_type"


def test_feed_fetch_accepts_xml_but_not_html(site: Site) -> None:
    site.static("/rss", b"<rss version='2.0'><channel/></rss>", "application/rss+xml")
    got = fetch_url(Source("url", site.url("/rss")), policy(), accept=FEED)
    assert got.media_type == "xml"
    site.static("/html", b"<html></html>", "text/html")
    with pytest.raises(FetchError) as info:
        fetch_url(Source("url", site.url("/html")), policy(), accept=FEED)
    assert info.value.reason == "disallowed_type"


# -- hostile servers -------------------------------------------------------------------------------


def test_a_server_that_never_answers_ends_by_read_timeout() -> None:
    with Silent() as silent, pytest.raises(TransientFetchError) as info:
        fetch_url(Source("url", silent.url()), policy(read_timeout=0.5, deadline=5.0))
    assert info.value.reason == "timeout"


def test_a_server_dripping_headers_ends_by_the_total_deadline(site: Site) -> None:
    site.routes["/drip"] = drip_headers
    with pytest.raises(TransientFetchError) as info:
        fetch(site, "/drip", read_timeout=2.0, deadline=1.0)
    assert info.value.reason == "deadline"


def test_an_endless_body_is_stopped_by_the_size_cap(site: Site) -> None:
    site.routes["/endless"] = endless
    error = failure(site, "/endless", max_bytes=300_000)
    assert error.reason == "too_large" and error.permanent


def test_a_declared_oversized_body_is_refused_before_reading(site: Site) -> None:
    site.static("/big", b"x" * 5000, "text/html")
    assert failure(site, "/big", max_bytes=1000).reason == "too_large"


def test_a_gzip_bomb_is_stopped_by_the_decompressed_cap(site: Site) -> None:
    bomb = gzip_bomb(64_000_000)
    assert len(bomb) < 200_000
    site.static("/bomb", bomb, "text/html", {"Content-Encoding": "gzip"})
    error = failure(site, "/bomb", max_bytes=1_000_000, max_decompressed_bytes=2_000_000)
    assert error.reason == "too_large"
    assert "decompress" in error.message


def test_a_brotli_bomb_is_stopped_by_the_decompressed_cap(site: Site) -> None:
    brotli = pytest.importorskip("brotli")
    bomb = brotli.compress(b"\0" * 64_000_000, quality=5)
    site.static("/brbomb", bomb, "text/html", {"Content-Encoding": "br"})
    error = failure(site, "/brbomb", max_bytes=1_000_000, max_decompressed_bytes=2_000_000)
    assert error.reason == "too_large"


def test_a_binary_body_served_as_html_fetches_and_then_fails_to_decode(site: Site) -> None:
    binary = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    site.static("/binary", binary, "text/html")
    got = fetch(site, "/binary")
    assert got.body == binary
    with pytest.raises(DecodeError) as info:
        decode(got.body, got.charset, is_html=True)
    assert info.value.reason == "binary_body"


def test_an_unknown_content_encoding_is_refused(site: Site) -> None:
    site.static("/zz", b"??", "text/html", {"Content-Encoding": "compress"})
    assert failure(site, "/zz").reason == "unsupported_encoding"


# -- SSRF guard ------------------------------------------------------------------------------------


def test_non_http_schemes_are_refused() -> None:
    for url in ("file:///etc/passwd", "ftp://example.com/x", "gopher://127.0.0.1:70/"):
        with pytest.raises(FetchError) as info:
            fetch_url(Source("url", url), policy())
        assert info.value.reason == "ssrf_refused"


def test_loopback_is_refused_unless_allowed(site: Site) -> None:
    site.static("/p", b"<p>secret</p>")
    assert failure(site, "/p", allow=()).reason == "ssrf_refused"
    assert site.hits("/p") == 0
    assert fetch(site, "/p", allow=(f"127.0.0.0/8:{site.port}",)).body == b"<p>secret</p>"


def test_check_url_refuses_private_and_link_local_addresses() -> None:
    for url in ("http://10.1.2.3/", "http://169.254.169.254/latest/meta-data/",
                "http://[::1]/", "http://224.0.0.1/", "http://0.0.0.0/"):  # fmt: skip
        with pytest.raises(FetchError) as info:
            check_url(url, ())
        assert info.value.reason == "ssrf_refused"
    check_url("http://10.1.2.3/", ("10.0.0.0/8",))


def test_redirect_to_an_unlisted_loopback_address_is_refused_before_connecting(
    site: Site,
) -> None:
    with Listener("127.0.0.2") as other:
        site.redirect("/jump", other.url("/internal"), status=302)
        error = failure(site, "/jump", allow=(f"127.0.0.1:{site.port}",))
        assert error.reason == "ssrf_refused"
        assert "127.0.0.2" in error.message
        assert not other.connected()


def test_the_listener_does_see_a_connection_when_the_target_is_allowed(site: Site) -> None:
    """Control for the test above: the listener would have noticed a connection."""
    with Listener("127.0.0.2") as other:
        site.redirect("/jump", other.url("/internal"), status=302)
        with pytest.raises(TransientFetchError):
            allow = (f"127.0.0.1:{site.port}", f"127.0.0.2:{other.port}")
            fetch(site, "/jump", allow=allow, read_timeout=0.3)
        assert other.connected()


def test_a_redirect_to_another_scheme_is_refused(site: Site) -> None:
    site.redirect("/tofile", "file:///etc/passwd")
    assert failure(site, "/tofile").reason == "ssrf_refused"


def test_names_are_resolved_once_and_connected_by_vetted_address(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebinding name answers 127.0.0.1 once, then 127.0.0.2: the connection goes to the
    address that was vetted, and the Host header still names the host."""
    site.static("/named", b"<p>by name</p>")
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1"] + ["127.0.0.2"] * 10)
    calls: list[str] = []

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "news.test":
            calls.append(host)
            return real(next(answers), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with Listener("127.0.0.2") as other:
        url = f"http://news.test:{site.port}/named"
        got = fetch_url(Source("url", url), policy(allow=(f"127.0.0.1:{site.port}",)))
        assert got.body == b"<p>by name</p>"
        assert site.requests[-1].headers["host"] == f"news.test:{site.port}"
        assert calls == ["news.test"]
        with pytest.raises(FetchError) as info:
            fetch_url(Source("url", url), policy(allow=(f"127.0.0.1:{site.port}",)))
        assert info.value.reason == "ssrf_refused"
        assert not other.connected()


# -- conditional GET -------------------------------------------------------------------------------


def _etag_route(site: Site, path: str, state: dict[str, Any]) -> None:
    def handle(req: Request) -> None:
        if req.headers.get("If-None-Match") == state["etag"] and state["honour"]:
            req.send(304, b"", None, {"ETag": state["etag"]})
        else:
            req.send(200, state["body"], "application/rss+xml", {"ETag": state["etag"]})

    site.routes[path] = handle


def test_conditional_get_304_is_unchanged(site: Site) -> None:
    state = {"etag": '"v1"', "body": b"<rss/>", "honour": True}
    _etag_route(site, "/feed", state)
    first = fetch_url(Source("url", site.url("/feed")), policy(), accept=FEED)
    assert not first.unchanged and first.validators is not None
    assert first.validators.etag == '"v1"'
    second = fetch_url(
        Source("url", site.url("/feed")), policy(), accept=FEED, validators=first.validators
    )
    assert second.unchanged and second.status == 304
    assert site.requests[-1].headers["if-none-match"] == '"v1"'
    assert second.validators == first.validators


def test_validators_are_advisory_the_body_hash_decides(site: Site) -> None:
    state = {"etag": '"same"', "body": b"<rss>one</rss>", "honour": False}
    _etag_route(site, "/lying", state)
    first = fetch_url(Source("url", site.url("/lying")), policy(), accept=FEED)
    state["body"] = b"<rss>two</rss>"  # changed, same ETag, and 200 every time
    changed = fetch_url(
        Source("url", site.url("/lying")), policy(), accept=FEED, validators=first.validators
    )
    assert not changed.unchanged
    state["etag"] = '"new-etag"'  # new ETag, same body
    same = fetch_url(
        Source("url", site.url("/lying")), policy(), accept=FEED, validators=changed.validators
    )
    assert same.unchanged and same.validators is not None
    assert same.validators.etag == '"new-etag"'


def test_validators_round_trip_through_a_dict() -> None:
    v = Validators('"e"', "Wed, 21 Oct 2015 07:28:00 GMT", "sha256:ab")
    assert Validators.from_dict(v.as_dict()) == v


# -- politeness ------------------------------------------------------------------------------------


def test_robots_txt_disallow_is_obeyed_and_cached(
    site: Site, polite_settings: Settings, redis_client: redis.Redis
) -> None:
    site.static("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
    site.static("/private/x", b"<p>secret</p>")
    site.static("/public", b"<p>fine</p>")
    one = Politeness(redis_client, polite_settings)
    two = Politeness(redis.Redis.from_url(polite_settings.redis_url), polite_settings)
    try:
        with pytest.raises(FetchError) as info:
            fetch_url(Source("url", site.url("/private/x")), policy(), politeness=one)
        assert info.value.reason == "robots_disallowed"
        assert site.hits("/private/x") == 0
        fetch_url(Source("url", site.url("/public")), policy(), politeness=one)
        fetch_url(Source("url", site.url("/public")), policy(), politeness=two)
        assert site.hits("/robots.txt") == 1
        key = f"{polite_settings.key_prefix}:robots:http://127.0.0.1:{site.port}"
        ttl: Any = redis_client.ttl(key)
        assert 0 < int(ttl) <= 600
    finally:
        two.client.close()


def test_robots_txt_404_allows_everything(
    site: Site, polite_settings: Settings, redis_client: redis.Redis
) -> None:
    site.static("/any", b"<p>ok</p>")
    politeness = Politeness(redis_client, polite_settings)
    assert fetch_url(Source("url", site.url("/any")), policy(), politeness=politeness).body
    assert site.hits("/robots.txt") == 1


def test_robots_txt_5xx_means_try_later(
    site: Site, polite_settings: Settings, redis_client: redis.Redis
) -> None:
    site.static("/robots.txt", b"", "text/plain", status=500)
    site.static("/any", b"<p>ok</p>")
    politeness = Politeness(redis_client, polite_settings)
    with pytest.raises(TransientFetchError) as info:
        fetch_url(Source("url", site.url("/any")), policy(), politeness=politeness)
    assert info.value.reason == "robots_unavailable"
    assert site.hits("/any") == 0


def test_host_delay_holds_across_two_processes_sharing_redis(
    polite_settings: Settings, redis_client: redis.Redis
) -> None:
    """Two Politeness instances on two connections stand for two worker processes."""
    settings = polite_settings.replace(fetch_host_delay=60.0, fetch_host_max_wait=120.0)
    first = Politeness(redis_client, settings)
    other_client = redis.Redis.from_url(settings.redis_url)
    second = Politeness(other_client, settings)
    try:
        assert first.reserve("news.example") == 0
        wait = second.reserve("news.example")
        assert 30.0 < wait <= 60.0
        third = first.reserve("news.example")
        assert wait < third <= 120.0
        assert second.reserve("other.example") == 0
        with pytest.raises(TransientFetchError) as info:
            second.reserve("news.example", max_wait=1.0)
        assert info.value.reason == "host_busy" and (info.value.retry_after or 0) > 60
    finally:
        other_client.close()


def test_retry_after_defers_the_origin_for_every_process(
    site: Site, polite_settings: Settings, redis_client: redis.Redis
) -> None:
    site.static("/limited", b"", "text/plain", {"Retry-After": "90"}, status=429)
    site.static("/other", b"<p>other</p>")
    one = Politeness(redis_client, polite_settings)
    with pytest.raises(TransientFetchError):
        fetch_url(Source("url", site.url("/limited")), policy(), politeness=one)
    other_client = redis.Redis.from_url(polite_settings.redis_url)
    try:
        two = Politeness(other_client, polite_settings)
        with pytest.raises(TransientFetchError) as info:
            fetch_url(Source("url", site.url("/other")), policy(), politeness=two)
        assert info.value.reason == "host_backoff" and 60 < (info.value.retry_after or 0) <= 90
        assert site.hits("/other") == 0
    finally:
        other_client.close()


def test_per_host_concurrency_limit_is_shared(
    polite_settings: Settings, redis_client: redis.Redis
) -> None:
    settings = polite_settings.replace(fetch_host_concurrency=2)
    first = Politeness(redis_client, settings)
    other_client = redis.Redis.from_url(settings.redis_url)
    second = Politeness(other_client, settings)
    try:
        a = first.acquire("busy.example", max_wait=0)
        b = first.acquire("busy.example", max_wait=0)
        with pytest.raises(TransientFetchError) as info:
            second.acquire("busy.example", max_wait=0)
        assert info.value.reason == "host_busy"
        assert second.acquire("calm.example", max_wait=0)
        first.release("busy.example", a)
        c = second.acquire("busy.example", max_wait=0)
        assert c is not None
        second.release("busy.example", b)
        second.release("busy.example", c)
    finally:
        other_client.close()


def test_a_slot_is_released_after_the_fetch_even_on_failure(
    site: Site, polite_settings: Settings, redis_client: redis.Redis
) -> None:
    settings = polite_settings.replace(fetch_host_concurrency=1)
    politeness = Politeness(redis_client, settings)
    site.static("/missing", b"", "text/plain", status=404)
    site.static("/ok", b"<p>ok</p>")
    with pytest.raises(FetchError):
        fetch_url(Source("url", site.url("/missing")), policy(), politeness=politeness)
    got = fetch_url(Source("url", site.url("/ok")), policy(host_max_wait=0), politeness=politeness)
    assert got.body == b"<p>ok</p>"


def test_a_shared_client_reuses_connections_and_keeps_the_guard(site: Site) -> None:
    site.static("/a", b"<p>a</p>")
    with make_client(policy()) as client:
        for _ in range(3):
            assert fetch_url(Source("url", site.url("/a")), policy(), client).body == b"<p>a</p>"
        with pytest.raises(FetchError) as info:
            fetch_url(Source("url", "http://127.0.0.3:9/"), policy(), client)
        assert info.value.reason == "ssrf_refused"


def test_read_file_still_reads_local_pages(tmp_path: Path) -> None:
    from service.fetch import read_file

    path = tmp_path / "a.html"
    path.write_bytes(b"<p>x</p>")
    assert read_file(Source("file", str(path)), 100).media_type == "html"


def test_https_to_a_vetted_address_still_verifies_the_host_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection goes to the vetted IP, while SNI and certificate checks use the name."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=news.test", "-addext", "subjectAltName=DNS:news.test",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host in ("news.test", "other.test") else host, port,
                    *args, **kwargs)  # fmt: skip

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with Site(tls=server_context) as site:
        site.static("/secure", b"<p>tls</p>")
        trust = ssl.create_default_context(cafile=str(cert))
        pol = policy(allow=(f"127.0.0.1:{site.port}",), read_timeout=2.0)
        with make_client(pol, ssl_context=trust) as client:
            url = f"https://news.test:{site.port}/secure"
            assert fetch_url(Source("url", url), pol, client).body == b"<p>tls</p>"
            with pytest.raises(FetchError) as info:
                fetch_url(Source("url", f"https://other.test:{site.port}/secure"), pol, client)
            assert info.value.reason == "tls_certificate" and info.value.permanent
