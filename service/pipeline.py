"""The route of one article, decided in one place.

``ingest`` (fetch -> decode -> extract -> detect) gives an :class:`Article`; ``route`` says
what happens next: publish now (English, undetermined, translation off) or go to the
``translate`` queue; ``translate`` never raises (a missing or failing model is a status);
``finish`` builds the validated :class:`Document` with its fingerprint; ``publish`` stores
it. ``newsingest process`` runs all of it in-process; the Celery tasks (workers/tasks.py)
run ``ingest`` + ``route`` in the ingest queue and ``translate`` + ``publish`` in the
translate queue. Neither decides anything this module does not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

import httpx

from .archive import read_record
from .decode import decode
from .errors import IngestError
from .extract import extract_html, extract_text
from .fetch import FetchPolicy, fetch_url, read_file
from .language import detect_document
from .logs import current_stage
from .metadata import document_fields, settle_extracted, zone_table
from .normalise import (
    canonical_url,
    content_hash,
    document_id,
    join_paragraphs,
    normalise_paragraphs,
    normalise_text,
)
from .politeness import Politeness
from .records import Article, Document, Extracted, Fetched, Source, utc_now
from .settings import Settings
from .similarity import fingerprint
from .store import Published, Store
from .tcache import TranslationCache
from .translate import Engine, TranslationResult

log = logging.getLogger("newsingest.pipeline")

INGEST_QUEUE = "ingest"
TRANSLATE_QUEUE = "translate"

# (language, title, paragraphs, scope) -> result; scope is full, lead or title.
Translator = Callable[[str, str | None, Sequence[str], str], TranslationResult]


class StageObserver(Protocol):
    """Receives each stage's duration (and error reason); metrics.Recorder is one."""

    def timed(self, stage: str) -> AbstractContextManager[None]: ...

    def translated(self, chars: int, seconds: float) -> None: ...


@dataclass(frozen=True)
class Next:
    """What happens to an article after ingest: publish ``translation`` now, or go to
    ``queue`` (the translate queue) and be translated there."""

    queue: str | None
    translation: TranslationResult | None = None


def make_engine(settings: Settings, cache: TranslationCache | None = None) -> Engine:
    return Engine.from_settings(settings, cache)


