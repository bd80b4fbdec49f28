"""Feeds and sitemaps as sources of article URLs.

``config/sources.toml`` lists what to poll. One poll is: a conditional GET of the feed or
sitemap (ETag / Last-Modified plus a body hash, because validators lie both ways), parse
(feedparser for RSS/Atom; lxml with entities and network off for sitemaps, sitemap indexes
and Google News sitemaps), canonicalise each item's URL (tracking parameters and fragments
dropped, host normalised) and keep only items not seen before, or seen with a different
``updated``/``lastmod``. Items are marked seen only after they were handed to ``enqueue``,
so a crash between the two repeats an item (publishing is idempotent) and never loses one.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
import httpx
import redis
from courlan import normalize_url
from lxml import etree

from .errors import FetchError, IngestError, SourceError
from .fetch import (
    FEED,
    Fetched,
    FetchPolicy,
    Source,
    Validators,
    fetch_with_retries,
    make_client,
)
from .politeness import Politeness, host_of
from .settings import Settings

KINDS = frozenset({"rss", "atom", "feed", "sitemap"})

# Query parameters that identify a campaign or a click, never the article.
_TRACKING = re.compile(
    r"^(utm_.*|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|twclid|igshid|mc_cid|mc_eid"
    r"|_ga|_gl|_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|vero_id|wickedid|ref_src|cmpid)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SourceConfig:
    """One entry of sources.toml."""

    name: str
    url: str
    kind: str  # rss | atom | feed (either) | sitemap (urlset, index or Google News)
    interval: float  # seconds between polls
    language: str | None = None  # hint passed to every item
    host_delay: float | None = None  # seconds between requests to this feed's host

    @property
    def is_sitemap(self) -> bool:
        return self.kind == "sitemap"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "url": self.url,
            "kind": self.kind,
            "interval": self.interval,
        }
        if self.language:
            out["language"] = self.language
        if self.host_delay:
            out["host_delay"] = self.host_delay
        return out


def sources_path(settings: Settings) -> Path:
    """``sources_file`` when set, else ``<config_dir>/sources.toml``."""
    if settings.sources_file:
        return Path(settings.sources_file).expanduser()
    return settings.config_dir / "sources.toml"


def _float(entry: dict[str, Any], key: str, where: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise SourceError(
            f"{where}: {key} must be a positive number of seconds, not {value!r}",
            reason="bad_sources_file",
        )
    return float(value)


def load_sources(path: Path) -> list[SourceConfig]:
    """Read and validate sources.toml; a missing ``sources`` list means nothing to poll."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SourceError(
            f"sources file {path} is missing; create it or set NEWSINGEST_SOURCES_FILE",
            reason="bad_sources_file",
        ) from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SourceError(
            f"cannot read sources file {path}: {exc}", reason="bad_sources_file"
        ) from exc
    entries = data.get("sources", [])
    if not isinstance(entries, list):
        raise SourceError(
            f"{path}: 'sources' must be an array of tables ([[sources]])", reason="bad_sources_file"
        )
    out: list[SourceConfig] = []
    names: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{path}: source #{index + 1}"
        if not isinstance(entry, dict):
            raise SourceError(f"{where} is not a table", reason="bad_sources_file")
        unknown = set(entry) - {"name", "url", "kind", "interval", "language", "host_delay"}
        if unknown:
            raise SourceError(f"{where}: unknown keys {sorted(unknown)}", reason="bad_sources_file")
        name = str(entry.get("name") or "").strip()
        url = str(entry.get("url") or "").strip()
        kind = str(entry.get("kind") or "").strip().lower()
        if not name or not url:
            raise SourceError(f"{where} needs a name and a url", reason="bad_sources_file")
        if name in names:
            raise SourceError(f"{where}: duplicate name {name!r}", reason="bad_sources_file")
        if urlsplit(url).scheme.lower() not in {"http", "https"}:
            raise SourceError(
                f"{where}: url must be http(s), not {url!r}", reason="bad_sources_file"
            )
        if kind not in KINDS:
            raise SourceError(
                f"{where}: kind must be one of {sorted(KINDS)}, not {kind!r}",
                reason="bad_sources_file",
            )
        interval = _float(entry, "interval", where)
        if interval is None:
            raise SourceError(f"{where} needs interval (seconds)", reason="bad_sources_file")
        language = entry.get("language")
        names.add(name)
        out.append(
            SourceConfig(
                name=name,
                url=url,
                kind=kind,
                interval=interval,
                language=str(language).strip().lower() if language else None,
                host_delay=_float(entry, "host_delay", where),
            )
        )
    return out


