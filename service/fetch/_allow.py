"""The grammar of a ``fetch_allow`` entry: standard library only, so that the settings can
check entries with the same rules the SSRF guard applies."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_HOST = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")

# An allow-list entry without a port permits only the ports of the web itself, so listing
# an internal host never opens its other services to a redirect from a public page.
WEB_PORTS = frozenset({80, 443})


@dataclass(frozen=True)
class AllowRule:
    """One ``fetch_allow`` entry: a host name or a network, and the ports it opens."""

    host: str | None
    net: _Network | None
    ports: frozenset[int] | None  # None: any port ("host:*")

    def opens(self, port: int) -> bool:
        return self.ports is None or port in self.ports


def _ports(spec: str, entry: str) -> frozenset[int] | None:
    if spec == "*":
        return None
    if spec.isascii() and spec.isdigit() and 0 < int(spec) < 65536:
        return frozenset({int(spec)})
    raise ValueError(f"fetch_allow entry {entry!r}: the port must be a number from 1 to 65535 or *")


def parse_allow_entry(entry: str) -> AllowRule:
    """``host``, ``host:port``, ``10.0.0.0/8``, ``10.0.0.0/8:8080``, ``::1``, ``[::1]:8080``,
    ``[fd00::/8]:*``; no port means 80 and 443 only."""
    item = entry.strip().lower()
    ports: frozenset[int] | None = WEB_PORTS
    if item.startswith("["):
        end = item.find("]")
        rest = item[end + 1 :] if end > 0 else "?"
        if rest and not rest.startswith(":"):
            raise ValueError(f"fetch_allow entry {entry!r}: write [address]:port")
        if rest:
            ports = _ports(rest[1:], entry)
        item = item[1:end]
    elif item.count(":") == 1:
        item, spec = item.split(":")
        ports = _ports(spec, entry)
    try:
        return AllowRule(None, ipaddress.ip_network(item, strict=False), ports)
    except ValueError:
        if not _HOST.fullmatch(item) or item.replace(".", "").isdigit():  # "127.1"
            raise ValueError(
                f"fetch_allow entry {entry!r} is neither a host nor a network"
            ) from None
        return AllowRule(item.rstrip("."), None, ports)
