"""One fetch: a URL with its redirects, politeness and conditional GET (files: _file.py)."""

from __future__ import annotations

import hashlib
import ssl
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from email.message import Message
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import httpx

from ..errors import FetchError, TransientFetchError
from ..records import Fetched, Source, Validators, utc_now
from ._decompress import _BROTLI, _decoder_for, _gunzip
from ._guard import _DEADLINE, _GUARDED, _check_scheme, check_url, make_client
from ._policy import (
    FEED_TYPES,
    GZIP_TYPES,
    HTML_TYPES,
    ROBOTS_MAX_BYTES,
    TEXT_TYPES,
    FetchPolicy,
)
from ._retry_after import parse_retry_after

if TYPE_CHECKING:
    from ..politeness import Politeness

# What a fetch is for decides which content types are accepted.
ARTICLE = "article"
FEED = "feed"
ROBOTS = "robots"
_ACCEPT_HEADER = {
    ARTICLE: "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.5",
    FEED: "application/rss+xml,application/atom+xml,application/feed+json,"
    "application/xml;q=0.9,text/xml;q=0.9,application/json;q=0.8",
    ROBOTS: "text/plain,*/*;q=0.1",
}


def _media_type(content_type: str) -> tuple[str, str | None]:
    msg = Message()
    msg["content-type"] = content_type or "application/octet-stream"
    charset = msg.get_param("charset")
    return msg.get_content_type().lower(), charset if isinstance(charset, str) else None


def _kind(media: str, accept: str, url: str) -> str:
    if accept == ROBOTS:
        return "text"
    if accept == ARTICLE:
        if media in HTML_TYPES:
            return "html"
        if media in TEXT_TYPES:
            return "text"
    elif media in FEED_TYPES or media in GZIP_TYPES:
        return "xml"
    allowed = sorted(HTML_TYPES | TEXT_TYPES if accept == ARTICLE else FEED_TYPES | GZIP_TYPES)
    raise FetchError(
        f"refused content type {media!r} from {url}: a {accept} must be one of {allowed}",
        reason="disallowed_type",
    )


def _request_headers(accept: str, validators: Validators | None) -> dict[str, str]:
    headers = {"Accept": _ACCEPT_HEADER[accept]}
    if validators is not None:
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
    return headers


def _timeout(policy: FetchPolicy, deadline_at: float) -> httpx.Timeout:
    remaining = max(0.001, deadline_at - time.monotonic())
    return httpx.Timeout(
        min(policy.read_timeout, remaining),
        connect=min(policy.connect_timeout, remaining),
        pool=min(policy.connect_timeout, remaining),
    )


def _robots_fetcher(
    policy: FetchPolicy, http: httpx.Client, deadline_at: float
) -> Callable[[str], tuple[int, bytes]]:
    robots_policy = FetchPolicy(
        connect_timeout=policy.connect_timeout,
        read_timeout=policy.read_timeout,
        deadline=policy.deadline,
        max_bytes=min(policy.max_bytes, ROBOTS_MAX_BYTES),
        max_redirects=policy.max_redirects,
        user_agent=policy.user_agent,
        allow=policy.allow,
        max_decompressed_bytes=ROBOTS_MAX_BYTES,
        retry_after_max=policy.retry_after_max,
    )

    def fetch(url: str) -> tuple[int, bytes]:
        got = _fetch(Source("url", url), robots_policy, http, deadline_at, None, None, ROBOTS)
        return got.status, got.body

    return fetch


def fetch_url(
    source: Source,
    policy: FetchPolicy,
    client: httpx.Client | None = None,
    *,
    politeness: Politeness | None = None,
    validators: Validators | None = None,
    accept: str = ARTICLE,
) -> Fetched:
    """Fetch one URL: an article (``accept=ARTICLE``) or a feed/sitemap (``accept=FEED``).

    Pass a long-lived ``client`` from :func:`make_client` to reuse connections; ``politeness``
    to obey robots.txt and the per-host limits; ``validators`` (from the last fetch of this
    URL) for a conditional GET. Raises FetchError (permanent) or TransientFetchError.
    """
    if accept not in _ACCEPT_HEADER:
        raise ValueError(f"accept must be one of {sorted(_ACCEPT_HEADER)}, not {accept!r}")
    own = client is None
    http = make_client(policy) if client is None else client
    deadline_at = time.monotonic() + policy.deadline
    token = _DEADLINE.set(deadline_at)
    try:
        return _fetch(source, policy, http, deadline_at, politeness, validators, accept)
    finally:
        _DEADLINE.reset(token)
        if own:
            http.close()


