"""Measure extraction, language ID and translation against a corpus laid out like shared/corpus.

The numbers decide settings (docs/choices.md), so the scorer is deliberately simple and
independent of the code it measures: bag-of-tokens P/R/F1 with one token per CJK character
(Chinese and Japanese have no spaces between words; Korean spaces eojeol, a word plus its
particles, so characters are the stable unit there too) and one token per word elsewhere.
Every extraction run also runs plain ``trafilatura.extract`` on the raw bytes, so each report
shows what our decoding, extraction and cleanup add over the library default.

``run(kind, corpus_dir, settings)`` prints a human report to ``out`` and returns the numbers.
"""

from __future__ import annotations

import json
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any, TextIO, TypeVar

from .errors import IngestError
from .fetch import Source, read_file
from .language import detect, detect_document
from .pipeline import Pipeline, make_engine
from .settings import Settings

__all__ = [
    "KINDS",
    "PRF",
    "SnippetResult",
    "mojibake_signals",
    "prf",
    "run",
    "snippet_check",
    "tokens",
]

KINDS = ("extraction", "langid", "translation")

# Hangul Jamo, CJK radicals/punctuation-free ideographs, kana, Hangul syllables, extensions.
_CJK = (
    "\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31a0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff"
    "\U00020000-\U0003134f"
)
_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile("[\u3040-\u30ff]")
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_SPACE = re.compile(r"\s+")
# UTF-8 read as Latin-1/cp1252 ("Ã©", "â€™"), Latin-1 letters in runs no language writes
# (GBK/Big5/EUC-KR bytes read as Latin-1: "ÖÐ¹ú"), and the GBK rendering of U+FFFD.
_UTF8_AS_LATIN1 = re.compile(
    "[\u00c2\u00c3][\u0080-\u00bf]|\u00e2\u20ac[\u0080-\u00bf\u2122\u0153\u201c\u201d\u02dc\u0161\u017e]"
)
_LATIN1_RUN = re.compile("[\u00c0-\u00ff\u00a1-\u00bf]{4,}")
_GBK_FFFD = "锟斤拷"
_CJK_LANGS = {"zh": "han", "ja": "han", "ko": "hangul"}
# Fewer CJK letters than this share of all letters on a zh/ja/ko page means the text is not
# what the label says (misdecoded, or the wrong block extracted). Low, because Chinese
# programming articles are mostly code.
_MIN_CJK_SHARE = 0.1
# Share of Han characters outside the common sets above which Han text is misdecoded bytes.
_MAX_RARE_HAN_SHARE = 0.3
_MIN_HAN_FOR_RARE = 20
_BASELINE = "trafilatura"
_LINGUA_LANGUAGES = (
    *("ENGLISH", "CHINESE", "KOREAN", "JAPANESE", "GERMAN", "FRENCH", "SPANISH", "PORTUGUESE"),
    *("ITALIAN", "DUTCH", "RUSSIAN", "VIETNAMESE", "INDONESIAN", "TURKISH", "POLISH"),
    *("SWEDISH", "ARABIC", "HINDI", "THAI"),
)

T = TypeVar("T")


# --------------------------------------------------------------------------- scoring


def _norm(text: str) -> str:
    """NFKC and case folding, so full-width digits and letter case do not count as errors."""
    return unicodedata.normalize("NFKC", text).casefold()


def tokens(text: str) -> list[str]:
    """One token per CJK character, one per run of other letters/digits; punctuation dropped."""
    return _TOKEN.findall(_norm(text))


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float


def prf(got: Sequence[str], want: Sequence[str]) -> PRF:
    """Bag-of-tokens precision, recall and F1 of ``got`` against ``want``.

    Empty output against a non-empty gold scores 0 everywhere (an empty page is a failure, not
    a perfectly precise one); both empty scores 1.
    """
    if not got and not want:
        return PRF(1.0, 1.0, 1.0)
    if not got or not want:
        return PRF(0.0, 0.0, 0.0)
    overlap = sum((Counter(got) & Counter(want)).values())
    precision, recall = overlap / len(got), overlap / len(want)
    f1 = 2 * precision * recall / (precision + recall) if overlap else 0.0
    return PRF(precision, recall, f1)


