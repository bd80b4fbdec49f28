"""Offline translation to English over installed argos packages.

We load each package's CTranslate2 model and SentencePiece model directly (once per
process, lazily) instead of calling ``argostranslate.translate``: that path imports stanza
and torch, its bundled splitter tries to download at run time, and it translates one
sentence at a time. Here every sentence of one or many documents, titles included, goes to
the model in one batched pass, repeated sentences are translated once, a
:class:`~service.tcache.TranslationCache` can answer sentences seen before, and each
document's paragraph structure is put back exactly.

Batch invariance: CTranslate2 pads every sentence of a batch to the longest one, and the
padded length changes the floating-point sums inside attention just enough to flip a
near-tie in beam search now and then (about one WMT19 sentence in 60 came out differently
alone than in a batch). So we pad deliberately: sentences are grouped by their token length
rounded up to a multiple of ``_PAD_MULTIPLE``, and each group's batch holds one throw-away
row of exactly that length. Every sentence is then always translated at the same padded
length, whatever it is batched with, and a document comes out identical batched or alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _protect, _route
from ._glossary import Glossary, digest, load_glossary
from ._quality import Quality, sentence_flags
from .errors import TranslationError
from .models import PackageInfo, find_package
from .segment import cut_tokens, split_sentences

if TYPE_CHECKING:
    from .settings import Settings
    from .tcache import CacheScope, TranslationCache

log = logging.getLogger("newsingest.translate")

ENGINE_NAME = "ctranslate2"
_SPACE_MARK = "\u2581"
# Sentences are padded to a multiple of this many tokens (see the module docstring); 16
# costs under 5% in throughput against CTranslate2's own length-sorted batching.
_PAD_MULTIPLE = 16
# The masked second pass (about a tenth of the sentences) pads to coarser groups: fewer,
# fuller batches, where 16 made many batches of two or three sentences.
_MASKED_PAD_MULTIPLE = 64

# A document as translate_documents takes it: its title (or None) and its paragraphs.
DocumentText = tuple[str | None, Sequence[str]]
# Source languages whose sentences get protected spans (Latin names, numbers, URLs ...).
PROTECTED_LANGUAGES = frozenset({"zh", "ko", "ja"})
# Bumped whenever protection changes what a sentence translates to (cache keys carry it).
PROTECT_VERSION = 1
# CTranslate2's output cap per chunk; an output that reaches it was cut (``truncated``).
MAX_DECODING_LENGTH = 256


@dataclass(frozen=True)
class TranslationResult:
    status: str  # translated | not_needed | missing_model | skipped | failed
    title_en: str | None
    paragraphs_en: list[str] | None
    engine: str | None = None
    model: str | None = None
    seconds: float = 0.0
    detail: str | None = None
    sentences: int = 0
    # What was translated: the scope, how many leading paragraphs paragraphs_en covers, the
    # parts routed otherwise than through the document's package, and the quality signals.
    scope: str = "full"
    paragraphs_translated: int | None = None
    routing: tuple[dict[str, Any], ...] = ()
    quality: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "engine": self.engine,
            "model": self.model,
            "seconds": round(self.seconds, 4),
            "detail": self.detail,
        }
        if self.status == "translated":
            out["scope"] = self.scope
            if self.paragraphs_translated is not None:
                out["paragraphs_translated"] = self.paragraphs_translated
            out["routing"] = [dict(r) for r in self.routing]
            if self.quality is not None:
                out["quality"] = self.quality
        return out


@dataclass
class EngineStats:
    """Counters that make the engine's work observable (tests, benchmarks, metrics)."""

    sentences_requested: int = 0
    sentences_translated: int = 0  # sent to the model: not cached, not repeated
    cache_hits: int = 0
    model_calls: int = 0  # translate_batch calls
    sentences_masked: int = 0  # translated again with lost spans masked (_protect.py)


@dataclass
class _Loaded:
    info: PackageInfo
    translator: Any
    tokenizer: Any
    target_prefix: str


