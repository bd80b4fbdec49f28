"""``newsingest eval metadata CORPUS_DIR``: title, authors and publication time against gold.

Every page of ``extraction/*/gold.jsonl`` goes through the service's own path
(``Pipeline.ingest_fetched`` on its bytes, with the page's URL when the gold knows it, as a
fetch would give it), and through plain trafilatura
(``bare_extraction(with_metadata=True)``). Scored on the pages whose gold has the field:

- **title**: the same headline: equal once case, width and punctuation are ignored, or token
  F1 >= 0.9, or equal to the gold without a site/section part that the gold keeps after a
  separator ("标题 _探索者 _光明网": the issue asks for the headline alone);
- **author**: a gold name is among the authors (names compared whole, case and spacing
  ignored; gold "未知"/"unknown" means no author and is not scored);
- **day**: the publication day in the publisher's calendar (``published_at_local``), at the
  precision the gold has (a gold "1996-3" is compared by month, "09月07日" without its year);
- **minute**: where the gold has a time, the minute (as an instant when both sides have a
  zone, else as the publisher's wall clock).

"site name as author" counts pages, labelled or not, where an author is the site's own name
(the gold ``site``, og:site_name, the extracted site name or the host's name).
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from service.errors import IngestError
from service.metadata import document_fields
from service.pipeline import Pipeline
from service.records import Fetched, Source, utc_now
from service.settings import Settings

from ._metrics import fmt, interleave, prf, progress_bar, rate, read_jsonl, subdirs_with, tokens

__all__ = ["GoldDate", "author_ok", "day_ok", "evaluate_metadata", "minute_ok", "parse_gold_date",
           "title_ok"]  # fmt: skip

BASELINE = "trafilatura"
FIELDS = ("title", "author", "day", "minute")
_PLACEHOLDER_AUTHORS = frozenset({"未知", "佚名", "匿名", "unknown", "anonymous", "none", "null"})
_ROLE_WORDS = frozenset({"기자", "특파원", "외", "记者", "編輯", "编辑", "责任编辑", "by", "staff"})
_SEP = re.compile(r"\s*(?:[|｜_@<>»«·•ㅣ]|::|\s[-–—:/]\s|[-–—]{2,})\s*")


# --------------------------------------------------------------------------- scoring


def _norm(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def title_ok(got: str | None, want: str | None) -> bool | None:
    """Same headline (see the module docstring); None when the gold has no title."""
    if not want or not want.strip():
        return None
    if not got:
        return False
    g, w = _norm(got), _norm(want)
    if g == w or prf(tokens(got), tokens(want)).f1 >= 0.9:
        return True
    parts = [p for p in _SEP.split(want.strip()) if _norm(p)]
    for i in range(len(parts)):
        for j in range(i + 1, len(parts) + 1):
            if (i == 0 or j == len(parts)) and _norm("".join(parts[i:j])) == g:
                return True
    return False


def _gold_names(want: str) -> set[str]:
    """Each name the gold gives, and runs of its words ("Evan Halper" from "Evan Halper")."""
    words = [w for w in re.split(r"[\s,，、;；/]+", want) if _norm(w)]
    words = [w for w in words if w.casefold() not in _ROLE_WORDS and not re.fullmatch(r"\d+명", w)]
    runs = set()
    for i in range(len(words)):
        for j in range(i + 1, min(len(words), i + 4) + 1):
            runs.add(_norm("".join(words[i:j])))
    return {r for r in runs if r}


def author_ok(got: list[str], want: str | None) -> bool | None:
    """A gold name among the authors; None when the gold names nobody."""
    if not want or not want.strip() or want.strip().casefold() in _PLACEHOLDER_AUTHORS:
        return None
    names = _gold_names(want)
    return any(_norm(a) in names for a in got if len(_norm(a)) >= 2)


@dataclass(frozen=True)
class GoldDate:
    year: int | None
    month: int
    day: int | None
    hour: int | None = None
    minute: int | None = None
    offset: timedelta | None = None


_GOLD_DATE = re.compile(
    r"(?:(?P<y>\d{4})\s*[-/.年]\s*)?(?P<m>\d{1,2})(?:\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?)?"
    r"(?:[T\s]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::\d{2}(?:\.\d+)?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?\s*$"
)


def parse_gold_date(text: str | None) -> GoldDate | None:
    if not text:
        return None
    match = _GOLD_DATE.fullmatch(text.strip().replace("月", "月"))
    if match is None or (match["y"] is None and match["d"] is None):
        return None
    offset = None
    if match["tz"]:
        tz = match["tz"]
        if tz == "Z":
            offset = timedelta(0)
        else:
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return GoldDate(
        int(match["y"]) if match["y"] else None,
        int(match["m"]),
        int(match["d"]) if match["d"] else None,
        int(match["H"]) if match["H"] else None,
        int(match["M"]) if match["M"] else None,
        offset,
    )


def _parse_ours(local: str | None) -> datetime | None:
    if not local:
        return None
    if len(local) == 7:  # a month: YYYY-MM
        local += "-01"
    try:
        return datetime.fromisoformat(local.replace("Z", "+00:00"))
    except ValueError:
        return None


def day_ok(local: str | None, gold: GoldDate | None) -> bool | None:
    """The publisher's day, at the precision the gold has; None without a gold date."""
    if gold is None:
        return None
    ours = _parse_ours(local)
    if ours is None:
        return False
    if gold.offset is not None and ours.tzinfo is not None and len(local or "") > 10:
        ours = ours.astimezone(timezone(gold.offset))
    if gold.year is not None and ours.year != gold.year:
        return False
    if ours.month != gold.month:
        return False
    if gold.day is not None and len(local or "") == 7:
        return False  # a month is not the day the gold knows
    return gold.day is None or ours.day == gold.day