@dataclass(frozen=True)
class SnippetResult:
    found: int
    wanted: int
    leaked: int
    unwanted: int

    @property
    def passed(self) -> bool:
        return self.found == self.wanted and self.leaked == 0


def _contains(haystack: tuple[str, str], needle: str) -> bool:
    """Whitespace-insensitive substring test: extractors differ in line breaks, not text."""
    spaced, bare = haystack
    n = _SPACE.sub(" ", _norm(needle)).strip()
    return n in spaced or _SPACE.sub("", n) in bare


def _haystack(text: str) -> tuple[str, str]:
    spaced = _SPACE.sub(" ", _norm(text))
    return spaced, _SPACE.sub("", spaced)


def snippet_check(text: str, with_: Iterable[str], without: Iterable[str]) -> SnippetResult:
    """trafilatura's convention: every ``with`` string occurs, no ``without`` string does."""
    hay = _haystack(text)
    wanted = [s for s in with_ if s.strip()]
    unwanted = [s for s in without if s.strip()]
    return SnippetResult(
        found=sum(_contains(hay, s) for s in wanted),
        wanted=len(wanted),
        leaked=sum(_contains(hay, s) for s in unwanted),
        unwanted=len(unwanted),
    )


def prefix_check(text: str, prefix: str) -> bool:
    """goose3's convention: the output starts with the gold text (whitespace-insensitive)."""
    return _haystack(text)[1].startswith(_haystack(prefix)[1])


@cache
def _common_han() -> frozenset[str]:
    """GB2312 level 1 plus Big5 level 1: the Han characters ordinary text is made of."""
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            chars.update(bytes([lead, trail]).decode("gb2312", errors="ignore"))
    for lead in range(0xA4, 0xC7):
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            chars.update(bytes([lead, trail]).decode("big5", errors="ignore"))
    return frozenset(chars)


def mojibake_signals(text: str, lang: str | None = None) -> list[str]:
    """Reasons to believe ``text`` was decoded with the wrong codec; empty when it looks fine.

    - ``replacement``: U+FFFD, or its GBK rendering 锟斤拷;
    - ``utf8_as_latin1``: "Ã©" / "â€™" patterns;
    - ``latin1_run``: four or more Latin-1 letters/symbols in a row (CJK bytes as Latin-1);
    - ``rare_han``: over 30% of 20+ Han characters outside GB2312/Big5 level 1 (UTF-8 as GBK);
    - ``few_cjk``: a page labelled zh/ja/ko whose letters are under 10% Han/kana or Hangul.
    """
    signals: list[str] = []
    if "\ufffd" in text or _GBK_FFFD in text:
        signals.append("replacement")
    if _UTF8_AS_LATIN1.search(text):
        signals.append("utf8_as_latin1")
    if _LATIN1_RUN.search(text):
        signals.append("latin1_run")
    han = _HAN.findall(text)
    if len(han) >= _MIN_HAN_FOR_RARE:
        common = _common_han()
        rare = sum(1 for ch in han if ch not in common)
        if rare / len(han) > _MAX_RARE_HAN_SHARE:
            signals.append("rare_han")
    script = _CJK_LANGS.get(lang or "")
    if script is not None:
        letters = sum(1 for ch in text if ch.isalpha())
        if letters:
            if script == "hangul":
                cjk = len(_HANGUL.findall(text))
            else:
                cjk = len(han) + len(_KANA.findall(text))
            if cjk / letters < _MIN_CJK_SHARE:
                signals.append("few_cjk")
    return signals


# --------------------------------------------------------------------------- helpers


def _progress(items: Sequence[T], desc: str, enabled: bool) -> Iterator[T]:
    """A tqdm bar on stderr (never stdout, which may carry JSON); plain iteration without it."""
    if not enabled:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _subdirs_with(root: Path, name: str) -> list[Path]:
    if not root.is_dir():
        raise FileNotFoundError(
            f"{root} does not exist: pass the corpus directory that holds extraction/, langid/ "
            "and translation/"
        )
    return sorted(p for p in root.iterdir() if (p / name).is_file())


def _interleave(groups: Sequence[Sequence[T]]) -> list[T]:
    """Round-robin over groups, so ``--limit N`` samples every set instead of the first one."""
    out: list[T] = []
    longest = max((len(g) for g in groups), default=0)
    for i in range(longest):
        out.extend(g[i] for g in groups if i < len(g))
    return out


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _rate(num: int, den: int) -> str:
    return "-" if den == 0 else f"{num}/{den} {num / den:.2f}"


