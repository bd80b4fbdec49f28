"""The pipeline wired in one place: source -> fetch -> decode -> extract -> detect ->
translate -> normalise -> Document.

Two halves meet at the queue boundary: :meth:`Pipeline.ingest` (I/O-bound, the ``ingest``
queue) returns an :class:`Article`, plain data that crosses Celery as JSON, and
:meth:`Pipeline.finish` (CPU-bound translation, the ``translate`` queue) turns it into a
validated :class:`Document`. ``process`` runs both in-process, with no Redis.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from .decode import decode
from .extract import extract_html, extract_text
from .fetch import FetchPolicy, fetch_url, read_file
from .language import detect_document
from .normalise import (
    canonical_url,
    content_hash,
    document_id,
    join_paragraphs,
    normalise_date,
    normalise_paragraphs,
    normalise_text,
)
from .politeness import Politeness
from .records import Article, Document, Extracted, Fetched, Source, utc_now
from .settings import Settings
from .similarity import simhash
from .tcache import TranslationCache
from .translate import Engine, TranslationResult

def article_from_document(doc: dict[str, Any]) -> Article:
    """Rebuild the pre-translation Article from a published document (for re-translation)."""
    source = dict(doc["source"])
    fetched_at = str(source.pop("fetched_at"))
    return Article(
        source=Source.from_dict(source),
        url=doc.get("url"),
        fetched_at=fetched_at,
        encoding=dict(doc["encoding"]),
        extracted=Extracted(
            title=doc.get("title"),
            paragraphs=[p for p in str(doc["text"]).split("\n\n") if p],
            authors=list(doc.get("authors") or []),
            date=doc.get("published_at"),
            site_name=doc.get("site_name"),
            canonical_url=doc.get("canonical_url"),
            description=doc.get("description"),
        ),
        language=str(doc["language"]),
        language_confidence=float(doc["language_confidence"]),
        script=doc.get("script"),
    )


def make_engine(settings: Settings, cache: TranslationCache | None = None) -> Engine:
    return Engine(
        packages_dir=settings.packages_dir,
        device=settings.translate_device,
        compute_type=settings.translate_compute_type,
        beam_size=settings.translate_beam_size,
        intra_threads=settings.translate_intra_threads,
        max_batch_tokens=settings.translate_max_batch_tokens,
        max_sentence_tokens=settings.translate_max_sentence_tokens,
        cache=cache,
    )


def fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy.from_settings(settings)


class StageObserver(Protocol):
    """Receives each stage's duration (and error reason); metrics.Recorder is one."""

    def timed(self, stage: str) -> AbstractContextManager[None]: ...


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        observer: StageObserver | None = None,
        *,
        politeness: Politeness | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.settings = settings
        self._engine = engine
        self._observer = observer
        # Workers pass a shared guarded client and Redis-backed politeness; the in-process
        # CLI passes neither and fetches with a fresh client and no robots/host limits.
        self._politeness = politeness
        self._http = http

    def _stage(self, name: str) -> AbstractContextManager[None]:
        return self._observer.timed(name) if self._observer is not None else nullcontext()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings)
        return self._engine

    def acquire(self, source: Source) -> Fetched:
        if source.kind == "file":
            return read_file(source, self.settings.file_max_bytes)
        return fetch_url(
            source, fetch_policy(self.settings), self._http, politeness=self._politeness
        )

    def ingest(self, source: Source) -> Article:
        """Fetch, decode, extract, normalise and detect: the ``ingest`` queue's work."""
        with self._stage("fetch"):
            fetched = self.acquire(source)
        return self.ingest_fetched(fetched)

    def ingest_fetched(self, fetched: Fetched) -> Article:
        is_html = fetched.media_type == "html"
        with self._stage("decode"):
            decoded = decode(fetched.body, fetched.charset, is_html=is_html)
        with self._stage("extract"):
            raw = (
                extract_html(decoded.text, fetched.final_url)
                if is_html
                else extract_text(decoded.text)
            )
        paragraphs = normalise_paragraphs(raw.paragraphs)
        title = normalise_text(raw.title) if raw.title else None
        extracted = Extracted(
            title=title or None,
            paragraphs=paragraphs,
            authors=[normalise_text(a) for a in raw.authors if normalise_text(a)],
            date=raw.date,
            site_name=normalise_text(raw.site_name) if raw.site_name else None,
            # Plain text has no canonical link: the URL it was fetched from identifies it.
            canonical_url=canonical_url(
                raw.canonical_url or (None if is_html else fetched.final_url)
            ),
            description=normalise_text(raw.description) if raw.description else None,
        )
        with self._stage("detect"):
            detection = detect_document(
                ([title] if title else []) + paragraphs, seed=self.settings.langdetect_seed
            )
        return Article(
            source=fetched.source,
            url=fetched.final_url,
            fetched_at=fetched.fetched_at,
            encoding={"name": decoded.encoding, "reason": decoded.reason},
            extracted=extracted,
            language=detection.language,
            language_confidence=round(float(detection.confidence), 4),
            script=detection.script,
        )

    def translate(self, article: Article) -> TranslationResult:
        ex = article.extracted
        if article.language == "und":
            return TranslationResult(
                "skipped", None, None, detail="language undetermined; nothing to translate from"
            )
        with self._stage("translate"):
            return self.engine.translate_document(article.language, ex.title, ex.paragraphs)

    def finish(self, article: Article, translation: TranslationResult) -> Document:
        """Build and validate the document: the last stage before publishing."""
        ex = article.extracted
        text = join_paragraphs(ex.paragraphs)
        hash_ = content_hash(ex.title, text)
        text_en = (
            join_paragraphs(translation.paragraphs_en)
            if translation.paragraphs_en is not None
            else None
        )
        doc = Document(
            id=document_id(ex.canonical_url, hash_),
            url=article.url,
            source={**article.source.as_dict(), "fetched_at": article.fetched_at},
            language=article.language,
            language_confidence=article.language_confidence,
            script=article.script,
            title=ex.title,
            text=text,
            title_en=translation.title_en if text_en is not None else None,
            text_en=text_en,
            translation=translation.as_dict(),
            authors=list(ex.authors),
            published_at=normalise_date(ex.date),
            site_name=ex.site_name,
            canonical_url=ex.canonical_url,
            description=ex.description,
            encoding=dict(article.encoding),
            content_hash=hash_,
            ingested_at=utc_now(),
        )
        english = doc.text_en if doc.text_en is not None else doc.text
        doc.fingerprint = f"simhash:{simhash(english):016x}"
        doc.validate()
        return doc

    def process(self, source: Source, *, translate: bool = True) -> Document:
        """The whole pipeline in-process (``newsingest process``)."""
        article = self.ingest(source)
        if not article.needs_translation:
            ex = article.extracted
            result = (
                TranslationResult("not_needed", ex.title, ex.paragraphs)
                if article.language == "en"
                else self.translate(article)
            )
        elif translate:
            result = self.translate(article)
        else:
            result = TranslationResult("skipped", None, None, detail="translation disabled")
        return self.finish(article, result)
