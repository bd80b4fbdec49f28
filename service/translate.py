"""Offline translation to English over installed argos packages.

We load each package's CTranslate2 model and SentencePiece model directly (once per
process, lazily) instead of calling ``argostranslate.translate``: that path imports stanza
and torch, its bundled splitter tries to download at run time, and it translates one
sentence at a time. Here every sentence of a document, title included, goes to the model
in one batched call, and the paragraph structure is put back exactly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import TranslationError
from .models import PackageInfo, find_package
from .segment import split_sentences

ENGINE_NAME = "ctranslate2"
_SPACE_MARK = "\u2581"


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

    def translate_sentences(self, lang: str, sentences: Sequence[str]) -> list[str]:
        """Translate sentences in one batched call; raises TranslationError when no package."""
        info = self.package_for(lang)
        if info is None:
            raise TranslationError(
                f"no {lang}->en package installed", reason="missing_model"
            )
        return self._translate_with(self._load(info), sentences)

    def _translate_with(self, loaded: _Loaded, sentences: Sequence[str]) -> list[str]:
        if not sentences:
            return []
        # Cut over-long sentences into token chunks the model can take; remember the owner.
        chunks: list[list[str]] = []
        owner: list[int] = []
        for index, sentence in enumerate(sentences):
            tokens = loaded.tokenizer.encode(sentence, out_type=str)
            if not tokens:
                tokens = [_SPACE_MARK]
            step = max(1, self.max_sentence_tokens)
            for start in range(0, len(tokens), step):
                chunks.append(tokens[start : start + step])
                owner.append(index)
        prefix = [[loaded.target_prefix]] * len(chunks) if loaded.target_prefix else None
        try:
            results = loaded.translator.translate_batch(
                chunks,
                target_prefix=prefix,
                beam_size=self.beam_size,
                max_batch_size=self.max_batch_tokens,
                batch_type="tokens",
                replace_unknowns=True,
                length_penalty=0.2,
            )
        except (RuntimeError, ValueError) as exc:
            raise TranslationError(f"CTranslate2 failed: {exc}") from exc
        pieces: list[list[str]] = [[] for _ in sentences]
        for index, result in zip(owner, results, strict=True):
            text = loaded.tokenizer.decode(result.hypotheses[0])
            text = text.replace(_SPACE_MARK, " ").strip()
            if loaded.target_prefix and text.startswith(loaded.target_prefix):
                text = text[len(loaded.target_prefix) :].strip()
            pieces[index].append(text)
        return [" ".join(p for p in parts if p) for parts in pieces]

    def translate_document(
        self, lang: str, title: str | None, paragraphs: Sequence[str]
    ) -> TranslationResult:
        """Translate a title and paragraphs together; a missing package is a status, not a crash."""
        if lang == "en":
            return TranslationResult("not_needed", title, list(paragraphs))
        info = self.package_for(lang)
        if info is None:
            return TranslationResult(
                "missing_model",
                None,
                None,
                detail=f"no {lang}->en translation package is installed in {self.packages_dir}",
            )
        started = time.perf_counter()
        units: list[list[str]] = [split_sentences(title, lang) if title else []]
        units += [split_sentences(p, lang) for p in paragraphs]
        flat = [s for unit in units for s in unit]
        translated = self._translate_with(self._load(info), flat)
        out: list[str] = []
        cursor = 0
        for unit in units:
            out.append(" ".join(translated[cursor : cursor + len(unit)]))
            cursor += len(unit)
        return TranslationResult(
            status="translated",
            title_en=out[0] if title else None,
            paragraphs_en=out[1:],
            engine=ENGINE_NAME,
            model=f"{info.package_id}@{info.version}",
            seconds=time.perf_counter() - started,
            sentences=len(flat),
        )