# --------------------------------------------------------------------------- extraction

_BODY_TYPES = ("full_body", "parser_reference", "extractor_reference")


@dataclass
class _Side:
    """One extractor's result on one page."""

    text: str
    language: str
    seconds: float
    error: str | None = None
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    snippets: SnippetResult | None = None
    prefix_ok: bool | None = None
    mojibake: list[str] | None = None


def _score_side(side: _Side, record: dict[str, Any]) -> None:
    gold_type = record.get("gold_type")
    body = record.get("body")
    if gold_type in _BODY_TYPES and body:
        scores = prf(tokens(side.text), tokens(body))
        side.precision, side.recall, side.f1 = scores.precision, scores.recall, scores.f1
    if gold_type == "body_prefix" and body:
        side.prefix_ok = prefix_check(side.text, body)
    if record.get("with") or record.get("without"):
        side.snippets = snippet_check(
            side.text, record.get("with") or [], record.get("without") or []
        )
    side.mojibake = mojibake_signals(side.text, record.get("lang")) if side.text.strip() else []


def _ours(pipeline: Pipeline, path: Path, seed: int) -> tuple[_Side, dict[str, Any]]:
    fetched = read_file(Source("file", str(path)), pipeline.settings.file_max_bytes)
    started = time.perf_counter()
    try:
        article = pipeline.ingest_fetched(fetched)
    except IngestError as exc:
        return _Side("", "und", time.perf_counter() - started, error=exc.reason), {}
    elapsed = time.perf_counter() - started
    ex = article.extracted
    meta = {"title": ex.title, "date": ex.date, "authors": ex.authors}
    return _Side("\n".join(ex.paragraphs), article.language, elapsed), meta


def _baseline(path: Path, seed: int) -> _Side:
    import trafilatura

    body = path.read_bytes()
    started = time.perf_counter()
    try:
        text = trafilatura.extract(body) or ""
    except (ValueError, TypeError, RecursionError) as exc:  # pragma: no cover - library failure
        return _Side("", "und", time.perf_counter() - started, error=type(exc).__name__)
    elapsed = time.perf_counter() - started
    language = detect_document(text.split("\n"), seed=seed).language if text.strip() else "und"
    return _Side(text, language, elapsed, error=None if text.strip() else "no_content")


def _side_summary(sides: list[tuple[dict[str, Any], _Side]]) -> dict[str, Any]:
    scored = [s for _, s in sides if s.f1 is not None]
    snip = [s.snippets for _, s in sides if s.snippets is not None]
    prefixed = [s.prefix_ok for _, s in sides if s.prefix_ok is not None]
    labelled = [(r, s) for r, s in sides if r.get("lang")]
    return {
        "pages": len(sides),
        "scored": len(scored),
        "precision": _mean(s.precision for s in scored if s.precision is not None),
        "recall": _mean(s.recall for s in scored if s.recall is not None),
        "f1": _mean(s.f1 for s in scored if s.f1 is not None),
        "snippet_pages": len(snip),
        "snippet_pages_passed": sum(1 for s in snip if s.passed),
        "with_found": sum(s.found for s in snip),
        "with_total": sum(s.wanted for s in snip),
        "without_leaked": sum(s.leaked for s in snip),
        "without_total": sum(s.unwanted for s in snip),
        "prefix_pages": len(prefixed),
        "prefix_passed": sum(1 for p in prefixed if p),
        "mojibake_pages": sum(1 for _, s in sides if s.mojibake),
        "empty_pages": sum(1 for _, s in sides if not s.text.strip()),
        "language_correct": sum(1 for r, s in labelled if s.language == r["lang"]),
        "language_labelled": len(labelled),
        "seconds": sum(s.seconds for _, s in sides),
    }


def _title_ok(got: str | None, want: str | None) -> bool | None:
    if not want:
        return None
    return prf(tokens(got or ""), tokens(want)).f1 >= 0.9


def _date_ok(got: str | None, want: str | None) -> bool | None:
    if not want:
        return None
    return bool(got) and str(got)[:10] == str(want)[:10]


