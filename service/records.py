"""The records that travel between stages, in the order an article meets them.

:class:`Source` (what was submitted) -> :class:`Fetched` (its bytes) -> :class:`Extracted`
(title, paragraphs, metadata) -> :class:`Article` (plus language; crosses the queue as JSON)
-> :class:`Document` (what consumers read, schema v1). All are plain data: no I/O here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import orjson

from .document import DUPLICATE_PLACEHOLDER, SCHEMA_VERSION, VERSION_PLACEHOLDER, validate

# Languages that never need the translate queue.
NO_TRANSLATION = frozenset({"en", "und"})


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class WarcOrigin:
    """Where a WARC record lies: the file (an absolute path) and the byte offset of the
    record (of its gzip member in a .warc.gz), so it can be read again without the rest."""

    file: str
    offset: int
    record_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "offset": self.offset, "record_id": self.record_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WarcOrigin:
        record_id = data.get("record_id")
        return cls(str(data["file"]), int(data["offset"]), str(record_id) if record_id else None)


@dataclass(frozen=True)
class FeedItem:
    """Where a feed or sitemap item came from: the source's name in the registry and what the
    item itself said (title, date, author, categories, guid), as evidence for the page's own
    metadata when the page gives none. ``published`` is ISO-8601 UTC when the feed's date
    could be read."""

    name: str
    title: str | None = None
    published: str | None = None
    author: str | None = None
    categories: tuple[str, ...] = ()
    guid: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "published": self.published,
            "author": self.author,
            "categories": list(self.categories),
            "guid": self.guid,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeedItem:
        def opt(key: str) -> str | None:
            value = data.get(key)
            return str(value) if value else None

        return cls(
            str(data["name"]),
            opt("title"),
            opt("published"),
            opt("author"),
            tuple(str(c) for c in data.get("categories") or ()),
            opt("guid"),
        )


@dataclass(frozen=True)
class Source:
    """What was submitted: ``kind`` is ``file``, ``url`` or ``warc``; ``location`` a path or
    URL (for ``warc`` the record's canonical WARC-Target-URI, and ``warc`` says where the
    record lies)."""

    kind: str
    location: str
    language_hint: str | None = None
    warc: WarcOrigin | None = None
    feed: FeedItem | None = None  # for an item of a feed or sitemap
    translate_scope: str | None = None  # full, lead or title: the source's, over the setting

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "location": self.location}
        if self.language_hint:
            out["language_hint"] = self.language_hint
        if self.translate_scope:
            out["translate_scope"] = self.translate_scope
        if self.warc is not None:
            out["warc"] = self.warc.as_dict()
        if self.feed is not None:
            out["feed"] = self.feed.as_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        warc, feed = data.get("warc"), data.get("feed")
        return cls(
            str(data["kind"]),
            str(data["location"]),
            data.get("language_hint"),
            WarcOrigin.from_dict(warc) if isinstance(warc, dict) else None,
            FeedItem.from_dict(feed) if isinstance(feed, dict) else None,
            data.get("translate_scope") or None,
        )

    def with_hint(self, language: str | None) -> Source:
        """The same input with a language hint (a prior for detection, never a verdict)."""
        return dataclasses.replace(self, language_hint=language or None)


@dataclass(frozen=True)
class Validators:
    """Conditional-GET state of one URL. ETag and Last-Modified are advisory: servers get
    them wrong both ways, so the body hash decides whether the content changed."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None

    def as_dict(self) -> dict[str, str]:
        out = {"etag": self.etag, "last_modified": self.last_modified, "body_hash": self.body_hash}
        return {k: v for k, v in out.items() if v}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Validators:
        return cls(
            data.get("etag") or None,
            data.get("last_modified") or None,
            data.get("body_hash") or None,
        )


@dataclass(frozen=True)
class Fetched:
    source: Source
    body: bytes
    media_type: str  # "html" | "text" | "xml"; "" when unchanged on a 304
    charset: str | None
    final_url: str | None
    fetched_at: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    # True on a 304, or when the body hash equals the one in the validators sent.
    unchanged: bool = False
    # What to store for the next conditional GET once the caller has handled this response.
    validators: Validators | None = None


@dataclass(frozen=True)
class Extracted:
    title: str | None
    paragraphs: list[str]
    authors: list[str] = field(default_factory=list)
    date: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    # What a consumer filters on (docs/document-schema.md): paywalled | free | unknown,
    # whether the text stops before the article does, the share of the input kept.
    access: str = "unknown"
    truncated: bool = False
    kept_share: float | None = None
    # Where the title, authors and date came from, the date's precision and zone, the
    # modification time and the agency (service.metadata: PageMeta.meta, settle_extracted).
    meta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "paragraphs": list(self.paragraphs),
            "authors": list(self.authors),
            "date": self.date,
            "site_name": self.site_name,
            "canonical_url": self.canonical_url,
            "description": self.description,
            "access": self.access,
            "truncated": self.truncated,
            "kept_share": self.kept_share,
            "meta": dict(self.meta),
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
            access=str(data.get("access") or "unknown"),
            truncated=bool(data.get("truncated", False)),
            kept_share=_share(data.get("kept_share")),
            meta=dict(data.get("meta") or {}),
        )


