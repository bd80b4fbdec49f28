"""The scorer behind devtools.evaluate, kept apart from the runners so tests can use it alone.

Bag-of-tokens P/R/F1 with one token per CJK character and one per word elsewhere, trafilatura's
``with``/``without`` snippet convention, goose3's prefix convention, mojibake signals, and the
small file and formatting helpers the runners share. Nothing here imports ``service``: the
scorer stays independent of the code it measures.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "PRF",
    "SnippetResult",
    "mojibake_signals",
    "prefix_check",
    "prf",
    "snippet_check",
    "tokens",
]

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
# The baseline extractor's key in results: plain trafilatura.extract on the raw bytes.
BASELINE = "trafilatura"

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


def progress_bar(items: Sequence[T], desc: str, enabled: bool) -> Iterator[T]:
    """A tqdm bar on stderr (never stdout, which may carry JSON); plain iteration without it."""
    if not enabled:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def subdirs_with(root: Path, name: str) -> list[Path]:
    if not root.is_dir():
        raise FileNotFoundError(
            f"{root} does not exist: pass the corpus directory that holds extraction/, langid/ "
            "and translation/"
        )
    return sorted(p for p in root.iterdir() if (p / name).is_file())


def interleave(groups: Sequence[Sequence[T]]) -> list[T]:
    """Round-robin over groups, so ``--limit N`` samples every set instead of the first one."""
    out: list[T] = []
    longest = max((len(g) for g in groups), default=0)
    for i in range(longest):
        out.extend(g[i] for g in groups if i < len(g))
    return out


def mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def rate(num: int, den: int) -> str:
    return "-" if den == 0 else f"{num}/{den} {num / den:.2f}"


# --------------------------------------------------------------------------- extraction pages

BODY_TYPES = ("full_body", "parser_reference", "extractor_reference")


@dataclass
class Side:
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


def score_side(side: Side, record: dict[str, Any]) -> None:
    gold_type = record.get("gold_type")
    body = record.get("body")
    if gold_type in BODY_TYPES and body:
        scores = prf(tokens(side.text), tokens(body))
        side.precision, side.recall, side.f1 = scores.precision, scores.recall, scores.f1
    if gold_type == "body_prefix" and body:
        side.prefix_ok = prefix_check(side.text, body)
    if record.get("with") or record.get("without"):
        side.snippets = snippet_check(
            side.text, record.get("with") or [], record.get("without") or []
        )
    side.mojibake = mojibake_signals(side.text, record.get("lang")) if side.text.strip() else []


def side_summary(sides: list[tuple[dict[str, Any], Side]]) -> dict[str, Any]:
    scored = [s for _, s in sides if s.f1 is not None]
    snip = [s.snippets for _, s in sides if s.snippets is not None]
    prefixed = [s.prefix_ok for _, s in sides if s.prefix_ok is not None]
    labelled = [(r, s) for r, s in sides if r.get("lang")]
    return {
        "pages": len(sides),
        "scored": len(scored),
        "precision": mean(s.precision for s in scored if s.precision is not None),
        "recall": mean(s.recall for s in scored if s.recall is not None),
        "f1": mean(s.f1 for s in scored if s.f1 is not None),
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


def title_ok(got: str | None, want: str | None) -> bool | None:
    if not want:
        return None
    return prf(tokens(got or ""), tokens(want)).f1 >= 0.9


def date_ok(got: str | None, want: str | None) -> bool | None:
    if not want:
        return None
    return bool(got) and str(got)[:10] == str(want)[:10]


def side_dict(side: Side) -> dict[str, Any]:
    data = asdict(side)
    data.pop("text")
    data["chars"] = len(side.text)
    if side.snippets is not None:
        data["snippets"]["passed"] = side.snippets.passed
    return data
