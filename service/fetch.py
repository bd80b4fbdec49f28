"""Getting the bytes of one input: a local file or an http(s) URL.

Fetching is defensive because it runs unattended against arbitrary servers:

- connect and read timeouts plus a total deadline that is enforced on every socket read, so a
  server that drips one byte at a time cannot hold a worker;
- a cap on the bytes on the wire and, separately, on the bytes after decompression; we
  decompress ourselves in bounded pieces, so a gzip or brotli bomb stops at the cap instead of
  filling memory;
- redirects followed by hand, each hop checked again;
- an SSRF guard inside the connection itself: :class:`GuardedTransport` resolves the host,
  vets every address and connects to the vetted address (TLS SNI and the Host header still
  name the host), so DNS rebinding between a check and the connect is impossible;
- a content-type allowlist per kind of fetch (articles, feeds);
- optional politeness (robots.txt, per-host delay and concurrency across processes, see
  :mod:`service.politeness`) and conditional GET (:class:`Validators`).
"""

from __future__ import annotations

import contextvars
import hashlib
import ipaddress
import random
import socket
import ssl
import time
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from .errors import FetchError, SourceError, TransientFetchError
from .records import Fetched, Source, Validators, utc_now

if TYPE_CHECKING:
    from .politeness import Politeness
    from .settings import Settings

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain"})
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
    }
)
# Sitemaps may be published gzipped (sitemap.xml.gz) and served as a gzip file.
GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip"})

# What a fetch is for decides which content types are accepted.
ARTICLE = "article"
FEED = "feed"
ROBOTS = "robots"
_ACCEPT_HEADER = {
    ARTICLE: "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.5",
    FEED: "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9",
    ROBOTS: "text/plain,*/*;q=0.1",
}
# RFC 9309 asks crawlers to parse at least 500 KiB of robots.txt; more is not needed.
ROBOTS_MAX_BYTES = 512 * 1024

_HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
_TEXT_SUFFIXES = {".txt", ".text", ".md"}
# Decompression hands out at most this much at a time, so the caps are checked often.
_PIECE = 64 * 1024


def _load_brotli() -> Any:
    try:
        import brotli
    except ImportError:
        return None
    return brotli


_BROTLI: Any = _load_brotli()
ACCEPT_ENCODING = "gzip, deflate, br" if _BROTLI is not None else "gzip, deflate"


def source_from_arg(arg: str) -> Source:
    """Interpret a CLI argument: an http(s) URL, else a local path (made absolute)."""
    scheme = urlsplit(arg).scheme.lower()
    if scheme in {"http", "https"}:
        return Source("url", arg)
    if scheme and len(scheme) > 1:
        raise SourceError(f"unsupported URL scheme {scheme!r} in {arg!r}: only http(s) and files")
    return Source("file", str(Path(arg).expanduser().resolve()))


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
    # 0: the same as max_bytes.
    max_decompressed_bytes: int = 0
    # Longest wait for a turn at a host (politeness) before giving the fetch back for a retry.
    host_max_wait: float = 30.0

    @property
    def decompressed_cap(self) -> int:
        return self.max_decompressed_bytes or self.max_bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        return cls(
            connect_timeout=settings.fetch_connect_timeout,
            read_timeout=settings.fetch_read_timeout,
            deadline=settings.fetch_deadline,
            max_bytes=settings.fetch_max_bytes,
            max_redirects=settings.fetch_max_redirects,
            user_agent=settings.user_agent,
            allow=tuple(x.strip() for x in settings.fetch_allow.split(",") if x.strip()),
            max_decompressed_bytes=settings.fetch_max_decompressed_bytes,
            host_max_wait=settings.fetch_host_max_wait,
        )


# ---------------------------------------------------------------------------------------------
# SSRF guard


_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _allowed_networks(allow: Iterable[str]) -> tuple[set[str], list[_Network]]:
    hosts: set[str] = set()
    nets: list[_Network] = []
    for item in allow:
        item = item.strip().lower()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            hosts.add(item.rstrip("."))
    return hosts, nets


