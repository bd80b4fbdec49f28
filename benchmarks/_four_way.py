"""The pieces of ``benchmarks/translate.py``'s one-run comparison (issue #16).

- the ceiling: CTranslate2 on the same package with our decoding settings, every sentence
  in one ``translate_batch`` call sorted and batched by CTranslate2 itself, no protection,
  no routing, no cache;
- the service path: ``Engine.translate_documents`` as the translate worker calls it, with a
  cold Redis translation cache, paragraph routing, protected spans and quality signals;
- routing: English paragraphs inside zh documents, byte for byte;
- the cache on syndicated copies: the same wire story on several sites.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.models import find_package
from service.settings import Settings
from service.translate import Engine

Doc = tuple[str | None, list[str]]


def ceiling(packages: Path, settings: Settings, src: list[str]) -> tuple[list[str], float, str]:
    """Plain CTranslate2 batched translation: outputs, seconds, a description."""
    import ctranslate2
    import sentencepiece

    info = find_package(packages, "zh")
    assert info is not None
    probe = Engine(packages, device=settings.translate_device,
                   compute_type=settings.translate_compute_type)  # fmt: skip
    device, compute_type = probe.resolved_device(), probe.resolved_compute_type()
    translator = ctranslate2.Translator(
        str(info.model_dir), device=device, compute_type=compute_type, inter_threads=1,
        intra_threads=settings.translate_intra_threads,
    )  # fmt: skip
    tokenizer = sentencepiece.SentencePieceProcessor(model_file=str(info.sentencepiece_model))
    options: dict[str, Any] = {
        "beam_size": settings.translate_beam_size,
        "max_batch_size": settings.translate_max_batch_tokens,
        "batch_type": "tokens",
        "replace_unknowns": True,
        "length_penalty": 0.2,
    }

    def run(lines: list[str]) -> list[str]:
        batch = [tokenizer.encode(line, out_type=str) for line in lines]
        results = translator.translate_batch(batch, **options)
        return [tokenizer.decode(r.hypotheses[0]).replace("\u2581", " ").strip() for r in results]

    run(["预热。"])
    started = time.perf_counter()
    out = run(src)
    seconds = time.perf_counter() - started
    described = (
        f"{device} {compute_type}, beam {options['beam_size']}, length_penalty 0.2, "
        f"max_batch_size {options['max_batch_size']} tokens, intra_threads "
        f"{settings.translate_intra_threads or 'default'}"
    )
    return out, seconds, described


def service_path(engine: Engine, docs: list[Doc]) -> tuple[list[str], float, dict[str, Any]]:
    """translate_documents over all documents at once, as one worker batch would."""
    engine.translate_sentences("zh", ["预热。"])
    before = (engine.stats.sentences_masked, engine.stats.model_calls)
    started = time.perf_counter()
    results = engine.translate_documents("zh", docs)
    seconds = time.perf_counter() - started
    out = [p for r in results for p in (r.paragraphs_en or [])]
    flags: dict[str, int] = {}
    for r in results:
        for flag in (r.quality or {}).get("flags", []):
            flags[flag] = flags.get(flag, 0) + 1
    facts = {
        "sentences_masked": engine.stats.sentences_masked - before[0],
        "model_calls": engine.stats.model_calls - before[1],
        "documents_flagged": flags,
        "scores": [(r.quality or {}).get("score") for r in results],
    }
    return out, seconds, facts


def routing_check(engine: Engine, src: list[str], ref: list[str]) -> dict[str, int]:
    """zh documents of 5 Chinese sentences and 3 English paragraphs (references of other
    lines, each an English sentence a Chinese article might quote) plus an English title:
    how many English parts come out byte-identical, how many Chinese ones are translated."""
    docs: list[Doc] = []
    english: list[list[int]] = []
    for start in range(0, len(src) - 8, 8):
        zh = src[start : start + 5]
        en = ref[start + 5 : start + 8]
        paragraphs = [zh[0], en[0], zh[1], zh[2], en[1], zh[3], en[2], zh[4]]
        docs.append((ref[start + 4], paragraphs))
        english.append([1, 4, 6])
    results = engine.translate_documents("zh", docs)
    same = total = zh_translated = zh_total = 0
    for (title, paragraphs), result, en_at in zip(docs, results, english, strict=True):
        out = result.paragraphs_en or []
        total += len(en_at) + 1
        same += (result.title_en == title) + sum(out[i] == paragraphs[i] for i in en_at)
        for i, text in enumerate(paragraphs):
            if i not in en_at:
                zh_total += 1
                zh_translated += out[i] != text
    return {"english": total, "identical": same, "chinese": zh_total, "translated": zh_translated}


SITES: list[Callable[[Doc], Doc]] = [
    lambda d: (f"{d[0] or ''}_新浪新闻", ["来源：新华社", *d[1], "责任编辑：王五"]),
    lambda d: (f"{d[0] or ''}（组图）", [*d[1], "（完）"]),
    lambda d: (d[0], [*d[1][:-1], d[1][-1].replace("，", "、", 1), "本文来源：人民网"]),
]


def syndication(engine: Engine, docs: list[Doc]) -> dict[str, float]:
    """The same wire story on three more sites (their own title decoration, source and
    editor lines, one lightly edited sentence), after the original: the cache's hit rate
    on the copies."""
    engine.translate_documents("zh", docs)
    hits, missed = engine.stats.cache_hits, engine.stats.sentences_translated
    for site in SITES:
        engine.translate_documents("zh", [site(d) for d in docs])
    hits, missed = engine.stats.cache_hits - hits, engine.stats.sentences_translated - missed
    # Per distinct sentence of each call (a line repeated within a call is looked up once).
    return {"copies": len(SITES) * len(docs), "hits": hits, "misses": missed,
            "hit_rate": hits / (hits + missed) if hits + missed else 0.0}  # fmt: skip