def configured_sources(settings: Settings) -> list[SourceConfig]:
    """The sources to poll: ``sources_file`` must exist when set; the default
    ``<config_dir>/sources.toml`` may be absent (nothing to poll)."""
    path = sources_path(settings)
    if not settings.sources_file and not path.exists():
        return []
    return load_sources(path)


def find_source(sources: Iterable[SourceConfig], name: str) -> SourceConfig:
    for source in sources:
        if source.name == name:
            return source
    raise SourceError(f"no source named {name!r} in the sources file", reason="unknown_source")


# ---------------------------------------------------------------------------------------------
# URLs


def canonicalise(url: str, base: str | None = None) -> str | None:
    """The URL an item is known by: absolute, http(s), host lower-cased (IDN decoded), no
    default port, no fragment, no tracking parameters, remaining parameters sorted.
    None for URLs we would never fetch."""
    url = (url or "").strip()
    if not url:
        return None
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _TRACKING.match(k)
        ]
    )
    cleaned = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    try:
        normal = normalize_url(cleaned, strict=False, trailing_slash=True)
    except (ValueError, UnicodeError):
        return None
    return urlunsplit(urlsplit(normal)._replace(fragment=""))


def _language(tag: str | None) -> str | None:
    """The primary subtag of a language tag: "zh-CN" -> "zh"."""
    if not tag:
        return None
    primary = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


# ---------------------------------------------------------------------------------------------
# Parsing


@dataclass(frozen=True)
class Entry:
    """One item of a feed or sitemap; ``marker`` changes when the publisher updates it."""

    url: str
    marker: str = ""
    language: str | None = None
    title: str | None = None


def _iso(parsed: Any) -> str | None:
    if parsed is None:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed)
    except (TypeError, ValueError):
        return None


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> list[Entry]:
    """RSS 0.9x/1.0/2.0 and Atom through feedparser; relative links resolve against ``url``."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # A stream, never bytes or str: feedparser would treat those as a path or URL to open.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
        detail = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise FetchError(f"{url} is not a readable feed: {detail}", reason="bad_feed")
    feed_language = _language(parsed.feed.get("language"))
    out: list[Entry] = []
    for item in parsed.entries:
        link = item.get("link")
        if not link:
            guid = str(item.get("id") or "")
            link = guid if guid.startswith(("http://", "https://")) else None
        if not link:
            continue
        # dict.get: FeedParserDict.get maps updated -> published with a DeprecationWarning.
        marker = (
            _iso(dict.get(item, "updated_parsed"))
            or dict.get(item, "updated")
            or _iso(dict.get(item, "published_parsed"))
            or dict.get(item, "published")
            or ""
        )
        out.append(
            Entry(
                url=str(link),
                marker=str(marker),
                language=_language(item.get("language")) or feed_language,
                title=str(item.get("title")) if item.get("title") else None,
            )
        )
    return out


@dataclass(frozen=True)
class Sitemap:
    entries: list[Entry]
    children: list[str]  # child sitemap URLs when this is a sitemap index


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(element: Any, name: str) -> str | None:
    for child in element.iter():
        if _local(child.tag) == name and child.text and child.text.strip():
            return str(child.text.strip())
    return None


def parse_sitemap(body: bytes, url: str) -> Sitemap:
    """A <urlset> (with optional Google News tags) or a <sitemapindex>."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FetchError(f"{url} is not a readable sitemap: {exc}", reason="bad_sitemap") from exc
    if root is None:
        raise FetchError(f"{url} is not a readable sitemap: empty document", reason="bad_sitemap")
    kind = _local(root.tag)
    if kind == "sitemapindex":
        children = []
        for element in root:
            if _local(element.tag) == "sitemap":
                loc = _child_text(element, "loc")
                if loc:
                    children.append(urljoin(url, loc))
        return Sitemap([], children)
    if kind != "urlset":
        raise FetchError(f"{url} is not a sitemap (root <{kind}>)", reason="bad_sitemap")
    entries = []
    for element in root:
        if _local(element.tag) != "url":
            continue
        loc = _child_text(element, "loc")
        if not loc:
            continue
        marker = _child_text(element, "lastmod") or _child_text(element, "publication_date")
        entries.append(
            Entry(
                url=urljoin(url, loc),
                marker=marker or "",
                language=_language(_child_text(element, "language")),
                title=_child_text(element, "title"),
            )
        )
    return Sitemap(entries, [])