class AddressGuard:
    """Which addresses may be connected to: public unicast ones, plus the hosts and networks
    an operator listed in ``fetch_allow``."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.hosts, self.nets = _allowed_networks(allow)

    def permits(self, address: str) -> bool:
        addr: _Address = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        if any(addr in net for net in self.nets):
            return True
        return addr.is_global and not addr.is_multicast

    def resolve(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` and return its addresses, refusing if any of them is not permitted
        (a name that resolves to both a public and a private address is refused)."""
        name = host.lower().rstrip(".")
        if name.startswith("[") and name.endswith("]"):
            name = name[1:-1]
        try:
            infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise TransientFetchError(f"cannot resolve {host}: {exc}", reason="dns_error") from exc
        except UnicodeError as exc:
            raise FetchError(f"invalid host name {host!r}: {exc}", reason="bad_url") from exc
        addresses: list[str] = []
        for info in infos:
            address = str(info[4][0])
            if address not in addresses:
                addresses.append(address)
        if name in self.hosts:
            return addresses
        for address in addresses:
            if not self.permits(address):
                raise FetchError(
                    f"refused {host}: it resolves to non-public address {address}; list the "
                    "host or its network in NEWSINGEST_FETCH_ALLOW to permit it",
                    reason="ssrf_refused",
                )
        if not addresses:
            raise TransientFetchError(f"{host} resolves to no address", reason="dns_error")
        return addresses


def _check_scheme(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "http://[::1": an unbalanced bracket
        raise FetchError(f"invalid URL {url!r}: {exc}", reason="bad_url") from exc
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise FetchError(f"refused {url!r}: only http and https URLs", reason="ssrf_refused")
    try:
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise FetchError(f"invalid URL {url!r}: {exc}", reason="bad_url") from exc
    if not host:
        raise FetchError(f"refused {url!r}: no host", reason="ssrf_refused")
    return host, port


def check_url(url: str, allow: tuple[str, ...]) -> None:
    """SSRF pre-check: http(s) only, and no private/loopback/reserved targets unless allowed.

    Clients from :func:`make_client` check again at connect time, on the address they
    actually connect to; this pre-check is what protects any other client.
    """
    host, port = _check_scheme(url)
    AddressGuard(allow).resolve(host, port)


# The monotonic time by which the current fetch must end; read by every socket operation.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "newsingest_fetch_deadline", default=None
)