def minute_ok(local: str | None, gold: GoldDate | None) -> bool | None:
    """The minute, where the gold has a time; None when it has none."""
    if gold is None or gold.hour is None or gold.year is None or gold.day is None:
        return None
    ours = _parse_ours(local)
    if ours is None or len(local or "") <= 10:
        return False
    want = datetime(gold.year, gold.month, gold.day, gold.hour, gold.minute or 0)
    if gold.offset is not None and ours.tzinfo is not None:
        want_utc = want.replace(tzinfo=timezone(gold.offset)).astimezone(UTC)
        return ours.astimezone(UTC).replace(second=0, microsecond=0) == want_utc
    return ours.replace(tzinfo=None, second=0, microsecond=0) == want


# --------------------------------------------------------------------------- runs


@dataclass
class Side:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    local: str | None = None
    precision: str | None = None
    source: str | None = None
    zone: str | None = None
    inferred: bool = False
    agency: str | None = None
    site_name: str | None = None
    error: str | None = None
    seconds: float = 0.0


def _ours(pipeline: Pipeline, path: Path, url: str | None) -> Side:
    body = path.read_bytes()
    source = Source("url", url) if url else Source("file", str(path))
    fetched = Fetched(source, body, "html", None, url, utc_now())
    started = time.perf_counter()
    try:
        article = pipeline.ingest_fetched(fetched)
    except IngestError as exc:
        return Side(error=exc.reason, seconds=time.perf_counter() - started)
    ex = article.extracted
    fields = document_fields(ex)
    return Side(
        title=ex.title,
        authors=list(ex.authors),
        local=fields["published_at_local"],
        precision=ex.meta.get("date_precision"),
        source=fields["published_at_source"],
        zone=fields["published_at_zone"],
        inferred=bool(fields["published_at_zone_inferred"]),
        agency=fields["agency"],
        site_name=ex.site_name,
        seconds=time.perf_counter() - started,
    )


def _baseline(path: Path, url: str | None) -> Side:
    import trafilatura

    started = time.perf_counter()
    try:
        doc = trafilatura.bare_extraction(path.read_bytes(), url=url, with_metadata=True)
    except (ValueError, TypeError, RecursionError) as exc:  # pragma: no cover - library failure
        return Side(error=type(exc).__name__, seconds=time.perf_counter() - started)
    elapsed = time.perf_counter() - started
    if doc is None:
        return Side(error="no_content", seconds=elapsed)
    author = getattr(doc, "author", None) or ""
    return Side(
        title=getattr(doc, "title", None),
        authors=[a.strip() for a in re.split(r";|,\s(?=[A-Z])", author) if a.strip()],
        local=getattr(doc, "date", None),
        site_name=getattr(doc, "sitename", None),
        seconds=elapsed,
    )


def _site_names(record: dict[str, Any], side: Side, page_site: str | None) -> set[str]:
    names = {side.site_name or "", page_site or ""}
    gold_site = record.get("site") or ""
    url = record.get("url") or (gold_site if "." in gold_site else None)
    if url:
        host = urlsplit(url if "://" in url else f"http://{url}").hostname or ""
        labels = [x for x in host.split(".") if x not in ("www", "m", "com", "cn", "co", "kr")]
        names.update(labels[-1:])
        names.add(host)
    return {_norm(n) for n in names if _norm(n)}


def _site_as_author(side: Side, sites: set[str]) -> bool:
    return any(_norm(a) in sites for a in side.authors)


def _scores(record: dict[str, Any], side: Side) -> dict[str, bool | None]:
    gold_date = parse_gold_date(record.get("date"))
    return {
        "title": title_ok(side.title, record.get("title")),
        "author": author_ok(side.authors, record.get("author")),
        "day": day_ok(side.local, gold_date),
        "minute": minute_ok(side.local, gold_date),
    }


