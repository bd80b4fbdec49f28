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

from .errors import TranslationError
from .models import PackageInfo, find_package
from .segment import split_sentences

if TYPE_CHECKING:
    from .tcache import CacheScope, TranslationCache

log = logging.getLogger("newsingest.translate")

ENGINE_NAME = "ctranslate2"
_SPACE_MARK = "\u2581"
# Sentences are padded to a multiple of this many tokens (see the module docstring); 16
# costs under 5% in throughput against CTranslate2's own length-sorted batching.
_PAD_MULTIPLE = 16
# An over-long sentence is preferably cut after one of these pieces (clause punctuation)
# when one lies in the second half of the allowed window.
_CUT_AFTER = ("，", "、", "；", ",", ";", "：", ":")

# A document as translate_documents takes it: its title (or None) and its paragraphs.
DocumentText = tuple[str | None, Sequence[str]]


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "engine": self.engine,
            "model": self.model,
            "seconds": round(self.seconds, 4),
            "detail": self.detail,
        }


@dataclass
class EngineStats:
    """Counters that make the engine's work observable (tests, benchmarks, metrics)."""

    sentences_requested: int = 0
    sentences_translated: int = 0  # sent to the model: not cached, not repeated
    cache_hits: int = 0
    model_calls: int = 0  # translate_batch calls


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
    stats: EngineStats = field(default_factory=EngineStats)
    _loaded: dict[str, _Loaded] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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
        """What a cached translation depends on: the package and the decoding settings."""
        from .tcache import CacheScope

        variant = (
            f"beam{self.beam_size}-{self.resolved_compute_type()}-cut{self.max_sentence_tokens}"
        )
        return CacheScope(info.package_id, info.version, variant)

    def translate_sentences(self, lang: str, sentences: Sequence[str]) -> list[str]:
        """Translate sentences in one batched pass; raises TranslationError when no package."""
        info = self.package_for(lang)
        if info is None:
            raise TranslationError(f"no {lang}->en package installed", reason="missing_model")
        return self._translate_unique(self._load(info), sentences)

    def _translate_unique(self, loaded: _Loaded, sentences: Sequence[str]) -> list[str]:
        """Translate each distinct sentence once: from the cache when it can, else the model."""
        self.stats.sentences_requested += len(sentences)
        unique = list(dict.fromkeys(sentences))
        done: dict[str, str] = {}
        scope = self.cache_scope(loaded.info) if self.cache is not None else None
        if self.cache is not None and scope is not None:
            done = self.cache.get_many(scope, unique)
            self.stats.cache_hits += len(done)
        misses = [s for s in unique if s not in done]
        if misses:
            fresh = self._translate_with(loaded, misses)
            self.stats.sentences_translated += len(misses)
            new = dict(zip(misses, fresh, strict=True))
            if self.cache is not None and scope is not None:
                self.cache.put_many(scope, new)
            done.update(new)
        return [done[s] for s in sentences]

    def _translate_with(self, loaded: _Loaded, sentences: Sequence[str]) -> list[str]:
        if not sentences:
            return []
        chunks: list[list[str]] = []
        owner: list[int] = []
        for index, sentence in enumerate(sentences):
            tokens = loaded.tokenizer.encode(sentence, out_type=str) or [_SPACE_MARK]
            for chunk in cut_tokens(tokens, self.max_sentence_tokens):
                chunks.append(chunk)
                owner.append(index)
        hypotheses = self._run_padded(loaded, chunks)
        pieces: list[list[str]] = [[] for _ in sentences]
        for index, hypothesis in zip(owner, hypotheses, strict=True):
            text = loaded.tokenizer.decode(hypothesis)
            text = text.replace(_SPACE_MARK, " ").strip()
            if loaded.target_prefix and text.startswith(loaded.target_prefix):
                text = text[len(loaded.target_prefix) :].strip()
            pieces[index].append(text)
        return [" ".join(p for p in parts if p) for parts in pieces]

    def _run_padded(self, loaded: _Loaded, chunks: list[list[str]]) -> list[list[str]]:
        """Translate token lists in length groups padded to a fixed size (batch invariance)."""
        groups: dict[int, list[int]] = {}
        for index, chunk in enumerate(chunks):
            padded = -(-len(chunk) // _PAD_MULTIPLE) * _PAD_MULTIPLE
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
            )
        except (RuntimeError, ValueError) as exc:
            raise TranslationError(f"CTranslate2 failed: {exc}") from exc
        return [list(result.hypotheses[0]) for result in results]

    def translate_document(
        self, lang: str, title: str | None, paragraphs: Sequence[str]
    ) -> TranslationResult:
        """Translate a title and paragraphs together; a missing package is a status, not a crash.

        An engine failure raises TranslationError (the caller records it as ``failed``).
        """
        info = self._resolve(lang)
        if isinstance(info, TranslationResult):
            return TranslationResult(info.status, title, list(paragraphs)) if lang == "en" else info
        return self._translate_docs(info, [(title, paragraphs)])[0]

    def translate_documents(
        self, lang: str, docs: Sequence[DocumentText]
    ) -> list[TranslationResult]:
        """Translate many documents of one language in one batched pass, one result each.

        Each result is identical to what :meth:`translate_document` gives for that document
        alone. If the batch fails, documents are retried one by one so that one bad document
        becomes one ``failed`` result instead of failing its neighbours.
        """
        if not docs:
            return []
        info = self._resolve(lang)
        if isinstance(info, TranslationResult):
            if lang == "en":
                return [TranslationResult(info.status, t, list(p)) for t, p in docs]
            return [info for _ in docs]
        try:
            return self._translate_docs(info, docs)
        except TranslationError as exc:
            if len(docs) == 1:
                return [TranslationResult("failed", None, None, detail=exc.message)]
            log.warning("batch of %d documents failed (%s); retrying one by one", len(docs), exc)
            return [self.translate_documents(lang, [doc])[0] for doc in docs]

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
        self, info: PackageInfo, docs: Sequence[DocumentText]
    ) -> list[TranslationResult]:
        started = time.perf_counter()
        lang = info.from_code
        # units[d][0] is document d's title, units[d][1:] its paragraphs, each as sentences.
        units = [
            [split_sentences(title, lang) if title else []]
            + [split_sentences(p, lang) for p in paragraphs]
            for title, paragraphs in docs
        ]
        flat = [s for doc in units for unit in doc for s in unit]
        translated = iter(self._translate_unique(self._load(info), flat))
        elapsed = time.perf_counter() - started
        total_chars = max(1, sum(len(s) for s in flat))
        results: list[TranslationResult] = []
        for (title, _), doc_units in zip(docs, units, strict=True):
            out = [" ".join(next(translated) for _ in unit) for unit in doc_units]
            sentences = sum(len(unit) for unit in doc_units)
            chars = sum(len(s) for unit in doc_units for s in unit)
            results.append(
                TranslationResult(
                    status="translated",
                    title_en=out[0] if title else None,
                    paragraphs_en=out[1:],
                    engine=ENGINE_NAME,
                    model=f"{info.package_id}@{info.version}",
                    # The batch's time, shared out by each document's share of the text.
                    seconds=elapsed * chars / total_chars,
                    sentences=sentences,
                )
            )
        return results


def cut_tokens(tokens: list[str], limit: int) -> list[list[str]]:
    """Cut a token list into chunks of at most ``limit`` tokens for a model with a length cap.

    A cut goes after clause punctuation when there is some in the second half of the window,
    so that each chunk is a clause the model can translate on its own; else it is hard.
    """
    limit = max(1, limit)
    chunks: list[list[str]] = []
    while len(tokens) > limit:
        cut = limit
        for pos in range(limit, limit // 2, -1):
            if tokens[pos - 1].endswith(_CUT_AFTER):
                cut = pos
                break
        chunks.append(tokens[:cut])
        tokens = tokens[cut:]
    chunks.append(tokens)
    return chunks