def _fetch(
    source: Source,
    policy: FetchPolicy,
    http: httpx.Client,
    deadline_at: float,
    politeness: Politeness | None,
    validators: Validators | None,
    accept: str,
) -> Fetched:
    guarded = http in _GUARDED
    url = source.location
    for _hop in range(policy.max_redirects + 1):
        _check_scheme(url)
        if not guarded:
            check_url(url, policy.allow)
        slot: AbstractContextManager[None] = nullcontext()
        if politeness is not None:
            politeness.check_backoff(url)  # not even robots.txt while it says "later"
            crawl_delay = politeness.check_robots(
                url, policy.user_agent, _robots_fetcher(policy, http, deadline_at)
            )
            max_wait = min(policy.host_max_wait, max(0.0, deadline_at - time.monotonic()))
            slot = politeness.slot(url, extra_delay=crawl_delay, max_wait=max_wait)
        with slot:
            try:
                with http.stream(
                    "GET",
                    url,
                    headers=_request_headers(accept, validators),
                    timeout=_timeout(policy, deadline_at),
                ) as response:
                    if response.has_redirect_location:
                        url = _redirect_target(url, response.headers["location"])
                        continue
                    return _read_response(
                        source, url, response, policy, deadline_at, validators, accept
                    )
            except httpx.TimeoutException as exc:
                reason = "deadline" if time.monotonic() >= deadline_at - 0.01 else "timeout"
                what = "deadline exceeded" if reason == "deadline" else "timeout"
                raise TransientFetchError(f"{what} fetching {url}: {exc}", reason=reason) from exc
            except httpx.InvalidURL as exc:
                raise FetchError(f"invalid URL {url!r}: {exc}", reason="bad_url") from exc
            except httpx.RemoteProtocolError as exc:
                # httpx parses a redirect's Location itself; a junk one will not get better.
                if "location header" in str(exc).lower():
                    raise FetchError(
                        f"{url} redirects to an invalid URL: {exc}", reason="bad_url"
                    ) from exc
                raise TransientFetchError(
                    f"connection error fetching {url}: {exc}", reason="connection_error"
                ) from exc
            except httpx.TransportError as exc:
                if _certificate_failure(exc):
                    raise FetchError(
                        f"TLS certificate of {url} failed verification: {exc}",
                        reason="tls_certificate",
                    ) from exc
                raise TransientFetchError(
                    f"connection error fetching {url}: {exc}", reason="connection_error"
                ) from exc
            except TransientFetchError as exc:
                if politeness is not None and exc.retry_after:
                    politeness.defer(url, exc.retry_after)
                raise
    raise FetchError(
        f"more than {policy.max_redirects} redirects from {source.location}",
        reason="too_many_redirects",
    )


def _redirect_target(url: str, location: str) -> str:
    try:
        return urljoin(url, location.strip())
    except ValueError as exc:  # Location: http://[::1
        raise FetchError(
            f"{url} redirects to an invalid URL {location!r}: {exc}", reason="bad_url"
        ) from exc