def _clamp(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the fetch deadline has passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every operation ends by the fetch deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolves, vets, then connects to the vetted address: nothing can change in between."""

    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        error: Exception | None = None
        for address in self.guard.resolve(host, port):
            try:
                stream = self._inner.connect_tcp(
                    address,
                    port,
                    timeout=_clamp(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            return _DeadlineStream(stream)
        raise error or httpcore.ConnectError(f"no address to connect to for {host}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise FetchError("unix sockets are never fetched", reason="ssrf_refused")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool whose every connection is vetted."""

    def __init__(
        self,
        allow: Iterable[str] = (),
        *,
        limits: httpx.Limits | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        context = ssl_context or httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=context, trust_env=False, limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(AddressGuard(allow)),
        )


_GUARDED: weakref.WeakSet[httpx.Client] = weakref.WeakSet()


def make_client(
    policy: FetchPolicy,
    *,
    limits: httpx.Limits | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.Client:
    """A client whose connections pass the SSRF guard; share one per process (thread-safe).
    ``ssl_context`` replaces the default (certifi roots), e.g. to trust a private CA."""
    client = httpx.Client(
        transport=GuardedTransport(policy.allow, limits=limits, ssl_context=ssl_context),
        timeout=httpx.Timeout(
            policy.read_timeout, connect=policy.connect_timeout, pool=policy.connect_timeout
        ),
        headers={"User-Agent": policy.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        follow_redirects=False,
        trust_env=False,
    )
    _GUARDED.add(client)
    return client


# ---------------------------------------------------------------------------------------------
# Bounded decompression


class _Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def flush(self) -> Iterator[bytes]: ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        yield data

    def flush(self) -> Iterator[bytes]:
        yield from ()


class _Zlib:
    """gzip (multi-member) or deflate (zlib-wrapped or raw), at most _PIECE bytes per step."""

    def __init__(self, gzip: bool) -> None:
        self.gzip = gzip
        self.started = False
        self.d = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self.started and data:
            self.started = True
            if not self.gzip:
                try:
                    zlib.decompressobj().decompress(data[:64], 1)
                except zlib.error:
                    self.d = zlib.decompressobj(-zlib.MAX_WBITS)
        buf = data
        while True:
            out = self.d.decompress(buf, _PIECE)
            if out:
                yield out
            buf = self.d.unconsumed_tail
            if self.gzip and self.d.eof and self.d.unused_data[:2] == b"\x1f\x8b":
                buf = self.d.unused_data
                self.d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                continue
            if not buf and len(out) < _PIECE:
                return

    def flush(self) -> Iterator[bytes]:
        out = self.d.flush()
        if out:
            yield out


class _Brotli:
    def __init__(self) -> None:
        self.d = _BROTLI.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        out = self.d.process(data, output_buffer_limit=_PIECE)
        if out:
            yield out
        while not self.d.can_accept_more_data():
            out = self.d.process(b"", output_buffer_limit=_PIECE)
            if not out:
                return
            yield out

    def flush(self) -> Iterator[bytes]:
        yield from ()


class _Chain:
    """Content-Encoding: a, b means a was applied first, so b is undone first."""

    def __init__(self, decoders: list[_Decoder]) -> None:
        self.decoders = decoders

    def _through(self, pieces: Iterable[bytes], index: int) -> Iterator[bytes]:
        if index == len(self.decoders):
            yield from pieces
            return
        decoder = self.decoders[index]
        for piece in pieces:
            yield from self._through(decoder.feed(piece), index + 1)

    def feed(self, data: bytes) -> Iterator[bytes]:
        yield from self._through([data], 0)

    def flush(self) -> Iterator[bytes]:
        for index, decoder in enumerate(self.decoders):
            yield from self._through(decoder.flush(), index + 1)


def _decoder_for(content_encoding: str, url: str) -> _Decoder:
    names = [n.strip().lower() for n in content_encoding.split(",")]
    names = [n for n in names if n and n != "identity"]
    decoders: list[_Decoder] = []
    for name in reversed(names):
        if name in {"gzip", "x-gzip"}:
            decoders.append(_Zlib(gzip=True))
        elif name == "deflate":
            decoders.append(_Zlib(gzip=False))
        elif name == "br" and _BROTLI is not None:
            decoders.append(_Brotli())
        else:
            raise FetchError(
                f"{url} sent Content-Encoding {content_encoding!r}, which we do not decode",
                reason="unsupported_encoding",
            )
    if len(decoders) > 2:
        raise FetchError(f"{url} stacks {len(decoders)} encodings", reason="unsupported_encoding")
    if not decoders:
        return _Identity()
    return decoders[0] if len(decoders) == 1 else _Chain(decoders)


def _gunzip(body: bytes, cap: int, url: str) -> bytes:
    out: list[bytes] = []
    total = 0
    decoder = _Zlib(gzip=True)
    try:
        for piece in _concat(decoder.feed(body), decoder.flush()):
            total += len(piece)
            if total > cap:
                raise FetchError(
                    f"{url} decompresses to more than {cap} bytes (fetch_max_decompressed_bytes)",
                    reason="too_large",
                )
            out.append(piece)
    except zlib.error as exc:
        raise FetchError(f"{url}: corrupt gzip file: {exc}", reason="bad_encoding") from exc
    return b"".join(out)


def _concat(*parts: Iterator[bytes]) -> Iterator[bytes]:
    for part in parts:
        yield from part


# ---------------------------------------------------------------------------------------------
# Fetching


def _media_type(content_type: str) -> tuple[str, str | None]:
    msg = Message()
    msg["content-type"] = content_type or "application/octet-stream"
    charset = msg.get_param("charset")
    return msg.get_content_type().lower(), charset if isinstance(charset, str) else None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


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
            retry_after=_retry_after(headers.get("retry-after")),
        )
    if status >= 500 or status == 408:
        raise TransientFetchError(f"HTTP {status} from {url}", reason=f"http_{status}")
    if accept == ROBOTS and 400 <= status < 500:
        return Fetched(source, b"", "text", None, final_url, utc_now(), headers, status)
    if status >= 300:
        raise FetchError(f"HTTP {status} from {url}", reason=f"http_{status}")
    media, charset = _media_type(headers.get("content-type", ""))
    kind = _kind(media, accept, url)
    body = _read_body(response, url, policy, deadline_at)
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
    response: httpx.Response, url: str, policy: FetchPolicy, deadline_at: float
) -> bytes:
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > policy.max_bytes:
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

    def take(pieces: Iterator[bytes]) -> None:
        nonlocal total
        for piece in pieces:
            total += len(piece)
            if total > cap:
                raise FetchError(
                    f"{url} decompresses to more than {cap} bytes (fetch_max_decompressed_bytes)",
                    reason="too_large",
                )
            chunks.append(piece)

    try:
        for raw in response.iter_raw():
            wire += len(raw)
            if wire > policy.max_bytes:
                raise FetchError(
                    f"{url} sent more than {policy.max_bytes} bytes (fetch_max_bytes)",
                    reason="too_large",
                )
            take(decoder.feed(raw))
            if time.monotonic() > deadline_at:
                raise TransientFetchError(f"deadline exceeded reading {url}", reason="deadline")
        take(decoder.flush())
    except (zlib.error, ValueError) as exc:
        raise FetchError(f"{url}: corrupt compressed body: {exc}", reason="bad_encoding") from exc
    except Exception as exc:
        if _BROTLI is not None and isinstance(exc, _BROTLI.error):
            raise FetchError(f"{url}: corrupt brotli body: {exc}", reason="bad_encoding") from exc
        raise
    return b"".join(chunks)


def backoff_delay(
    attempt: int, retry_after: float | None, cap: float, *, base: float = 0.5
) -> float:
    """Exponential backoff with full jitter; a server's Retry-After wins when longer."""
    delay = random.uniform(0, min(cap, base * 2.0**attempt))
    return min(cap, max(delay, retry_after or 0.0))


def fetch_with_retries(
    source: Source,
    policy: FetchPolicy,
    client: httpx.Client | None = None,
    *,
    attempts: int,
    backoff_max: float,
    politeness: Politeness | None = None,
    validators: Validators | None = None,
    accept: str = ARTICLE,
    sleep: Callable[[float], None] = time.sleep,
) -> Fetched:
    """:func:`fetch_url` with in-process retries of transient errors, for callers without a
    task queue (the CLI, a feed poll). A Retry-After longer than ``backoff_max`` is not
    waited for: the error is raised so a scheduler can come back later."""
    own = client is None
    http = make_client(policy) if client is None else client
    try:
        for attempt in range(max(1, attempts)):
            try:
                return fetch_url(
                    source,
                    policy,
                    http,
                    politeness=politeness,
                    validators=validators,
                    accept=accept,
                )
            except TransientFetchError as exc:
                too_long = exc.retry_after is not None and exc.retry_after > backoff_max
                if attempt + 1 >= attempts or too_long:
                    raise
                sleep(backoff_delay(attempt, exc.retry_after, backoff_max))
        raise AssertionError("unreachable")
    finally:
        if own:
            http.close()
