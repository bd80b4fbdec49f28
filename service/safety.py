"""Start-up safety checks for the long-running roles (``run``, ``worker``, ``beat``).

Redis holds the queues, every document and the dead letters, and an unauthenticated Redis
on a network address lets anyone on that network read them, inject tasks, or wipe them. A
worker therefore refuses to start with a Redis URL that has no password and whose host
resolves to anything but a loopback address, unless the operator says so with the
``allow_insecure_redis`` setting. The check only resolves the name; it never connects.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["check_redis_url"]

Resolver = Callable[..., list[tuple[Any, ...]]]


def _addresses(host: str, port: int, resolve: Resolver) -> list[str]:
    infos = resolve(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _is_loopback(address: str) -> bool:
    addr = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


def check_redis_url(url: str, *, resolve: Resolver = socket.getaddrinfo) -> str | None:
    """A refusal message when ``url`` has no password and its host resolves to a non-loopback
    address; None when the URL is acceptable (password set, loopback only, or a unix socket).

    A host that does not resolve is not refused here: connecting will fail with its own,
    clearer error.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or 6379
    except ValueError:
        return None  # redis-py will reject the URL itself
    scheme = parts.scheme.lower()
    if scheme in ("unix", ""):
        return None
    password = parts.password or (parse_qs(parts.query).get("password") or [""])[0]
    if password:
        return None
    host = parts.hostname or "localhost"
    try:
        addresses = _addresses(host, port, resolve)
    except (OSError, UnicodeError):
        return None
    exposed = [a for a in addresses if not _is_loopback(a)]
    if not exposed:
        return None
    return (
        f"refusing to use Redis at {scheme}://{host}:{port} without a password: {host} "
        f"resolves to {', '.join(exposed)}, which is not a loopback address, and an "
        "unauthenticated Redis there lets anyone who can reach it read documents and inject "
        "or delete tasks. Put the password in the URL (redis://:PASSWORD@host:port/0), or set "
        "NEWSINGEST_ALLOW_INSECURE_REDIS=true if the network is private and that is intended."
    )