@dataclass
class Engine:
    """Translation engine bound to one packages directory; holds one copy of each model."""

    packages_dir: Path
    device: str = "auto"
    compute_type: str = "auto"
    beam_size: int = 2
    intra_threads: int = 0
    max_batch_tokens: int = 2048
    max_sentence_tokens: int = 200
    cache: TranslationCache | None = None
    protect: bool = True
    glossary: Glossary = field(default_factory=dict)
    lead_paragraphs: int = 3
    langdetect_seed: int = 0
    stats: EngineStats = field(default_factory=EngineStats)
    _loaded: dict[str, _Loaded] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, cache: TranslationCache | None = None) -> Engine:
        """The engine the settings describe; raises GlossaryError for a broken glossary."""
        return cls(
            packages_dir=settings.packages_dir,
            device=settings.translate_device,
            compute_type=settings.translate_compute_type,
            beam_size=settings.translate_beam_size,
            intra_threads=settings.translate_intra_threads,
            max_batch_tokens=settings.translate_max_batch_tokens,
            max_sentence_tokens=settings.translate_max_sentence_tokens,
            cache=cache,
            protect=settings.translate_protect_spans,
            glossary=load_glossary(settings.glossary_path),
            lead_paragraphs=settings.translate_lead_paragraphs,
            langdetect_seed=settings.langdetect_seed,
        )

    def resolved_device(self) -> str:
        if self.device != "auto":
            return self.device
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"

    def resolved_compute_type(self) -> str:
        if self.compute_type != "auto":
            return self.compute_type
        return "int8_float16" if self.resolved_device() == "cuda" else "int8"

    def package_for(self, lang: str) -> PackageInfo | None:
        return find_package(self.packages_dir, lang, "en")

    def _load(self, info: PackageInfo) -> _Loaded:
        with self._lock:
            loaded = self._loaded.get(info.package_id)
            if loaded is not None:
                return loaded
            import ctranslate2
            import sentencepiece

            translator = ctranslate2.Translator(
                str(info.model_dir),
                device=self.resolved_device(),
                compute_type=self.resolved_compute_type(),
                inter_threads=1,
                intra_threads=self.intra_threads,
            )
            tokenizer = sentencepiece.SentencePieceProcessor(
                model_file=str(info.sentencepiece_model)
            )
            loaded = _Loaded(info, translator, tokenizer, info.target_prefix)
            self._loaded[info.package_id] = loaded
            return loaded

    def cache_scope(self, info: PackageInfo) -> CacheScope:
        """What a cached translation depends on: the package, the decoding settings, span
        protection and the language's glossary."""
        from .tcache import CacheScope

        variant = (
            f"beam{self.beam_size}-{self.resolved_compute_type()}-cut{self.max_sentence_tokens}"
        )
        if self._protects(info.from_code):
            variant += f"-p{PROTECT_VERSION}"
        terms = self.glossary.get(info.from_code)
        if terms:
            variant += f"-g{digest(terms)}"
        return CacheScope(info.package_id, info.version, variant)

    def _protects(self, lang: str) -> bool:
        return (self.protect and lang in PROTECTED_LANGUAGES) or bool(self.glossary.get(lang))

    def translate_sentences(self, lang: str, sentences: Sequence[str]) -> list[str]:
        """Translate sentences in one batched pass; raises TranslationError when no package."""
        info = self.package_for(lang)
        if info is None:
            raise TranslationError(f"no {lang}->en package installed", reason="missing_model")
        return self._translate_unique(self._load(info), sentences, set())

    def _translate_unique(
        self, loaded: _Loaded, sentences: Sequence[str], cut: set[str]
    ) -> list[str]:
        """Translate each distinct sentence once: from the cache when it can, else the model.
        Sentences whose output reached the decoding cap are added to ``cut``."""
        self.stats.sentences_requested += len(sentences)
        unique = list(dict.fromkeys(sentences))
        done: dict[str, str] = {}
        scope = self.cache_scope(loaded.info) if self.cache is not None else None
        if self.cache is not None and scope is not None:
            done = self.cache.get_many(scope, unique)
            self.stats.cache_hits += len(done)
        misses = [s for s in unique if s not in done]
        if misses:
            fresh = self._translate_protected(loaded, misses, cut)
            self.stats.sentences_translated += len(misses)
            new = dict(zip(misses, fresh, strict=True))
            if self.cache is not None and scope is not None:
                self.cache.put_many(scope, new)
            done.update(new)
        return [done[s] for s in sentences]

    def _translate_protected(
        self, loaded: _Loaded, sentences: list[str], cut: set[str]
    ) -> list[str]:
        """Translate, then translate again with masks the sentences that lost a protected
        span (_protect.py); each sentence keeps the candidate that lost fewest, the plain
        one on a tie. Depends on each sentence alone, so batching changes nothing."""
        plain = self._translate_with(loaded, sentences, cut)
        lang = loaded.info.from_code
        if not self._protects(lang):
            return plain
        terms = self.glossary.get(lang)
        spans = {i: f for i, s in enumerate(sentences) if (f := self._spans(s, lang, terms))}
        best = list(plain)
        lost = {i: _protect.missing(spans[i], plain[i]) for i in spans}
        todo = [i for i in spans if lost[i]]
        self.stats.sentences_masked += len(todo)
        for style in (0, 1):
            if not todo:
                break
            masked = {i: _protect.mask(sentences[i], lost[i], style) for i in todo}
            texts = [masked[i].text for i in todo]
            outputs = self._translate_with(loaded, texts, set(), _MASKED_PAD_MULTIPLE)
            for i, output in zip(todo, outputs, strict=True):
                restored = _protect.unmask(output, masked[i])
                if restored is not None:
                    still = _protect.missing(spans[i], restored)
                    if len(still) < len(lost[i]):
                        best[i], lost[i] = restored, still
            todo = [i for i in todo if lost[i]]
        for i in spans:
            if lost[i]:
                best[i] = _protect.repair(best[i], spans[i])
        return best

    def _translate_with(
        self, loaded: _Loaded, sentences: Sequence[str], cut: set[str], pad: int = _PAD_MULTIPLE
    ) -> list[str]:
        if not sentences:
            return []
        chunks: list[list[str]] = []
        owner: list[int] = []
        for index, sentence in enumerate(sentences):
            tokens = loaded.tokenizer.encode(sentence, out_type=str) or [_SPACE_MARK]
            for chunk in cut_tokens(tokens, self.max_sentence_tokens):
                chunks.append(chunk)
                owner.append(index)
        hypotheses = self._run_padded(loaded, chunks, pad)
        pieces: list[list[str]] = [[] for _ in sentences]
        for index, hypothesis in zip(owner, hypotheses, strict=True):
            if len(hypothesis) >= MAX_DECODING_LENGTH:
                cut.add(sentences[index])
            text = loaded.tokenizer.decode(hypothesis)
            text = text.replace(_SPACE_MARK, " ").strip()
            if loaded.target_prefix and text.startswith(loaded.target_prefix):
                text = text[len(loaded.target_prefix) :].strip()
            pieces[index].append(text)
        return [" ".join(p for p in parts if p) for parts in pieces]

    def _run_padded(
        self, loaded: _Loaded, chunks: list[list[str]], pad: int = _PAD_MULTIPLE
    ) -> list[list[str]]:
        """Translate token lists in length groups padded to a fixed size (batch invariance)."""
        groups: dict[int, list[int]] = {}
        for index, chunk in enumerate(chunks):
            padded = -(-len(chunk) // pad) * pad
            groups.setdefault(padded, []).append(index)
        out: list[list[str]] = [[] for _ in chunks]
        for padded, members in sorted(groups.items()):
            per_batch = max(1, self.max_batch_tokens // padded - 1)
            for start in range(0, len(members), per_batch):
                part = members[start : start + per_batch]
                batch = [chunks[i] for i in part]
                if max(len(c) for c in batch) < padded:
                    batch.append([_SPACE_MARK] * padded)  # the throw-away row that sets padding
                for index, hypothesis in zip(part, self._decode(loaded, batch), strict=False):
                    out[index] = hypothesis
        return out

    def _decode(self, loaded: _Loaded, batch: list[list[str]]) -> list[list[str]]:
        prefix = [[loaded.target_prefix]] * len(batch) if loaded.target_prefix else None
        self.stats.model_calls += 1
        try:
            results = loaded.translator.translate_batch(
                batch,
                target_prefix=prefix,
                beam_size=self.beam_size,
                max_batch_size=len(batch),
                batch_type="examples",
                replace_unknowns=True,
                length_penalty=0.2,
                max_decoding_length=MAX_DECODING_LENGTH,
            )
        except (RuntimeError, ValueError) as exc:
            raise TranslationError(f"CTranslate2 failed: {exc}") from exc
        return [list(result.hypotheses[0]) for result in results]

    def translate_document(
        self, lang: str, title: str | None, paragraphs: Sequence[str], scope: str = "full"
    ) -> TranslationResult:
        """Translate a title and paragraphs together; a missing package is a status, not a crash.

        An engine failure raises TranslationError (the caller records it as ``failed``).
        """
        info = self._resolve(lang)
        if isinstance(info, TranslationResult):
            return TranslationResult(info.status, title, list(paragraphs)) if lang == "en" else info
        return self._translate_docs(info, [(title, paragraphs)], [scope])[0]

    def translate_documents(
        self, lang: str, docs: Sequence[DocumentText], scopes: Sequence[str] | None = None
    ) -> list[TranslationResult]:
        """Translate many documents of one language in one batched pass, one result each.

        Each result is identical to what :meth:`translate_document` gives for that document
        alone. If the batch fails, documents are retried one by one so that one bad document
        becomes one ``failed`` result instead of failing its neighbours. ``scopes`` gives each
        document's scope (full, lead, title); all full when None.
        """
        if not docs:
            return []
        scopes = list(scopes) if scopes is not None else ["full"] * len(docs)
        info = self._resolve(lang)
        if isinstance(info, TranslationResult):
            if lang == "en":
                return [TranslationResult(info.status, t, list(p)) for t, p in docs]
            return [info for _ in docs]
        try:
            return self._translate_docs(info, docs, scopes)
        except TranslationError as exc:
            if len(docs) == 1:
                return [TranslationResult("failed", None, None, detail=exc.message)]
            log.warning("batch of %d documents failed (%s); retrying one by one", len(docs), exc)
            return [
                self.translate_documents(lang, [doc], [scope])[0]
                for doc, scope in zip(docs, scopes, strict=True)
            ]

    def _resolve(self, lang: str) -> PackageInfo | TranslationResult:
        """The package for ``lang``, or the result that needs none (English, no package)."""
        if lang == "en":
            return TranslationResult("not_needed", None, None)
        info = self.package_for(lang)
        if info is None:
            return TranslationResult(
                "missing_model",
                None,
                None,
                detail=f"no {lang}->en translation package is installed in {self.packages_dir}",
            )
        return info

    def _translate_docs(
        self, info: PackageInfo, docs: Sequence[DocumentText], scopes: Sequence[str]
    ) -> list[TranslationResult]:
        started = time.perf_counter()
        lang = info.from_code
        packages: dict[str, PackageInfo] = {lang: info}

        def has_package(other: str) -> bool:
            found = packages.get(other) or self.package_for(other)
            if found is not None:
                packages[other] = found
            return found is not None

        plans = [
            _route.plan(
                lang,
                title,
                paragraphs,
                scope=scope,
                lead=self.lead_paragraphs,
                seed=self.langdetect_seed,
                has_package=has_package,
            )  # fmt: skip
            for (title, paragraphs), scope in zip(docs, scopes, strict=True)
        ]
        # Every sentence of every document, per source language, to the model at once.
        wanted: dict[str, list[str]] = {}
        sentences: dict[tuple[int, int], list[str]] = {}
        for d, parts in enumerate(plans):
            for p, part in enumerate(parts):
                if part.action == _route.TRANSLATE:
                    split = split_sentences(part.text, part.language)
                    sentences[d, p] = split
                    wanted.setdefault(part.language, []).extend(split)
        out: dict[str, dict[str, str]] = {}
        cut: set[str] = set()
        for language, flat in wanted.items():
            loaded = self._load(packages[language])
            out[language] = dict(zip(flat, self._translate_unique(loaded, flat, cut), strict=True))
        elapsed = time.perf_counter() - started
        total_chars = max(1, sum(len(s) for flat in wanted.values() for s in flat))
        results: list[TranslationResult] = []
        for d, ((title, paragraphs), scope, parts) in enumerate(
            zip(docs, scopes, plans, strict=True)
        ):
            quality = Quality()
            texts: dict[int | None, str] = {}
            chars = count = 0
            for p, part in enumerate(parts):
                if part.action != _route.TRANSLATE:
                    texts[part.index] = part.text
                    if part.action == _route.UNSUPPORTED:
                        quality.kept_untranslated(part.text)
                    else:
                        quality.add(part.text, (), 0, 0)
                    continue
                translated = []
                terms = self.glossary.get(part.language)
                for sentence in sentences[d, p]:
                    english = out[part.language][sentence]
                    translated.append(english)
                    spans = self._spans(sentence, part.language, terms)
                    kept = len(spans) - len(_protect.missing(spans, english))
                    flags = sentence_flags(sentence, english, part.language,
                                           hit_limit=sentence in cut)  # fmt: skip
                    quality.add(sentence, flags, len(spans), kept)
                    chars += len(sentence)
                    count += 1
                texts[part.index] = " ".join(translated)
            covered = _route.in_scope(len(paragraphs), scope, self.lead_paragraphs)
            routing = tuple(r for part in parts if (r := part.record(lang)) is not None)
            results.append(
                TranslationResult(
                    status="translated",
                    title_en=texts.get(None) if title else None,
                    paragraphs_en=[texts[i] for i in range(covered)],
                    engine=ENGINE_NAME,
                    model=f"{info.package_id}@{info.version}",
                    # The batch's time, shared out by each document's share of the text.
                    seconds=elapsed * chars / total_chars,
                    sentences=count,
                    scope=scope,
                    paragraphs_translated=covered,
                    routing=routing,
                    quality=quality.as_dict(),
                )
            )
        return results

    def _spans(self, sentence: str, lang: str, terms: Any) -> list[_protect.Span]:
        if not self._protects(lang):
            return []
        found = _protect.find_spans(sentence, terms)
        if lang in PROTECTED_LANGUAGES and self.protect:
            return found
        return [s for s in found if s.kind == "glossary"]