def _extraction(
    corpus_dir: Path, settings: Settings, limit: int | None, out: TextIO, progress: bool
) -> dict[str, Any]:
    root = corpus_dir / "extraction"
    per_set = [_read_jsonl(d / "gold.jsonl") for d in _subdirs_with(root, "gold.jsonl")]
    records = _interleave(per_set)
    if limit is not None:
        records = records[:limit]
    pipeline = Pipeline(settings)
    seed = settings.langdetect_seed
    rows: list[tuple[dict[str, Any], _Side, _Side, dict[str, Any]]] = []
    for record in _progress(records, "extraction", progress):
        path = root / record["html"]
        ours, meta = _ours(pipeline, path, seed)
        base = _baseline(path, seed)
        _score_side(ours, record)
        _score_side(base, record)
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
            "ours": _side_summary([(rows[i][0], rows[i][1]) for i in idx]),
            _BASELINE: _side_summary([(rows[i][0], rows[i][2]) for i in idx]),
        }
    titles = [_title_ok(m.get("title"), r.get("title")) for r, _o, _b, m in rows]
    dates = [_date_ok(m.get("date"), r.get("date")) for r, _o, _b, m in rows]
    metadata = {
        "title_ok": sum(1 for t in titles if t),
        "title_labelled": sum(1 for t in titles if t is not None),
        "date_ok": sum(1 for d in dates if d),
        "date_labelled": sum(1 for d in dates if d is not None),
    }
    ours_s = summary.get("all", {}).get("ours", {}).get("seconds", 0.0)
    base_s = summary.get("all", {}).get(_BASELINE, {}).get("seconds", 0.0)
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
            "ours": _side_dict(o),
            _BASELINE: _side_dict(b),
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
    _print_extraction(result, out)
    return result


def _group_order(name: str) -> tuple[int, str]:
    order = ("all", "full_body", "lang=", "type=", "set=")
    return next((i for i, p in enumerate(order) if name.startswith(p)), len(order)), name


def _side_dict(side: _Side) -> dict[str, Any]:
    data = asdict(side)
    data.pop("text")
    data["chars"] = len(side.text)
    if side.snippets is not None:
        data["snippets"]["passed"] = side.snippets.passed
    return data


def _print_extraction(result: dict[str, Any], out: TextIO) -> None:
    groups: dict[str, Any] = result["groups"]
    w = max((len(n) for n in groups), default=10)
    p = out.write
    p(f"extraction: {result['speed']['pages']} pages from {result['corpus']}\n")
    p(
        "ours = decode -> extract -> normalise -> detect; "
        "trafilatura = plain extract() on the bytes\n"
    )
    p("P/R/F1: mean over pages with a gold body; tokens = CJK characters or words\n\n")
    head = f"{'group':<{w}}  {'n':>4}"
    p(f"{head}  {'ours P':>6} {'R':>5} {'F1':>5} | {'traf P':>6} {'R':>5} {'F1':>5}\n")
    for name, g in groups.items():
        o, b = g["ours"], g[_BASELINE]
        if not o["scored"]:
            continue
        p(
            f"{name:<{w}}  {o['scored']:>4}  {_fmt(o['precision']):>6} {_fmt(o['recall']):>5}"
            f" {_fmt(o['f1']):>5} | {_fmt(b['precision']):>6} {_fmt(b['recall']):>5}"
            f" {_fmt(b['f1']):>5}\n"
        )
    p("\nrobustness, each cell ours|trafilatura\n")
    p("  snip: pages with every `with` and no `without` string; with: `with` strings found;\n")
    p("  leak: `without` strings found; moji: pages with a mojibake signal; empty: pages with\n")
    p("  no text; lang: detected language == gold lang\n\n")
    cols = ("snip", "with", "leak", "moji", "empty", "lang")
    widths = (13, 13, 11, 7, 7, 15)
    p(
        f"{'group':<{w}}  {'n':>4}  "
        + "  ".join(f"{c:<{x}}" for c, x in zip(cols, widths, strict=True))
        + "\n"
    )
    for name, g in groups.items():
        cells = [
            f"{_robust_cell(c, g['ours'])}|{_robust_cell(c, g[_BASELINE])}".ljust(x)
            for c, x in zip(cols, widths, strict=True)
        ]
        p(f"{name:<{w}}  {g['ours']['pages']:>4}  " + "  ".join(cells) + "\n")
    md = result["metadata"]
    p(
        f"\nmetadata (ours): title token-F1>=0.9 {_rate(md['title_ok'], md['title_labelled'])}; "
        f"date same day {_rate(md['date_ok'], md['date_labelled'])}\n"
    )
    sp = result["speed"]
    ratio = (
        sp["ours_pages_per_s"] / sp["baseline_pages_per_s"]
        if sp["ours_pages_per_s"] and sp["baseline_pages_per_s"]
        else None
    )
    p(
        f"speed: ours {_fmt(sp['ours_pages_per_s'], 1)} pages/s, trafilatura "
        f"{_fmt(sp['baseline_pages_per_s'], 1)} pages/s (ratio {_fmt(ratio, 2)}; one process, "
        "file reading excluded; cold: first-use loading of langdetect and dateparser data\n"
        "included, benchmarks/text_quality.py measures warm)\n"
    )


