"""One poll of one source: conditional GET, parse, canonicalise, keep what is new."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import redis

from ..errors import FetchError, IngestError
from ..fetch import (
    FEED,
    Fetched,
    FetchPolicy,
    Source,
    Validators,
    fetch_with_retries,
    make_client,
)
from ..normalise import canonical_url
from ..politeness import Politeness, host_of
from ..records import FeedItem
from ..settings import Settings
from ._config import SourceConfig
from ._parse import Entry, looks_like_sitemap, parse_feed, parse_sitemap
from ._rules import Skipped, apply_rules
from ._state import FeedPoliteness, SeenStore, ValidatorStore


@dataclass
class PollResult:
    source: str
    unchanged: bool = False
    new: list[Source] = field(default_factory=list)  # to ingest, updated ones included
    updated: int = 0  # how many of ``new`` were seen before with another marker
    entries: int = 0  # items found in the feed or sitemap(s)
    sitemaps: int = 0  # child sitemaps read
    errors: list[str] = field(default_factory=list)  # child sitemaps that failed: "url: reason"
    skipped: dict[str, int] = field(default_factory=dict)  # items held back, by rule
    deferred: int = 0  # new items past the source's max_items, left for the next poll
    moved_to: str | None = None  # where the source's URL redirects permanently (301, 308)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "unchanged": self.unchanged,
            "new": [s.location for s in self.new],
            "updated": self.updated,
            "entries": self.entries,
            "sitemaps": self.sitemaps,
            "errors": list(self.errors),
            "skipped": dict(self.skipped),
            "deferred": self.deferred,
            "moved_to": self.moved_to,
        }


def _conditional(
    url: str,
    policy: FetchPolicy,
    http: httpx.Client,
    politeness: Politeness,
    validators: ValidatorStore,
    attempts: int,
) -> Fetched:
    return fetch_with_retries(
        Source("url", url),
        policy,
        http,
        attempts=attempts,
        backoff_max=policy.host_max_wait,
        politeness=politeness,
        validators=validators.get(url),
        accept=FEED,
    )


def _canonical_entries(entries: list[Entry], base: str) -> list[Entry]:
    """Each item under the URL the pipeline will give it (the document id comes from it),
    first occurrence kept; items we would never fetch dropped."""
    unique: dict[str, Entry] = {}
    for entry in entries:
        url = canonical_url(entry.url, base)
        if url and url not in unique:
            unique[url] = replace(entry, url=url)
    return list(unique.values())


def item_source(config: SourceConfig, entry: Entry) -> Source:
    """The input one item becomes: its URL, the source's (else the item's) language as a
    prior, and what the feed said about it."""
    return Source(
        "url",
        entry.url,
        config.language or entry.language,
        feed=FeedItem(
            name=config.name,
            title=entry.title,
            published=entry.published,
            author=entry.author,
            categories=entry.categories,
            guid=entry.guid,
        ),
        translate_scope=config.translate_scope,
    )


def _moved_to(url: str, final: str | None, http: httpx.Client, policy: FetchPolicy) -> str | None:
    """Where ``url`` redirects permanently, asked only when a fetch of it was redirected:
    one request without following, whose answer is kept only when it is 301 or 308."""
    if not final or final == url:
        return None
    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    try:
        with http.stream("GET", url, follow_redirects=False, timeout=timeout) as response:
            if response.status_code not in (301, 308) or not response.has_redirect_location:
                return None
            target = urljoin(url, response.headers["location"].strip())
    except (httpx.HTTPError, ValueError):
        return None
    return target if urlsplit(target).scheme in ("http", "https") and target != url else None


def _check_size(fetched: Fetched, url: str, settings: Settings) -> None:
    """``feed_max_bytes`` on the body as parsed, that is after decompression."""
    if len(fetched.body) > settings.feed_max_bytes:
        raise FetchError(
            f"{url} is {len(fetched.body)} bytes after decompression, over feed_max_bytes="
            f"{settings.feed_max_bytes}; raise it for this deployment or ask the publisher "
            "for a shorter feed",
            reason="too_large",
        )


def poll(
    config: SourceConfig,
    redis_client: redis.Redis,
    settings: Settings,
    *,
    client: httpx.Client | None = None,
    politeness: Politeness | None = None,
    enqueue: Callable[[Source], object] | None = None,
    attempts: int | None = None,
    dry_run: bool = False,
    now: float | None = None,
) -> PollResult:
    """Poll one feed or sitemap and return the item URLs to ingest.

    With ``enqueue``, each new item is handed to it before it is marked seen (at least once);
    without, items are marked seen and the caller must enqueue ``result.new``. Transient
    errors are retried in-process ``attempts`` times (``fetch_attempts``; pass 1 inside a task
    that Celery retries). Raises FetchError / TransientFetchError when the feed itself cannot
    be read; a failed child sitemap is reported in ``result.errors`` instead. ``dry_run``
    reports what is new without enqueueing or remembering anything. ``now`` (epoch seconds)
    is the clock ``max_age`` is judged by.
    """
    tries = settings.fetch_attempts if attempts is None else attempts
    policy = FetchPolicy.from_settings(settings)
    # A source with headers of its own gets a client of its own (guarded all the same), so
    # its cookie or token never travels with another source's requests.
    own = client is None or bool(config.headers)
    http = make_client(policy) if own else client
    assert http is not None
    if config.headers:
        http.headers.update(dict(config.headers))
    # Whatever politeness the caller has, a feed's Retry-After must hold back that feed only.
    polite = (
        politeness
        if isinstance(politeness, FeedPoliteness)
        else FeedPoliteness(redis_client, settings)
    )
    validators = ValidatorStore(redis_client, settings)
    seen = SeenStore(redis_client, settings)
    result = PollResult(config.name)
    try:
        if config.host_delay:
            polite.set_host_delay(host_of(config.url), config.host_delay)
        fetched = _conditional(config.url, policy, http, polite, validators, tries)
        if not dry_run:
            result.moved_to = _moved_to(config.url, fetched.final_url, http, policy)
        if fetched.unchanged:
            if not dry_run:
                validators.put(config.url, fetched.validators)
            result.unchanged = True
            return result
        _check_size(fetched, config.url, settings)
        to_save: list[tuple[str, Validators | None]] = [(config.url, fetched.validators)]
        base = fetched.final_url or config.url
        if config.is_sitemap or (config.kind == "feed" and looks_like_sitemap(fetched.body)):
            entries = _sitemap_entries(
                fetched, base, settings, policy, http, polite, validators, result, to_save, tries
            )
        else:
            entries = parse_feed(fetched.body, base, fetched.headers.get("content-type"))
        result.entries = len(entries)
        skipped = Skipped()
        entries = apply_rules(config, entries, time.time() if now is None else now, skipped)
        result.skipped = skipped.counts

        fresh, adopt = seen.classify(config.name, _canonical_entries(entries, base))
        if config.max_items and len(fresh) > config.max_items:
            result.deferred = len(fresh) - config.max_items
            fresh = fresh[: config.max_items]
        for entry, updated in fresh:
            source = item_source(config, entry)
            result.new.append(source)
            result.updated += int(updated)
            if dry_run:
                continue
            if enqueue is not None:
                enqueue(source)
            seen.mark(config.name, [entry])
        if dry_run:
            return result
        seen.mark(config.name, adopt)
        if result.deferred:
            to_save = []  # the items past max_items are taken next time, even if unchanged
        elif result.errors:
            # Keep the index "changed" so the failed children are read again next time.
            to_save = to_save[1:]
        for url, got in to_save:
            validators.put(url, got)
        return result
    finally:
        if own:
            http.close()


def _sitemap_entries(
    fetched: Fetched,
    base: str,
    settings: Settings,
    policy: FetchPolicy,
    http: httpx.Client,
    polite: Politeness,
    validators: ValidatorStore,
    result: PollResult,
    to_save: list[tuple[str, Validators | None]],
    attempts: int,
) -> list[Entry]:
    sitemap = parse_sitemap(fetched.body, base)
    entries = list(sitemap.entries)
    # The sitemap protocol forbids nested indexes, so children are read one level deep.
    for child in sitemap.children[: max(0, settings.sitemap_max_children)]:
        try:
            got = _conditional(child, policy, http, polite, validators, attempts)
            result.sitemaps += 1
            if got.unchanged:
                to_save.append((child, got.validators))
                continue
            _check_size(got, child, settings)
            entries.extend(parse_sitemap(got.body, got.final_url or child).entries)
            to_save.append((child, got.validators))
        except IngestError as exc:
            result.errors.append(f"{child}: {exc.reason}")
    return entries
