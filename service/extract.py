"""Article text and metadata from decoded HTML (trafilatura) or plain text (our cleaner)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import trafilatura

from .cleanup import clean_plain_text
from .errors import ExtractionError

_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_CANONICAL_RE = re.compile(r"<link\b[^>]*\brel=[\"']?canonical[\"']?[^>]*>", re.IGNORECASE)
_HREF_RE = re.compile(r"\bhref=[\"']([^\"']+)[\"']", re.IGNORECASE)
# Scan only the head-ish start of the page for tags; bounded so hostile pages stay cheap.
_HEAD_SCAN = 200_000


@dataclass(frozen=True)
class Extracted:
    title: str | None
    paragraphs: list[str]
    authors: list[str] = field(default_factory=list)
    date: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    description: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "paragraphs": list(self.paragraphs),
            "authors": list(self.authors),
            "date": self.date,
            "site_name": self.site_name,
            "canonical_url": self.canonical_url,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Extracted:
        return cls(
            title=data.get("title"),
            paragraphs=list(data.get("paragraphs") or []),
            authors=list(data.get("authors") or []),
            date=data.get("date"),
            site_name=data.get("site_name"),
            canonical_url=data.get("canonical_url"),
            description=data.get("description"),
        )


def _split_authors(raw: str | None) -> list[str]:
    if not raw:
        return []
    parts = re.split(r"\s*[;|]\s*|\s+and\s+|\s*,\s*(?=[A-Z\u3131-\uD7A3\u4E00-\u9FFF])", raw)
    return [p.strip() for p in parts if p and p.strip()]


_SEPARATORS = "|\\-\u2013\u2014\u3163:_\u00b7"


def strip_site_suffix(title: str, site_name: str | None) -> str:
    """Drop a trailing "| Site" or "-Section|Site" that pages append to their <title>."""
    if not site_name or title.strip() == site_name.strip():
        return title
    pattern = re.compile(
        rf"\s*[{_SEPARATORS}]\s*(?:[^{_SEPARATORS}]{{1,12}}[{_SEPARATORS}]\s*)?"
        + re.escape(site_name.strip())
        + r"\s*$"
    )
    stripped = pattern.sub("", title).strip()
    return stripped or title


def _canonical_from_html(html: str) -> str | None:
    match = _CANONICAL_RE.search(html, 0, _HEAD_SCAN)
    if match:
        href = _HREF_RE.search(match.group(0))
        if href and href.group(1).lower().startswith(("http://", "https://")):
            return href.group(1).strip()
    return None


def extract_html(html: str, url: str | None = None) -> Extracted:
    """Main text and metadata from one HTML page; raises ExtractionError when there is none."""
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            deduplicate=False,
        )
    except (ValueError, TypeError, RecursionError) as exc:
        raise ExtractionError(f"trafilatura could not parse the page: {exc}") from exc
    data: dict[str, Any] = {}
    if doc is not None:
        data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    text = str(data.get("text") or "")
    paragraphs = [line.strip() for line in text.split("\n") if line.strip()]
    if not paragraphs:
        raise ExtractionError("no article text found in the page", reason="no_content")
    title = data.get("title")
    if not title:
        found = _TITLE_RE.search(html, 0, _HEAD_SCAN)
        title = re.sub(r"\s+", " ", found.group(1)).strip() if found else None
    canonical = _canonical_from_html(html)
    meta_url = data.get("url")
    if not canonical and isinstance(meta_url, str) and meta_url.startswith(("http://", "https://")):
        canonical = meta_url
    site_name = data.get("sitename") or None
    if title:
        title = strip_site_suffix(title, site_name)
    return Extracted(
        title=title or None,
        paragraphs=paragraphs,
        authors=_split_authors(data.get("author")),
        date=data.get("date") or None,
        site_name=site_name,
        canonical_url=canonical or url,
        description=data.get("description") or None,
    )


def extract_text(text: str) -> Extracted:
    """Article from a plain-text input, with line-level boilerplate removed."""
    cleaned = clean_plain_text(text)
    if not cleaned.paragraphs:
        raise ExtractionError("the text holds no article paragraphs", reason="no_content")
    return Extracted(title=cleaned.title, paragraphs=list(cleaned.paragraphs))
