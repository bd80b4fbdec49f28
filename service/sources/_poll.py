"""One poll of one source: conditional GET, parse, canonicalise, keep what is new."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis

from ..errors import IngestError
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
from ..settings import Settings
from ._config import SourceConfig
from ._parse import Entry, looks_like_sitemap, parse_feed, parse_sitemap
from ._state import SeenStore, ValidatorStore


@dataclass
class PollResult:
    source: str
    unchanged: bool = False
    new: list[Source] = field(default_factory=list)  # to ingest, updated ones included
    updated: int = 0  # how many of ``new`` were seen before with another marker
    entries: int = 0  # items found in the feed or sitemap(s)
    sitemaps: int = 0  # child sitemaps read
    errors: list[str] = field(default_factory=list)  # child sitemaps that failed: "url: reason"

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "unchanged": self.unchanged,
            "new": [s.location for s in self.new],
            "updated": self.updated,
            "entries": self.entries,
            "sitemaps": self.sitemaps,
            "errors": list(self.errors),
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
            unique[url] = Entry(url, entry.marker, entry.language, entry.title)
    return list(unique.values())


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
) -> PollResult:
    """Poll one feed or sitemap and return the item URLs to ingest.

    With ``enqueue``, each new item is handed to it before it is marked seen (at least once);
    without, items are marked seen and the caller must enqueue ``result.new``. Transient
    errors are retried in-process ``attempts`` times (``fetch_attempts``; pass 1 inside a task
    that Celery retries). Raises FetchError / TransientFetchError when the feed itself cannot
    be read; a failed child sitemap is reported in ``result.errors`` instead. ``dry_run``
    reports what is new without enqueueing or remembering anything.
    """
    tries = settings.fetch_attempts if attempts is None else attempts
    policy = FetchPolicy.from_settings(settings)
    own = client is None
    http = make_client(policy) if client is None else client
    polite = politeness or Politeness(redis_client, settings)
    validators = ValidatorStore(redis_client, settings)
    seen = SeenStore(redis_client, settings)
    result = PollResult(config.name)
    try:
        if config.host_delay:
            polite.set_host_delay(host_of(config.url), config.host_delay)
        fetched = _conditional(config.url, policy, http, polite, validators, tries)
        if fetched.unchanged:
            if not dry_run:
                validators.put(config.url, fetched.validators)
            result.unchanged = True
            return result
        to_save: list[tuple[str, Validators | None]] = [(config.url, fetched.validators)]
        base = fetched.final_url or config.url
        if config.is_sitemap or (config.kind == "feed" and looks_like_sitemap(fetched.body)):
            entries = _sitemap_entries(
                fetched, base, settings, policy, http, polite, validators, result, to_save, tries
            )
        else:
            entries = parse_feed(fetched.body, base, fetched.headers.get("content-type"))
        result.entries = len(entries)

        fresh, adopt = seen.classify(config.name, _canonical_entries(entries, base))
        for entry, updated in fresh:
            source = Source("url", entry.url, config.language or entry.language)
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
        if result.errors:
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
            entries.extend(parse_sitemap(got.body, got.final_url or child).entries)
            to_save.append((child, got.validators))
        except IngestError as exc:
            result.errors.append(f"{child}: {exc.reason}")
    return entries