def _share(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Article:
    """Everything known about one article before translation; JSON-safe via as_dict."""

    source: Source
    url: str | None
    fetched_at: str
    encoding: dict[str, str]
    extracted: Extracted
    language: str
    language_confidence: float
    script: str | None

    @property
    def needs_translation(self) -> bool:
        return self.language not in NO_TRANSLATION

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.as_dict(),
            "url": self.url,
            "fetched_at": self.fetched_at,
            "encoding": dict(self.encoding),
            "extracted": self.extracted.as_dict(),
            "language": self.language,
            "language_confidence": self.language_confidence,
            "script": self.script,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        return cls(
            source=Source.from_dict(data["source"]),
            url=data.get("url"),
            fetched_at=str(data["fetched_at"]),
            encoding=dict(data["encoding"]),
            extracted=Extracted.from_dict(data["extracted"]),
            language=str(data["language"]),
            language_confidence=float(data["language_confidence"]),
            script=data.get("script"),
        )

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Article:
        """Rebuild the pre-translation Article from a published document (for re-translation)."""
        source = dict(doc["source"])
        fetched_at = str(source.pop("fetched_at"))
        return cls(
            source=Source.from_dict(source),
            url=doc.get("url"),
            fetched_at=fetched_at,
            encoding=dict(doc["encoding"]),
            extracted=Extracted(
                title=doc.get("title"),
                paragraphs=[p for p in str(doc["text"]).split("\n\n") if p],
                authors=list(doc.get("authors") or []),
                date=doc.get("published_at_local") or doc.get("published_at"),
                site_name=doc.get("site_name"),
                canonical_url=doc.get("canonical_url"),
                description=doc.get("description"),
                access=str(doc.get("access") or "unknown"),
                truncated=bool(doc.get("truncated", False)),
                kept_share=_share(doc.get("kept_share")),
                meta={k: doc[f] for k, f in _META_FIELDS if doc.get(f) is not None},
            ),
            language=str(doc["language"]),
            language_confidence=float(doc["language_confidence"]),
            script=doc.get("script"),
        )


@dataclass
class Document:
    id: str
    url: str | None
    source: dict[str, Any]
    language: str
    language_confidence: float
    script: str | None
    title: str | None
    text: str
    title_en: str | None
    text_en: str | None
    translation: dict[str, Any]
    authors: list[str]
    published_at: str | None
    site_name: str | None
    canonical_url: str | None
    description: str | None
    encoding: dict[str, str]
    content_hash: str
    ingested_at: str
    version: int = 1
    duplicate_of: str | None = None
    story_id: str | None = None
    fingerprint: str | None = None
    # Optional in schema v1 (documents published before them lack them): left out when None.
    access: str | None = None
    truncated: bool | None = None
    kept_share: float | None = None
    published_at_local: str | None = None
    published_at_precision: str | None = None
    published_at_source: str | None = None
    published_at_zone: str | None = None
    published_at_zone_inferred: bool | None = None
    modified_at: str | None = None
    agency: str | None = None
    title_source: str | None = None
    authors_source: str | None = None
    schema_version: int = field(default=SCHEMA_VERSION)

    def as_dict(self) -> dict[str, Any]:
        # Shallow on purpose: dataclasses.asdict deep-copies, and this runs per publish.
        # Key order is part of the contract's readability: identity first.
        out = {name: getattr(self, name) for name in _FIELD_ORDER}
        for name in _OPTIONAL:
            if out[name] is None:
                del out[name]
        return out

    def validate(self) -> None:
        validate(self.as_dict())

    def to_json(self) -> str:
        return self.to_json_bytes().decode("utf-8")

    def to_json_bytes(self) -> bytes:
        """Compact UTF-8 JSON, as published (orjson: about 6x faster than json on articles)."""
        return orjson.dumps(self.as_dict())

    def to_json_for_store(self) -> bytes:
        """JSON whose version the store fills in atomically (see store.PUBLISH_SCRIPT)."""
        data = self.as_dict()
        data["version"] = VERSION_PLACEHOLDER
        data["duplicate_of"] = DUPLICATE_PLACEHOLDER
        return orjson.dumps(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(**data)


_IDENTITY = ("schema_version", "id", "version", "duplicate_of")
# Metadata provenance (issue #15): Extracted.meta keys and the document fields they become.
_META_FIELDS = (
    ("date_precision", "published_at_precision"),
    ("date_source", "published_at_source"),
    ("date_zone", "published_at_zone"),
    ("date_zone_inferred", "published_at_zone_inferred"),
    ("modified", "modified_at"),
    ("agency", "agency"),
    ("title_source", "title_source"),
    ("authors_source", "authors_source"),
)
_OPTIONAL = ("access", "truncated", "kept_share", "published_at_local",
             *(f for _k, f in _META_FIELDS))  # fmt: skip
_FIELD_ORDER = (*_IDENTITY, *(f.name for f in fields(Document) if f.name not in _IDENTITY))