class Pipeline:
    """The stages of one article, with the services they need passed in.

    Workers pass a shared guarded HTTP client, Redis-backed politeness, a metrics observer
    and a batching translator; ``newsingest process`` passes none of them and fetches with
    a fresh client, no robots/host limits, and translates each document on its own.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        observer: StageObserver | None = None,
        *,
        politeness: Politeness | None = None,
        http: httpx.Client | None = None,
        translator: Translator | None = None,
        confine_files: bool = True,
    ) -> None:
        self.settings = settings
        # Work from the queue reads files only under file_roots; `newsingest process` passes
        # confine_files=False and reads whatever its user names.
        self._file_roots = settings.file_root_paths if confine_files else None
        self._engine = engine
        self._observer = observer
        self._politeness = politeness
        self._http = http
        self._translator = translator

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        """Times the stage and names it for a dead letter raised inside it."""
        current_stage.set(name)
        if self._observer is None:
            yield
            return
        with self._observer.timed(name):
            yield

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings)
        return self._engine

    # ---- ingest: the ingest queue's work -------------------------------------------------

    def acquire(self, source: Source) -> Fetched:
        if source.kind == "file":
            return read_file(source, self.settings.file_max_bytes, roots=self._file_roots)
        policy = FetchPolicy.from_settings(self.settings)
        if source.kind == "warc":
            # Already fetched, by whoever wrote the archive: the record is read back by its
            # offset and ingested from its bytes, like a page just downloaded.
            return read_record(source, policy, self._file_roots)
        return fetch_url(source, policy, self._http, politeness=self._politeness)

    def ingest(self, source: Source) -> Article:
        """Fetch, decode, extract, normalise and detect."""
        with self._stage("fetch"):
            fetched = self.acquire(source)
        return self.ingest_fetched(fetched)

    def ingest_fetched(self, fetched: Fetched) -> Article:
        """Decode, extract, normalise and detect a body that is already here (a fetched
        page, a file, a WARC record): the rest of :meth:`ingest`."""
        is_html = fetched.media_type == "html"
        with self._stage("decode"):
            decoded = decode(fetched.body, fetched.charset, is_html=is_html)
        limits = self.settings
        with self._stage("extract"):
            raw = (
                extract_html(
                    decoded.text,
                    fetched.final_url,
                    max_elements=limits.parse_max_elements,
                    max_depth=limits.parse_max_depth,
                )
                if is_html
                else extract_text(
                    decoded.text,
                    max_lines=limits.text_max_lines,
                    max_line_chars=limits.text_max_line_chars,
                )
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
            access=raw.access,
            truncated=raw.truncated,
            kept_share=raw.kept_share,
            meta=raw.meta,
        )
        with self._stage("detect"):
            detection = detect_document(
                ([title] if title else []) + paragraphs,
                seed=self.settings.langdetect_seed,
                hint=fetched.source.language_hint,
            )
        extracted = settle_extracted(
            extracted,
            fetched.source,
            url=fetched.final_url,
            language=detection.language,
            zones=zone_table(self.settings.publisher_zones),
            headers=fetched.headers,
            fetched_at=fetched.fetched_at,
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

    # ---- the decision ----------------------------------------------------------------------

    def route(self, article: Article, *, translate: bool = True, queued: bool = True) -> Next:
        """Publish now, or translate first: in the translate queue when ``queued``, else here."""
        ex = article.extracted
        if article.language == "en":
            return Next(None, TranslationResult("not_needed", ex.title, ex.paragraphs))
        if article.language == "und":
            return Next(None, self.translate(article))
        if not translate:
            return Next(
                None, TranslationResult("skipped", None, None, detail="translation disabled")
            )
        if queued:
            return Next(TRANSLATE_QUEUE)
        return Next(None, self.translate(article))

    # ---- translate: the translate queue's work -------------------------------------------

    def translate(self, article: Article) -> TranslationResult:
        """The article's translation; a missing or failing model is a status, never a raise,
        so the document is still published with its original text."""
        ex = article.extracted
        if article.language == "und":
            return TranslationResult(
                "skipped", None, None, detail="language undetermined; nothing to translate from"
            )
        translator = self._translator or self.engine.translate_document
        try:
            with self._stage("translate"):
                # The source's scope (sources.toml / `sources add --translate-scope`) first.
                scope = article.source.translate_scope or self.settings.translate_scope
                return translator(article.language, ex.title, ex.paragraphs, scope)
        except IngestError as exc:
            return TranslationResult("failed", None, None, detail=f"{exc.reason}: {exc.message}")
        except Exception as exc:  # noqa: BLE001 - publish untranslated rather than lose it
            log.exception("translation crashed for %s", article.source.location)
            return TranslationResult("failed", None, None, detail=f"{type(exc).__name__}: {exc}")

    # ---- the document and its publication ----------------------------------------------------

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
            **document_fields(ex),
            site_name=ex.site_name,
            canonical_url=ex.canonical_url,
            description=ex.description,
            encoding=dict(article.encoding),
            content_hash=hash_,
            ingested_at=utc_now(),
            access=ex.access,
            truncated=ex.truncated,
            kept_share=ex.kept_share,
        )
        # A lead- or title-scope translation covers part of the text: fingerprint the whole.
        whole = translation.paragraphs_translated in (None, len(ex.paragraphs))
        doc.fingerprint = fingerprint(text_en if text_en is not None and whole else text)
        doc.validate()
        return doc

    def publish(
        self, article: Article, translation: TranslationResult, store: Store
    ) -> tuple[Document, Published]:
        """Finish and store the document: the stream entry consumers read."""
        doc = self.finish(article, translation)
        with self._stage("publish"):
            published = store.publish(doc)
        if translation.status == "translated" and self._observer is not None:
            self._observer.translated(len(doc.text) + len(doc.title or ""), translation.seconds)
        log.info(
            "published v%d (%s), translation %s",
            published.version,
            "new" if published.added else "already there",
            translation.status,
            extra={"doc_id": doc.id, "url": article.source.location, "stage": "publish"},
        )
        return doc, published

    def process(self, source: Source, *, translate: bool = True) -> Document:
        """The whole route in-process (``newsingest process``): no queue, no store."""
        article = self.ingest(source)
        step = self.route(article, translate=translate, queued=False)
        assert step.translation is not None  # queued=False always decides here
        return self.finish(article, step.translation)