def evaluate_metadata(
    root: Path, settings: Settings, limit: int | None, out: TextIO, progress: bool
) -> dict[str, Any]:
    """Score title, author, day and minute on every extraction page; print and return."""
    folder = root / "extraction"
    per_set = [read_jsonl(d / "gold.jsonl") for d in subdirs_with(folder, "gold.jsonl")]
    records = interleave(per_set)
    if limit is not None:
        records = records[:limit]
    pipeline = Pipeline(settings)
    pages: list[dict[str, Any]] = []
    for record in progress_bar(records, "metadata", progress):
        path = folder / record["html"]
        url = record.get("url") or None
        if url and "://" not in url:
            url = f"http://{url}"
        ours, base = _ours(pipeline, path, url), _baseline(path, url)
        sites = _site_names(record, ours, base.site_name)
        pages.append(
            {
                "id": record["id"],
                "set": record.get("set"),
                "lang": record.get("lang"),
                "gold": {k: record.get(k) for k in ("title", "author", "date")},
                "ours": {**ours.__dict__, "ok": _scores(record, ours),
                         "site_as_author": _site_as_author(ours, sites)},
                BASELINE: {**base.__dict__, "ok": _scores(record, base),
                           "site_as_author": _site_as_author(base, sites)},
            }
        )  # fmt: skip
    result = _summarise(folder, pages)
    _print(result, out)
    return result


def _tally(pages: list[dict[str, Any]], side: str) -> dict[str, list[int]]:
    out = {f: [0, 0] for f in FIELDS}
    for page in pages:
        for name, ok in page[side]["ok"].items():
            if ok is not None:
                out[name][1] += 1
                out[name][0] += int(ok)
    return out


def _summarise(folder: Path, pages: list[dict[str, Any]]) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for page in pages:
        groups["all"].append(page)
        groups[f"lang={page['lang']}"].append(page)
        groups[f"set={page['set']}"].append(page)
    summary = {
        name: {
            "pages": len(group),
            "ours": _tally(group, "ours"),
            BASELINE: _tally(group, BASELINE),
        }
        for name, group in sorted(groups.items(), key=lambda kv: (kv[0] != "all", kv[0]))
    }
    ours = [p["ours"] for p in pages]
    return {
        "kind": "metadata",
        "corpus": str(folder),
        "groups": summary,
        "site_name_as_author": {
            "pages": len(pages),
            "ours": sum(1 for p in pages if p["ours"]["site_as_author"]),
            BASELINE: sum(1 for p in pages if p[BASELINE]["site_as_author"]),
        },
        "published_at": {
            "precision": dict(Counter(str(o["precision"]) for o in ours)),
            "source": dict(Counter(str(o["source"]) for o in ours)),
            "zone_inferred": sum(1 for o in ours if o["inferred"]),
            "agency": sum(1 for o in ours if o["agency"]),
        },
        "seconds": {
            "ours": sum(o["seconds"] for o in ours),
            BASELINE: sum(p[BASELINE]["seconds"] for p in pages),
        },
        "pages": pages,
    }


def _print(result: dict[str, Any], out: TextIO) -> None:
    p = out.write
    groups = result["groups"]
    p(f"metadata: {groups['all']['pages']} pages from {result['corpus']}\n")
    p("ours = the service's path (Pipeline.ingest_fetched); trafilatura = bare_extraction"
      "(with_metadata=True)\n")  # fmt: skip
    p("each cell: right/labelled share, ours | trafilatura (labelled = the gold has the field)\n\n")
    w = max(len(n) for n in groups)
    p(f"{'group':<{w}}  {'pages':>5}  " + "  ".join(f"{f:<25}" for f in FIELDS) + "\n")
    for name, g in groups.items():
        cells = []
        for f in FIELDS:
            o, b = g["ours"][f], g[BASELINE][f]
            cells.append(f"{rate(*o):>12} | {fmt(b[0] / b[1] if b[1] else None, 2):<10}")
        if any(g["ours"][f][1] for f in FIELDS):
            p(f"{name:<{w}}  {g['pages']:>5}  " + "  ".join(f"{c:<25}" for c in cells) + "\n")
    s = result["site_name_as_author"]
    p(
        f"\nsite name as author: ours {s['ours']} | trafilatura {s[BASELINE]}"
        f" of {s['pages']} pages\n"
    )
    d = result["published_at"]
    p(f"published_at precision {d['precision']}; source {d['source']}; "
      f"zone inferred on {d['zone_inferred']} pages; agency on {d['agency']} pages\n")  # fmt: skip
    secs = result["seconds"]
    p(f"seconds: ours {secs['ours']:.1f} (whole ingest) | trafilatura {secs[BASELINE]:.1f}\n")
