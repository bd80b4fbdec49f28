"""Measure extraction, language ID and translation against a corpus laid out like shared/corpus.

A development tool, not part of the shipped service (it is not in the package)::

    python -m devtools.evaluate {extraction,langid,translation} CORPUS_DIR [--limit N] [--json]

The numbers decide settings (docs/choices.md), so the scorer is deliberately simple and
independent of the code it measures: bag-of-tokens P/R/F1 with one token per CJK character
(Chinese and Japanese have no spaces between words; Korean spaces eojeol, a word plus its
particles, so characters are the stable unit there too) and one token per word elsewhere.
Every extraction run also runs plain ``trafilatura.extract`` on the raw bytes, so each report
shows what our decoding, extraction and cleanup add over the library default.

``run(kind, corpus_dir, settings)`` prints a human report to ``out`` and returns the numbers.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from service.errors import IngestError
from service.fetch import Source, read_file
from service.language import detect, detect_document
from service.logs import configure
from service.pipeline import Pipeline, make_engine
from service.settings import Settings, load_settings

from ._metrics import (
    BASELINE,
    PRF,
    Side,
    SnippetResult,
    date_ok,
    fmt,
    interleave,
    mojibake_signals,
    prf,
    progress_bar,
    read_jsonl,
    score_side,
    side_dict,
    side_summary,
    snippet_check,
    subdirs_with,
    title_ok,
    tokens,
)
from ._report import print_extraction, print_langid

__all__ = [
    "KINDS",
    "PRF",
    "SnippetResult",
    "main",
    "mojibake_signals",
    "report",
    "prf",
    "run",
    "snippet_check",
    "tokens",
]

KINDS = ("extraction", "plaintext", "metadata", "langid", "translation")

_LINGUA_LANGUAGES = (
    *("ENGLISH", "CHINESE", "KOREAN", "JAPANESE", "GERMAN", "FRENCH", "SPANISH", "PORTUGUESE"),
    *("ITALIAN", "DUTCH", "RUSSIAN", "VIETNAMESE", "INDONESIAN", "TURKISH", "POLISH"),
    *("SWEDISH", "ARABIC", "HINDI", "THAI"),
)


# --------------------------------------------------------------------------- extraction


def _ours(pipeline: Pipeline, path: Path, seed: int) -> tuple[Side, dict[str, Any]]:
    fetched = read_file(Source("file", str(path)), pipeline.settings.file_max_bytes)
    started = time.perf_counter()
    try:
        article = pipeline.ingest_fetched(fetched)
    except IngestError as exc:
        return Side("", "und", time.perf_counter() - started, error=exc.reason), {}
    elapsed = time.perf_counter() - started
    ex = article.extracted
    meta = {"title": ex.title, "date": ex.date, "authors": ex.authors}
    return Side("\n".join(ex.paragraphs), article.language, elapsed), meta


def _baseline(path: Path, seed: int) -> Side:
    import trafilatura

    body = path.read_bytes()
    started = time.perf_counter()
    try:
        text = trafilatura.extract(body) or ""
    except (ValueError, TypeError, RecursionError) as exc:  # pragma: no cover - library failure
        return Side("", "und", time.perf_counter() - started, error=type(exc).__name__)
    elapsed = time.perf_counter() - started
    language = detect_document(text.split("\n"), seed=seed).language if text.strip() else "und"
    return Side(text, language, elapsed, error=None if text.strip() else "no_content")


def _extraction(
    corpus_dir: Path, settings: Settings, limit: int | None, out: TextIO, progress: bool
) -> dict[str, Any]:
    root = corpus_dir / "extraction"
    per_set = [read_jsonl(d / "gold.jsonl") for d in subdirs_with(root, "gold.jsonl")]
    records = interleave(per_set)
    if limit is not None:
        records = records[:limit]
    pipeline = Pipeline(settings)
    seed = settings.langdetect_seed
    rows: list[tuple[dict[str, Any], Side, Side, dict[str, Any]]] = []
    for record in progress_bar(records, "extraction", progress):
        path = root / record["html"]
        ours, meta = _ours(pipeline, path, seed)
        base = _baseline(path, seed)
        score_side(ours, record)
        score_side(base, record)
        rows.append((record, ours, base, meta))

    groups: dict[str, list[int]] = defaultdict(list)
    for i, (record, *_rest) in enumerate(rows):
        groups["all"].append(i)
        groups[f"lang={record.get('lang')}"].append(i)
        groups[f"type={record.get('gold_type')}"].append(i)
        groups[f"set={record.get('set')}"].append(i)
        if record.get("gold_type") == "full_body":
            groups[f"full_body lang={record.get('lang')}"].append(i)
    summary: dict[str, Any] = {}
    for name in sorted(groups, key=_group_order):
        idx = groups[name]
        summary[name] = {
            "ours": side_summary([(rows[i][0], rows[i][1]) for i in idx]),
            BASELINE: side_summary([(rows[i][0], rows[i][2]) for i in idx]),
        }
    titles = [title_ok(m.get("title"), r.get("title")) for r, _o, _b, m in rows]
    dates = [date_ok(m.get("date"), r.get("date")) for r, _o, _b, m in rows]
    metadata = {
        "title_ok": sum(1 for t in titles if t),
        "title_labelled": sum(1 for t in titles if t is not None),
        "date_ok": sum(1 for d in dates if d),
        "date_labelled": sum(1 for d in dates if d is not None),
    }
    ours_s = summary.get("all", {}).get("ours", {}).get("seconds", 0.0)
    base_s = summary.get("all", {}).get(BASELINE, {}).get("seconds", 0.0)
    speed = {
        "pages": len(rows),
        "ours_pages_per_s": len(rows) / ours_s if ours_s else None,
        "baseline_pages_per_s": len(rows) / base_s if base_s else None,
    }
    pages = [
        {
            "id": r["id"],
            "set": r.get("set"),
            "lang": r.get("lang"),
            "gold_type": r.get("gold_type"),
            "ours": side_dict(o),
            BASELINE: side_dict(b),
        }
        for r, o, b, _m in rows
    ]
    result = {
        "kind": "extraction",
        "corpus": str(root),
        "groups": summary,
        "metadata": metadata,
        "speed": speed,
        "pages": pages,
    }
    print_extraction(result, out)
    return result


def _group_order(name: str) -> tuple[int, str]:
    order = ("all", "full_body", "lang=", "type=", "set=")
    return next((i for i, p in enumerate(order) if name.startswith(p)), len(order)), name


# --------------------------------------------------------------------------- langid


def _lingua_detector() -> Callable[[str], str] | None:
    """lingua over a fixed set of 19 languages, or None when lingua is not installed.

    All 75 languages would load every Latin-script model on the first English word (seconds,
    ~1 GB); these 19 cover the corpus' languages and the usual confusions.
    """
    try:
        from lingua import Language, LanguageDetectorBuilder
    except ImportError:
        return None
    languages = [getattr(Language, name) for name in _LINGUA_LANGUAGES]
    detector = LanguageDetectorBuilder.from_languages(*languages).build()

    def detect_lingua(text: str) -> str:
        found = detector.detect_language_of(text)
        return "und" if found is None else str(found.iso_code_639_1.name).lower()

    return detect_lingua


def _langid(
    corpus_dir: Path, settings: Settings, limit: int | None, out: TextIO, progress: bool
) -> dict[str, Any]:
    root = corpus_dir / "langid"
    rows: list[dict[str, Any]] = []
    for folder in subdirs_with(root, "data.jsonl"):
        data = read_jsonl(folder / "data.jsonl")
        rows.extend({**r, "set": folder.name} for r in (data[:limit] if limit else data))
    seed = settings.langdetect_seed
    lingua = _lingua_detector()
    seconds = {"ours": 0.0, "lingua": 0.0}
    results: list[tuple[dict[str, Any], str, str | None]] = []
    for row in progress_bar(rows, "langid", progress):
        started = time.perf_counter()
        ours = detect(row["text"], seed=seed).language
        seconds["ours"] += time.perf_counter() - started
        other = None
        if lingua is not None:
            started = time.perf_counter()
            other = lingua(row["text"])
            seconds["lingua"] += time.perf_counter() - started
        results.append((row, ours, other))

    docs = _document_langid(corpus_dir, seed, lingua, limit, progress)
    table: dict[str, dict[str, Any]] = {}
    keys: dict[str, list[int]] = defaultdict(list)
    for i, (row, _o, _l) in enumerate(results):
        keys["all"].append(i)
        keys[f"kind={row['kind']}"].append(i)
        keys[f"lang={row['lang']}"].append(i)
        keys[f"{row['set']} {row['lang']} {row['kind']}"].append(i)
    for name in sorted(keys, key=lambda n: (not n.startswith("all"), "=" not in n, n)):
        idx = keys[name]
        table[name] = {
            "n": len(idx),
            "ours": sum(1 for i in idx if results[i][1] == results[i][0]["lang"]) / len(idx),
            "lingua": (
                sum(1 for i in idx if results[i][2] == results[i][0]["lang"]) / len(idx)
                if lingua is not None
                else None
            ),
        }
    confusions = Counter(
        f"{row['lang']}->{ours}" for row, ours, _ in results if ours != row["lang"]
    )
    result = {
        "kind": "langid",
        "corpus": str(root),
        "lingua": lingua is not None,
        "groups": table,
        "documents": docs,
        "confusions": dict(confusions.most_common(10)),
        "texts_per_s": {
            k: (len(results) / v if v else None)
            for k, v in seconds.items()
            if k == "ours" or lingua is not None
        },
    }
    print_langid(result, out)
    return result


def _document_langid(
    corpus_dir: Path,
    seed: int,
    lingua: Callable[[str], str] | None,
    limit: int | None,
    progress: bool,
) -> dict[str, Any]:
    """Whole gold article bodies of the extraction set: the language our documents get."""
    root = corpus_dir / "extraction"
    if not root.is_dir():
        return {"n": 0, "ours": None, "lingua": None}
    records = interleave([read_jsonl(d / "gold.jsonl") for d in subdirs_with(root, "gold.jsonl")])
    bodies = [r for r in records if r.get("body") and r.get("lang")]
    if limit is not None:
        bodies = bodies[:limit]
    ours = other = 0
    wrong: list[str] = []
    for record in progress_bar(bodies, "langid documents", progress):
        got = detect_document(str(record["body"]).split("\n"), seed=seed).language
        ours += got == record["lang"]
        if got != record["lang"]:
            wrong.append(f"{record['id']}: {record['lang']}->{got}")
        if lingua is not None:
            other += lingua(str(record["body"])[:3000]) == record["lang"]
    n = len(bodies)
    return {
        "n": n,
        "ours": ours / n if n else None,
        "lingua": (other / n if n else None) if lingua is not None else None,
        "wrong": wrong,
    }


# --------------------------------------------------------------------------- translation

_TRANSLATE_CHUNK = 32


def _translation(
    corpus_dir: Path, settings: Settings, limit: int | None, out: TextIO, progress: bool
) -> dict[str, Any]:
    import sacrebleu

    root = corpus_dir / "translation"
    engine = make_engine(settings)
    sets: dict[str, Any] = {}
    p = out.write
    p(f"translation: {root} with packages from {settings.packages_dir}\n\n")
    p(f"{'set':<32} {'pair':<7} {'n':>5} {'chrF':>6} {'BLEU':>6} {'chars/s':>8}\n")
    for folder in subdirs_with(root, "pairs.jsonl"):
        pairs = read_jsonl(folder / "pairs.jsonl")
        if limit is not None:
            pairs = pairs[:limit]
        if not pairs:
            continue
        src_lang, tgt_lang = str(pairs[0]["src_lang"]), str(pairs[0]["tgt_lang"])
        direction = f"{src_lang}->{tgt_lang}"
        if tgt_lang != "en" or engine.package_for(src_lang) is None:
            note = f"no {direction} package installed"
            sets[folder.name] = {"pair": direction, "n": len(pairs), "skipped": note}
            p(f"{folder.name:<32} {direction:<7} {len(pairs):>5}  skipped: {note}\n")
            continue
        sources = [str(x["src"]) for x in pairs]
        refs = [str(x["ref"]) for x in pairs]
        chunks = [
            sources[i : i + _TRANSLATE_CHUNK] for i in range(0, len(sources), _TRANSLATE_CHUNK)
        ]
        hyps: list[str] = []
        started = time.perf_counter()
        for chunk in progress_bar(chunks, folder.name, progress):
            hyps.extend(engine.translate_sentences(src_lang, chunk))
        seconds = time.perf_counter() - started
        chrf = sacrebleu.corpus_chrf(hyps, [refs]).score
        bleu = sacrebleu.corpus_bleu(hyps, [refs]).score
        cps = sum(len(s) for s in sources) / seconds if seconds else None
        sets[folder.name] = {
            "pair": direction,
            "n": len(pairs),
            "chrf": chrf,
            "bleu": bleu,
            "seconds": seconds,
            "chars_per_s": cps,
            "device": engine.resolved_device(),
            "compute_type": engine.resolved_compute_type(),
        }
        p(
            f"{folder.name:<32} {direction:<7} {len(pairs):>5} {chrf:>6.1f} {bleu:>6.1f}"
            f" {fmt(cps, 0):>8}\n"
        )
    return {"kind": "translation", "corpus": str(root), "sets": sets}


# --------------------------------------------------------------------------- entry point


def _plaintext(
    root: Path, settings: Settings, limit: int | None, out: TextIO, progress: bool
) -> dict[str, Any]:
    from ._plaintext_eval import evaluate_plaintext

    return evaluate_plaintext(root, settings, limit, out, progress)


def _metadata(
    root: Path, settings: Settings, limit: int | None, out: TextIO, progress: bool
) -> dict[str, Any]:
    from ._metadata_eval import evaluate_metadata

    return evaluate_metadata(root, settings, limit, out, progress)


_RUNNERS: dict[str, Callable[[Path, Settings, int | None, TextIO, bool], dict[str, Any]]] = {
    "extraction": _extraction,
    "plaintext": _plaintext,
    "metadata": _metadata,
    "langid": _langid,
    "translation": _translation,
}


def run(
    kind: str,
    corpus_dir: Path,
    settings: Settings,
    *,
    limit: int | None = None,
    out: TextIO = sys.stdout,
    progress: bool = True,
) -> dict[str, Any]:
    """Evaluate one stage on ``corpus_dir`` (the folder holding extraction/, langid/,
    translation/); print the report to ``out`` and return the numbers (JSON-safe)."""
    runner = _RUNNERS.get(kind)
    if runner is None:
        raise ValueError(f"unknown evaluation {kind!r}: choose one of {', '.join(KINDS)}")
    if limit is not None and limit < 1:
        raise ValueError("limit must be a positive number of items")
    return runner(Path(corpus_dir), settings, limit, out, progress)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m devtools.evaluate KIND CORPUS_DIR``: the report on stdout; with ``--json``
    the numbers on stdout and the report on stderr. A bad corpus directory exits 2."""
    parser = argparse.ArgumentParser(
        prog="python -m devtools.evaluate",
        description="measure extraction, language ID or translation on a corpus",
    )
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("corpus_dir", help="a directory laid out like ../shared/corpus")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON on stdout")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"devtools.evaluate: {exc}", file=sys.stderr)
        return 2
    configure(settings.log_level)
    return report(
        args.kind,
        Path(args.corpus_dir),
        settings,
        limit=args.limit,
        as_json=args.json,
        prog="devtools.evaluate",
    )


def report(
    kind: str,
    corpus_dir: Path,
    settings: Settings,
    *,
    limit: int | None,
    as_json: bool,
    prog: str,
) -> int:
    """Run one evaluation for a command line: the report on stdout, or with ``as_json`` the
    numbers on stdout and the report on stderr; a bad corpus or kind is one line, exit 2."""
    out = sys.stderr if as_json else sys.stdout
    # The baseline runs trafilatura on raw bytes, as its users do; its warnings about those
    # pages ("wrong encoding detected", "discarding data") are not the report's.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    try:
        result = run(kind, corpus_dir, settings, limit=limit, out=out, progress=sys.stderr.isatty())
    except (ValueError, FileNotFoundError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
