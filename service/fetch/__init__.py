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
- operators' exceptions (``fetch_allow``) name a port, or open only 80 and 443;
- Retry-After read strictly and clamped (:func:`parse_retry_after`);
- optional politeness (robots.txt, per-host delay and concurrency across processes, see
  :mod:`service.politeness`) and conditional GET (:class:`Validators`).
"""

from ..records import Fetched, Source, Validators, utc_now
from ..retry import backoff_delay
from ._decompress import ACCEPT_ENCODING
from ._file import check_file, read_file, source_from_arg
from ._guard import AddressGuard, GuardedBackend, GuardedTransport, check_url, make_client
from ._http import ARTICLE, FEED, ROBOTS, fetch_url
from ._policy import (
    FEED_TYPES,
    GZIP_TYPES,
    HTML_TYPES,
    ROBOTS_MAX_BYTES,
    TEXT_TYPES,
    FetchPolicy,
)
from ._retry import fetch_with_retries
from ._retry_after import parse_retry_after

__all__ = [
    "ACCEPT_ENCODING",
    "ARTICLE",
    "FEED",
    "FEED_TYPES",
    "GZIP_TYPES",
    "HTML_TYPES",
    "ROBOTS",
    "ROBOTS_MAX_BYTES",
    "TEXT_TYPES",
    "AddressGuard",
    "FetchPolicy",
    "Fetched",
    "GuardedBackend",
    "GuardedTransport",
    "Source",
    "Validators",
    "backoff_delay",
    "check_file",
    "check_url",
    "fetch_url",
    "fetch_with_retries",
    "make_client",
    "parse_retry_after",
    "read_file",
    "source_from_arg",
    "utc_now",
]
