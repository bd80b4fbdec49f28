"""Normalisation: NFC text, tidy whitespace, UTC dates, canonical URLs, stable ids, hashes."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import SplitResult, quote, unquote_plus, urljoin, urlsplit, urlunsplit

from courlan import normalize_url

# Zero-width and bidi controls that break matching but carry nothing for readers.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u202a-\u202e\u2066-\u2069\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t\u00a0\u3000\u2000-\u200a\u202f\u205f]+")


def normalise_text(text: str) -> str:
    """NFC, no control or invisible characters, single spaces, stripped."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def normalise_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """Each paragraph normalised; empty ones and immediate repeats dropped."""
    out: list[str] = []
    for raw in paragraphs:
        para = normalise_text(raw.replace("\n", " "))
        if para and (not out or out[-1] != para):
            out.append(para)
    return out


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    return "\n\n".join(paragraphs)


def normalise_date(value: str | None) -> str | None:
    """An ISO 8601 UTC timestamp (``...Z``) from trafilatura's date, or None if unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Query parameters that identify a campaign or a click, never the article. An explicit list,
# not courlan's trackers: those match substrings ("cid", "uid", "source", "ga...", "gl...")
# that name the article on some sites, and two articles under one id overwrite each other.
_TRACKING = re.compile(
    r"^(utm_.*|mtm_.*|pk_.*|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|ysclid"
    r"|twclid|igshid|mc_cid|mc_eid|_ga|_gl|_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|vero_id"
    r"|wickedid|ref_src|cmpid|xtor)$",
    re.IGNORECASE,
)
_DEFAULT_PORT = {"http": 80, "https": 443}
# What httpx leaves alone in a query stays as written; spaces, '"<>', controls and non-ASCII
# are percent-encoded (UTF-8) as httpx sends them, so a URL and its fetched form agree.
_QUERY_SAFE = "!$%'()*+,/:;=?@[\\]^`{|}"


def _query(query: str) -> str:
    """Tracking parameters dropped, the rest sorted by name (values kept as written)."""
    pairs = []
    for pair in query.split("&"):
        if not pair:
            continue
        name = unquote_plus(pair.split("=", 1)[0]).strip()
        if not _TRACKING.match(name):
            pairs.append((name, quote(pair, safe=_QUERY_SAFE)))
    return "&".join(text for _, text in sorted(pairs, key=lambda item: item[0]))


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """The URL an article is known by, and so its id: absolute (``url`` resolved against
    ``base``), http(s), scheme and host lower-cased, IDN decoded, no user info, default port or
    fragment, path normalised by courlan, no tracking parameters, the others sorted.

    Idempotent, so a feed item's canonical URL, fetched, canonicalises to itself. None for a
    URL we would never fetch ("javascript:", junk in a page's canonical link).
    """
    url = (url or "").strip()
    if not url:
        return None
    try:
        parts = urlsplit(urljoin(base, url) if base else url)
        port = parts.port
    except ValueError:  # "http://[::1", "http://x:99999/": a page's canonical link can be junk
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORT or not host:
        return None
    host = f"[{host}]" if ":" in host else host
    netloc = host if port in (None, _DEFAULT_PORT[scheme]) else f"{host}:{port}"
    try:
        # A SplitResult, not a string: courlan would HTML-unescape a string ("&para" -> "¶").
        normal = urlsplit(normalize_url(SplitResult(scheme, netloc, parts.path, "", "")))
    except (ValueError, UnicodeError):
        return None
    return urlunsplit((scheme, normal.netloc, normal.path or "/", _query(parts.query), ""))


def content_hash(title: str | None, text: str) -> str:
    digest = hashlib.sha256()
    digest.update((title or "").encode("utf-8"))
    digest.update(b"\x00")
    digest.update(text.encode("utf-8"))
    return "sha256:" + digest.hexdigest()


def document_id(canonical: str | None, hash_: str) -> str:
    """Stable id: from the canonical URL when there is one, else from the content."""
    basis = f"url:{canonical}" if canonical else f"content:{hash_}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]
