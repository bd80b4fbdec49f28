"""Retry-After and waiting for a host, over real loopback servers and real Redis: the header is
read strictly and clamped, and a fetch that has to wait holds none of the host's slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import redis

from devtools.http_fixtures import Site
from service.errors import TransientFetchError
from service.fetch import FetchPolicy, Source, fetch_url, fetch_with_retries, parse_retry_after
from service.politeness import Politeness
from service.settings import Settings

from .test_fetch import policy


def retry_after_of(site: Site, header: str) -> float | None:
    site.static("/busy", b"", "text/plain", {"Retry-After": header}, status=429)
    with pytest.raises(TransientFetchError) as info:
        fetch_url(Source("url", site.url("/busy")), policy(retry_after_max=3600.0))
    assert info.value.reason == "http_429"
    return info.value.retry_after


# -- reading the header ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("999999", 3600.0),  # 11.6 days, clamped to fetch_retry_after_max
        ("9" * 400, 3600.0),  # a float would be inf
        ("1e309", None),  # not delta-seconds; float() made it inf
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("Sun, 06 Nov 1994 08:49:37 GMT", 0.0),  # a date in the past: now
    ],
)
def test_retry_after_is_read_strictly_and_clamped(
    site: Site, header: str, expected: float | None
) -> None:
    assert retry_after_of(site, header) == expected


def test_an_http_date_in_the_future_counts_until_then_and_is_clamped(site: Site) -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=600), usegmt=True)
    later = retry_after_of(site, soon)
    assert later is not None and 500 < later <= 600
    next_month = format_datetime(datetime.now(UTC) + timedelta(days=30), usegmt=True)
    assert retry_after_of(site, next_month) == 3600.0


def test_all_three_http_date_forms_are_read_and_nothing_looser() -> None:
    now = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    for form in (
        "Tue, 01 Dec 2026 05:10:00 GMT",
        "Tuesday, 01-Dec-26 05:10:00 GMT",
        "Tue Dec  1 05:10:00 2026",
    ):
        assert parse_retry_after(form, 3600, now) == 600.0, form
    for loose in (
        "Tue, 01 Dec 2026 05:10:00 +0000",
        "tue, 01 dec 2026 05:10:00 gmt",
        "2026-12-01T05:10:00Z",
        "Tue, 31 Feb 2026 05:10:00 GMT",
        "",
    ):
        assert parse_retry_after(loose, 3600, now) is None, loose


# -- acting on it -----------------------------------------------------------------------------


def test_a_429_with_an_unreadable_retry_after_is_still_retried(
    site: Site, polite_settings: Settings, redis_client: redis.Redis
) -> None:
    site.sequence(
        "/busy",
        [(429, b"", {"Retry-After": "1e309", "Content-Type": "text/plain"}),
         (200, b"<p>ok</p>", {})],
    )  # fmt: skip
    slept: list[float] = []
    got = fetch_with_retries(
        Source("url", site.url("/busy")), policy(), attempts=2, backoff_max=5,
        politeness=Politeness(redis_client, polite_settings), sleep=slept.append,
    )  # fmt: skip
    assert got.body == b"<p>ok</p>" and len(slept) == 1


def test_a_huge_retry_after_keeps_the_origin_away_no_longer_than_the_cap(
    site: Site, polite_settings: Settings, redis_client: redis.Redis
) -> None:
    settings = polite_settings.replace(fetch_retry_after_max=120)
    site.static("/feed", b"", "text/plain", {"Retry-After": "999999"}, status=503)
    site.static("/item", b"<p>item</p>")
    politeness = Politeness(redis_client, settings)
    pol = FetchPolicy.from_settings(settings)
    with pytest.raises(TransientFetchError) as first:
        fetch_url(Source("url", site.url("/feed")), pol, politeness=politeness)
    assert first.value.retry_after == 120.0
    with pytest.raises(TransientFetchError) as later:
        fetch_url(Source("url", site.url("/item")), pol, politeness=politeness)
    assert later.value.reason == "host_backoff"
    assert 0 < (later.value.retry_after or 0) <= 120


def test_a_fetch_deferred_by_retry_after_holds_no_slot_so_another_fetch_on_the_host_proceeds(
    polite_settings: Settings, redis_client: redis.Redis
) -> None:
    """One origin of a host throttles (503, Retry-After: 5); the host allows one request in
    flight. The next fetch of that origin is deferred at once, and another worker's fetch
    of the same host on another port is not kept out."""
    settings = polite_settings.replace(fetch_host_concurrency=1)
    with Site() as throttled, Site() as calm:
        throttled.static("/feed", b"", "text/plain", {"Retry-After": "5"}, status=503)
        throttled.static("/item", b"<p>item</p>")
        calm.static("/feed", b"<p>calm</p>")
        other_client = redis.Redis.from_url(settings.redis_url)
        other = Politeness(other_client, settings)  # another worker process
        meanwhile: list[object] = []

        def other_worker_fetches(_seconds: float = 0.0) -> None:
            try:
                got = fetch_url(
                    Source("url", calm.url("/feed")), policy(host_max_wait=0), politeness=other
                )
                meanwhile.append(got.body)
            except TransientFetchError as exc:
                meanwhile.append(exc.reason)

        # Were the fetch to wait, the other worker would fetch during that wait.
        waiting = Politeness(redis_client, settings, sleep=other_worker_fetches)
        try:
            with pytest.raises(TransientFetchError):
                fetch_url(Source("url", throttled.url("/feed")), policy(), politeness=waiting)
            with pytest.raises(TransientFetchError) as info:
                fetch_url(Source("url", throttled.url("/item")), policy(), politeness=waiting)
            assert info.value.reason == "host_backoff"
            assert 0 < (info.value.retry_after or 0) <= 5
            assert throttled.hits("/item") == 0
            other_worker_fetches()
            assert meanwhile and all(m == b"<p>calm</p>" for m in meanwhile), meanwhile
        finally:
            other_client.close()


def test_a_fetch_waiting_for_its_turn_at_a_host_holds_none_of_its_slots(
    site: Site, polite_settings: Settings, redis_client: redis.Redis
) -> None:
    settings = polite_settings.replace(fetch_host_delay=5.0, fetch_host_concurrency=1)
    site.static("/a", b"<p>a</p>")
    site.static("/b", b"<p>b</p>")
    in_flight = f"{settings.key_prefix}:host:127.0.0.1:active"
    held_while_waiting: list[int] = []

    def wait(_seconds: float) -> None:
        count: Any = redis_client.zcard(in_flight)
        held_while_waiting.append(int(count))

    politeness = Politeness(redis_client, settings, sleep=wait)
    fetch_url(Source("url", site.url("/a")), policy(), politeness=politeness)
    got = fetch_url(Source("url", site.url("/b")), policy(), politeness=politeness)
    assert got.body == b"<p>b</p>"
    assert held_while_waiting == [0]
