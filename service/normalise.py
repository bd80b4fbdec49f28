"""Normalisation: NFC text, tidy whitespace, UTC dates, canonical URLs, stable ids, hashes."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

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


def canonical_url(url: str | None) -> str | None:
    """Lower-case scheme and host, no default port, no fragment; None for an unusable URL."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # "http://[::1", "http://x:99999/": a page's canonical link can be junk
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    netloc = host if port in (None, default) else f"{host}:{port}"
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, parts.query, ""))


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