def _certificate_failure(exc: BaseException) -> bool:
    """A certificate that does not verify will not fix itself on a retry."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _read_response(
    source: Source,
    url: str,
    response: httpx.Response,
    policy: FetchPolicy,
    deadline_at: float,
    validators: Validators | None,
    accept: str,
) -> Fetched:
    status = response.status_code
    headers = {k.lower(): v for k, v in response.headers.items()}
    final_url = str(response.url)
    if status == 304 and validators is not None:
        kept = Validators(
            headers.get("etag") or validators.etag,
            headers.get("last-modified") or validators.last_modified,
            validators.body_hash,
        )
        return Fetched(source, b"", "", None, final_url, utc_now(), headers, 304, True, kept)
    if status in (429, 503):
        raise TransientFetchError(
            f"HTTP {status} from {url}",
            reason=f"http_{status}",
            retry_after=parse_retry_after(headers.get("retry-after"), policy.retry_after_max),
        )
    if status >= 500 or status == 408:
        raise TransientFetchError(f"HTTP {status} from {url}", reason=f"http_{status}")
    if accept == ROBOTS and 400 <= status < 500:
        return Fetched(source, b"", "text", None, final_url, utc_now(), headers, status)
    if status >= 300:
        raise FetchError(f"HTTP {status} from {url}", reason=f"http_{status}")
    media, charset = _media_type(headers.get("content-type", ""))
    kind = _kind(media, accept, url)
    body = _read_body(response, url, policy, deadline_at, truncate=accept == ROBOTS)
    if media in GZIP_TYPES or (kind == "xml" and body[:2] == b"\x1f\x8b"):
        body = _gunzip(body, policy.decompressed_cap, url)
    new = Validators(
        headers.get("etag"),
        headers.get("last-modified"),
        "sha256:" + hashlib.sha256(body).hexdigest(),
    )
    unchanged = validators is not None and validators.body_hash == new.body_hash
    return Fetched(
        source, body, kind, charset, final_url, utc_now(), headers, status, unchanged, new
    )


def _read_body(
    response: httpx.Response,
    url: str,
    policy: FetchPolicy,
    deadline_at: float,
    *,
    truncate: bool = False,
) -> bytes:
    """The body, streamed under both caps. Over a cap it is refused, or with ``truncate``
    (robots.txt) cut to the whole lines within the cap, the rest never read."""
    declared = response.headers.get("content-length", "").strip()
    if not truncate and declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchError(
            f"{url} declares {declared} bytes, over the {policy.max_bytes}-byte limit "
            "(fetch_max_bytes)",
            reason="too_large",
        )
    decoder = _decoder_for(response.headers.get("content-encoding", ""), url)
    cap = policy.decompressed_cap
    chunks: list[bytes] = []
    wire = 0
    total = 0

    def take(pieces: Iterator[bytes]) -> bool:
        """Keep ``pieces``; True once the cap is reached (only when truncating)."""
        nonlocal total
        for piece in pieces:
            if total + len(piece) > cap:
                if not truncate:
                    raise FetchError(
                        f"{url} decompresses to more than {cap} bytes "
                        "(fetch_max_decompressed_bytes)",
                        reason="too_large",
                    )
                chunks.append(piece[: cap - total])
                total = cap
                return True
            total += len(piece)
            chunks.append(piece)
        return False

    full = False
    try:
        for raw in response.iter_raw():
            wire += len(raw)
            if wire > policy.max_bytes:
                if not truncate:
                    raise FetchError(
                        f"{url} sent more than {policy.max_bytes} bytes (fetch_max_bytes)",
                        reason="too_large",
                    )
                raw, full = raw[: len(raw) - (wire - policy.max_bytes)], True
            full = take(decoder.feed(raw)) or full
            if full:
                break
            if time.monotonic() > deadline_at:
                raise TransientFetchError(f"deadline exceeded reading {url}", reason="deadline")
        else:
            full = take(decoder.flush())
    except (zlib.error, ValueError) as exc:
        raise FetchError(f"{url}: corrupt compressed body: {exc}", reason="bad_encoding") from exc
    except Exception as exc:
        if _BROTLI is not None and isinstance(exc, _BROTLI.error):
            raise FetchError(f"{url}: corrupt brotli body: {exc}", reason="bad_encoding") from exc
        raise
    body = b"".join(chunks)
    # A cut line could change its meaning ("Disallow: /private" cut to "Disallow: /").
    return body[: body.rfind(b"\n") + 1] if full else body