def _robust_cell(key: str, s: dict[str, Any]) -> str:
    """A compact count: "passed/total" for rates, a number of pages otherwise."""
    pairs = {
        "snip": ("snippet_pages_passed", "snippet_pages"),
        "with": ("with_found", "with_total"),
        "leak": ("without_leaked", "without_total"),
        "lang": ("language_correct", "language_labelled"),
    }
    if key in pairs:
        num, den = pairs[key]
        return "-" if not s[den] else f"{s[num]}/{s[den]}"
    return str(s["mojibake_pages" if key == "moji" else "empty_pages"])


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
    for folder in _subdirs_with(root, "data.jsonl"):
        data = _read_jsonl(folder / "data.jsonl")
        rows.extend({**r, "set": folder.name} for r in (data[:limit] if limit else data))
    seed = settings.langdetect_seed
    lingua = _lingua_detector()
    seconds = {"ours": 0.0, "lingua": 0.0}
    results: list[tuple[dict[str, Any], str, str | None]] = []
    for row in _progress(rows, "langid", progress):
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
    _print_langid(result, out)
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
    records = _interleave(
        [_read_jsonl(d / "gold.jsonl") for d in _subdirs_with(root, "gold.jsonl")]
    )
    bodies = [r for r in records if r.get("body") and r.get("lang")]
    if limit is not None:
        bodies = bodies[:limit]
    ours = other = 0
    wrong: list[str] = []
    for record in _progress(bodies, "langid documents", progress):
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


def _print_langid(result: dict[str, Any], out: TextIO) -> None:
    p = out.write
    groups: dict[str, Any] = result["groups"]
    w = max((len(n) for n in groups), default=10)
    p(f"langid: accuracy of service.language.detect on {result['corpus']}\n")
    if not result["lingua"]:
        p("lingua is not installed (pip install lingua-language-detector): no comparison column\n")
    p(f"\n{'group':<{w}}  {'n':>5}  {'ours':>6}  {'lingua':>6}\n")
    for name, g in groups.items():
        p(f"{name:<{w}}  {g['n']:>5}  {_fmt(g['ours']):>6}  {_fmt(g['lingua']):>6}\n")
    d = result["documents"]
    p(
        f"\ndocuments (extraction gold bodies, detect_document): n={d['n']} ours "
        f"{_fmt(d['ours'])} lingua {_fmt(d['lingua'])}\n"
    )
    for line in d.get("wrong", [])[:10]:
        p(f"  wrong: {line}\n")
    if result["confusions"]:
        p(
            "ours, most common errors: "
            + ", ".join(f"{k} {v}" for k, v in result["confusions"].items())
            + "\n"
        )
    speed = ", ".join(f"{k} {_fmt(v, 0)}" for k, v in result["texts_per_s"].items())
    p(f"speed (texts/s): {speed}\n")


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
    for folder in _subdirs_with(root, "pairs.jsonl"):
        pairs = _read_jsonl(folder / "pairs.jsonl")
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
        for chunk in _progress(chunks, folder.name, progress):
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
            f" {_fmt(cps, 0):>8}\n"
        )
    return {"kind": "translation", "corpus": str(root), "sets": sets}


# --------------------------------------------------------------------------- entry point

_RUNNERS: dict[str, Callable[[Path, Settings, int | None, TextIO, bool], dict[str, Any]]] = {
    "extraction": _extraction,
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
