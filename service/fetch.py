"""Getting the bytes of one input: a local file or an http(s) URL.

Fetching is defensive because it runs unattended against arbitrary servers: connect and
read timeouts plus a total deadline, a size cap enforced while streaming, redirects
followed by hand so that every hop passes the SSRF guard, and a content-type allowlist.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from .errors import FetchError, SourceError, TransientFetchError

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain"})
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/xml", "text/xml"}
)
_HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
_TEXT_SUFFIXES = {".txt", ".text", ".md"}


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Source:
    """What was submitted: ``kind`` is ``file`` or ``url``; ``location`` a path or URL."""

    kind: str
    location: str
    language_hint: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "location": self.location}
        if self.language_hint:
            out["language_hint"] = self.language_hint
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        return cls(str(data["kind"]), str(data["location"]), data.get("language_hint"))


def source_from_arg(arg: str) -> Source:
    """Interpret a CLI argument: an http(s) URL, else a local path (made absolute)."""
    scheme = urlsplit(arg).scheme.lower()
    if scheme in {"http", "https"}:
        return Source("url", arg)
    if scheme and len(scheme) > 1:
        raise SourceError(f"unsupported URL scheme {scheme!r} in {arg!r}: only http(s) and files")
    return Source("file", str(Path(arg).expanduser().resolve()))


@dataclass(frozen=True)
class Fetched:
    source: Source
    body: bytes
    media_type: str  # "html" | "text"
    charset: str | None
    final_url: str | None
    fetched_at: str
    headers: dict[str, str] = field(default_factory=dict)


def read_file(source: Source, max_bytes: int) -> Fetched:
    """Read a local HTML or plain-text file, refusing ones over ``max_bytes``."""
    path = Path(source.location)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SourceError(f"file not found: {path}", reason="file_not_found") from None
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc}", reason="file_unreadable") from exc
    if not path.is_file():
        raise SourceError(f"not a regular file: {path}", reason="file_unreadable")
    if size > max_bytes:
        raise SourceError(
            f"{path} is {size} bytes, over the {max_bytes}-byte limit (file_max_bytes)",
            reason="too_large",
        )
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc}", reason="file_unreadable") from exc
    suffix = path.suffix.lower()
    if suffix in _HTML_SUFFIXES:
        media = "html"
    elif suffix in _TEXT_SUFFIXES:
        media = "text"
    else:
        media = "html" if body.lstrip()[:1] == b"<" else "text"
    return Fetched(source, body, media, None, None, utc_now())


@dataclass(frozen=True)
class FetchPolicy:
    connect_timeout: float
    read_timeout: float
    deadline: float
    max_bytes: int
    max_redirects: int
    user_agent: str
    allow: tuple[str, ...] = ()


def _allowed_networks(allow: tuple[str, ...]) -> tuple[set[str], list[ipaddress._BaseNetwork]]:
    hosts: set[str] = set()
    nets: list[ipaddress._BaseNetwork] = []
    for item in allow:
        item = item.strip().lower()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            hosts.add(item)
    return hosts, nets


def check_url(url: str, allow: tuple[str, ...]) -> None:
    """SSRF guard: http(s) only, and no private/loopback/reserved targets unless allowed."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"}:
        raise FetchError(f"refused {url!r}: only http and https URLs", reason="ssrf_refused")
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchError(f"refused {url!r}: no host", reason="ssrf_refused")
    hosts, nets = _allowed_networks(allow)
    if host in hosts:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise TransientFetchError(f"cannot resolve {host}: {exc}", reason="dns_error") from exc
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if any(addr in net for net in nets):
            continue
        if not addr.is_global or addr.is_multicast:
            raise FetchError(
                f"refused {url!r}: {host} resolves to non-public address {addr}; list it in "
                "NEWSINGEST_FETCH_ALLOW to permit it",
                reason="ssrf_refused",
            )


def _media_type(content_type: str) -> tuple[str, str | None]:
    msg = Message()
    msg["content-type"] = content_type or "application/octet-stream"
    return msg.get_content_type().lower(), msg.get_param("charset")  # type: ignore[return-value]


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


def fetch_url(source: Source, policy: FetchPolicy, client: httpx.Client | None = None) -> Fetched:
    """Fetch an article URL, following redirects by hand through the SSRF guard."""
    own = client is None
    http = client or httpx.Client(
        timeout=httpx.Timeout(
            policy.read_timeout, connect=policy.connect_timeout, pool=policy.connect_timeout
        ),
        headers={"User-Agent": policy.user_agent},
        follow_redirects=False,
        trust_env=False,
    )
    started = time.monotonic()
    url = source.location
    try:
        for _hop in range(policy.max_redirects + 1):
            check_url(url, policy.allow)
            remaining = policy.deadline - (time.monotonic() - started)
            if remaining <= 0:
                raise TransientFetchError(f"deadline exceeded fetching {url}", reason="deadline")
            try:
                with http.stream("GET", url) as response:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError(f"redirect without Location from {url}")
                        url = urljoin(url, location)
                        continue
                    return _read_response(source, url, response, policy, started)
            except httpx.TimeoutException as exc:
                raise TransientFetchError(f"timeout fetching {url}: {exc}", reason="timeout") from exc
            except httpx.TransportError as exc:
                raise TransientFetchError(
                    f"connection error fetching {url}: {exc}", reason="connection_error"
                ) from exc
        raise FetchError(
            f"more than {policy.max_redirects} redirects from {source.location}",
            reason="too_many_redirects",
        )
    finally:
        if own:
            http.close()


def _read_response(
    source: Source, url: str, response: httpx.Response, policy: FetchPolicy, started: float
) -> Fetched:
    status = response.status_code
    if status in (429, 503):
        raise TransientFetchError(
            f"HTTP {status} from {url}",
            reason=f"http_{status}",
            retry_after=_retry_after(response.headers.get("retry-after")),
        )
    if status >= 500:
        raise TransientFetchError(f"HTTP {status} from {url}", reason="http_5xx")
    if status >= 400:
        raise FetchError(f"HTTP {status} from {url}", reason=f"http_{status}")
    media, charset = _media_type(response.headers.get("content-type", ""))
    if media in HTML_TYPES:
        kind = "html"
    elif media in TEXT_TYPES:
        kind = "text"
    else:
        raise FetchError(f"refused content type {media!r} from {url}", reason="disallowed_type")
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchError(
            f"{url} declares {declared} bytes, over the {policy.max_bytes}-byte limit",
            reason="too_large",
        )
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > policy.max_bytes:
            raise FetchError(
                f"{url} sent more than {policy.max_bytes} bytes (after decompression)",
                reason="too_large",
            )
        if time.monotonic() - started > policy.deadline:
            raise TransientFetchError(f"deadline exceeded reading {url}", reason="deadline")
        chunks.append(chunk)
    return Fetched(
        source,
        b"".join(chunks),
        kind,
        charset,
        str(response.url),
        utc_now(),
        {k.lower(): v for k, v in response.headers.items()},
    )
