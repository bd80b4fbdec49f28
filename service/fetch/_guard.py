"""The SSRF guard and the fetch deadline, both enforced inside the connection itself."""

from __future__ import annotations

import contextvars
import ipaddress
import socket
import ssl
import time
import weakref
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from ..errors import FetchError, TransientFetchError
from ._allow import AllowRule, parse_allow_entry
from ._decompress import ACCEPT_ENCODING
from ._policy import FetchPolicy

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# IPv6 ranges that carry (or may carry) an IPv4 address, or that only a local network routes:
# refused whole, whatever the embedded address, since news sites are not served from them.
_REFUSED_V6 = tuple(
    ipaddress.ip_network(net)
    for net in (
        "::/96",  # IPv4-compatible ::a.b.c.d (deprecated), also :: and ::1
        "::ffff:0:0:0/96",  # IPv4-translated ::ffff:0:a.b.c.d (SIIT)
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215): any mapping a network chooses
        "2001::/32",  # Teredo
        "2002::/16",  # 6to4
        "fec0::/10",  # site-local (deprecated, still routed inside some networks)
    )
)


def _describe(ports: frozenset[int] | None) -> str:
    if ports is None:
        return "any port"
    return ("ports " if len(ports) > 1 else "port ") + " and ".join(map(str, sorted(ports)))


def is_public(addr: _Address) -> bool:
    """An address the open internet routes to a public host. Forms that embed an IPv4
    address are judged by that address (IPv4-mapped, NAT64) or refused (the rest)."""
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return is_public(addr.ipv4_mapped)
        if addr in _NAT64:
            return is_public(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
        if any(addr in net for net in _REFUSED_V6):
            return False
    return addr.is_global and not addr.is_multicast


class AddressGuard:
    """Which addresses may be connected to: public unicast ones, plus the hosts and networks
    an operator listed in ``fetch_allow``, on the ports listed with them."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.rules = [parse_allow_entry(item) for item in allow if item.strip()]

    def _listed(self, addr: _Address) -> list[AllowRule]:
        forms = [addr]
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            forms.append(addr.ipv4_mapped)
        return [r for r in self.rules if r.net is not None and any(a in r.net for a in forms)]

    def permits(self, address: str, port: int) -> bool:
        addr: _Address = ipaddress.ip_address(address.split("%", 1)[0])
        if any(rule.opens(port) for rule in self._listed(addr)):
            return True
        return is_public(addr)

    def _refusal(self, host: str, address: str, port: int) -> str:
        addr = ipaddress.ip_address(address.split("%", 1)[0])
        by_name = [r for r in self.rules if r.host == _name(host)]
        listed = self._listed(addr) + by_name
        if listed:
            opened = ", ".join(_describe(r.ports) for r in listed)
            entry = _spelled(_name(host) if by_name else address)
            return (
                f"refused {host}:{port}: NEWSINGEST_FETCH_ALLOW permits {entry} on {opened} "
                f"only; list {entry}:{port} to permit port {port}"
            )
        return (
            f"refused {host}: it resolves to non-public address {address}; list the host or "
            "its network in NEWSINGEST_FETCH_ALLOW (with :port unless it is 80 or 443) to "
            "permit it"
        )

    def resolve(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` and return its addresses, refusing if any of them is not permitted
        on ``port`` (a name that resolves to both a public and a private address is refused)."""
        name = _name(host)
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
        if any(rule.host == name and rule.opens(port) for rule in self.rules):
            return addresses
        for address in addresses:
            if not self.permits(address, port):
                raise FetchError(self._refusal(host, address, port), reason="ssrf_refused")
        if not addresses:
            raise TransientFetchError(f"{host} resolves to no address", reason="dns_error")
        return addresses


def _name(host: str) -> str:
    name = host.lower().rstrip(".")
    return name[1:-1] if name.startswith("[") and name.endswith("]") else name


def _spelled(address: str) -> str:
    return f"[{address}]" if ":" in address else address


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