def _looks_like_sitemap(body: bytes) -> bool:
    head = body[:2048].lower()
    return b"<urlset" in head or b"<sitemapindex" in head


# ---------------------------------------------------------------------------------------------
# State in Redis


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class ValidatorStore:
    """Conditional-GET state per URL (ETag, Last-Modified, body hash)."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.prefix = settings.key_prefix
        self.ttl = settings.seen_ttl

    def _key(self, url: str) -> str:
        return f"{self.prefix}:http:{_digest(url)}"

    def get(self, url: str) -> Validators | None:
        raw = cast(dict[bytes, bytes], self.client.hgetall(self._key(url)))
        if not raw:
            return None
        return Validators.from_dict({k.decode(): v.decode() for k, v in raw.items()})

    def put(self, url: str, validators: Validators | None) -> None:
        if validators is None:
            return
        key = self._key(url)
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(key)
        pipe.hset(key, mapping={"url": url, **validators.as_dict()})
        pipe.expire(key, max(1, self.ttl))
        pipe.execute()


class SeenStore:
    """Which item URLs were handed on, and the marker each source gave them then.

    Dedupe is global (an article listed by two feeds is fetched once) but updates are judged
    per source: feeds format ``updated``/``lastmod`` differently, and comparing one source's
    marker with another's would make an item look updated on every poll.
    """

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.prefix = settings.key_prefix
        self.ttl = settings.seen_ttl

    def _key(self, url: str) -> str:
        return f"{self.prefix}:seen:{_digest(url)}"

    def classify(
        self, source: str, entries: list[Entry]
    ) -> tuple[list[tuple[Entry, bool]], list[Entry]]:
        """(entries to hand on, each with ``updated``; entries known only from other sources,
        which this source should just remember)."""
        fresh: list[tuple[Entry, bool]] = []
        adopt: list[Entry] = []
        for start in range(0, len(entries), 500):
            batch = entries[start : start + 500]
            pipe = self.client.pipeline(transaction=False)
            for entry in batch:
                pipe.exists(self._key(entry.url))
                pipe.hget(self._key(entry.url), source)
            replies = pipe.execute()
            for index, entry in enumerate(batch):
                exists, old = replies[2 * index], cast(bytes | None, replies[2 * index + 1])
                if not exists:
                    fresh.append((entry, False))
                elif old is None:
                    adopt.append(entry)
                elif entry.marker and old.decode("utf-8", "replace") != entry.marker:
                    fresh.append((entry, True))
        return fresh, adopt

    def mark(self, source: str, entries: Iterable[Entry]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for entry in entries:
            key = self._key(entry.url)
            pipe.hset(key, source, entry.marker)
            pipe.expire(key, max(1, self.ttl))
        pipe.execute()


# ---------------------------------------------------------------------------------------------
# Polling


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
        if config.is_sitemap or (config.kind == "feed" and _looks_like_sitemap(fetched.body)):
            entries = _sitemap_entries(
                fetched, base, settings, policy, http, polite, validators, result, to_save, tries
            )
        else:
            entries = parse_feed(fetched.body, base, fetched.headers.get("content-type"))
        result.entries = len(entries)

        unique: dict[str, Entry] = {}
        for entry in entries:
            url = canonicalise(entry.url, base)
            if url and url not in unique:
                unique[url] = Entry(url, entry.marker, entry.language, entry.title)
        fresh, adopt = seen.classify(config.name, list(unique.values()))
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
