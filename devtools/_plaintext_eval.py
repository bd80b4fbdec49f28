"""``newsingest eval plaintext CORPUS_DIR``: the plain-text cleaner on whole-page text dumps.

Two measurements, both through the service's own path for a ``.txt`` input (decode ->
``extract_text`` -> normalise -> detect, i.e. ``Pipeline.ingest_fetched`` on a text body), so
the figures are the service's:

* **Dumps** (``plaintext/``): token P/R/F1 of title + paragraphs against the gold body, per
  language, beside the do-nothing score (the whole dump against the gold). The title counts
  like any other line, so a title the gold leaves out costs a little precision: the figure is
  a lower bound of the "a title line at the top is not a fault" convention.
* **False positives**: every gold body in the corpus that is the article alone (extraction
  sets' ``full_body`` bodies and the plain-text gold bodies) goes through the same path; the
  share of its tokens that do not come back is what the cleaner would wrongly remove.
  The goal is under 1%.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, TextIO

from service.errors import IngestError
from service.pipeline import Pipeline
from service.records import Fetched, Source
from service.settings import Settings

from ._metrics import (
    fmt,
    interleave,
    mean,
    prf,
    progress_bar,
    read_jsonl,
    subdirs_with,
    tokens,
)

__all__ = ["clean_through_service", "evaluate_plaintext"]

_FP_GOAL = 0.01


def clean_through_service(pipeline: Pipeline, text: str, name: str) -> tuple[str, str | None]:
    """Title + paragraphs of ``text`` as the service extracts a plain-text input, and the
    error reason when it refuses the text (the output is then empty)."""
    fetched = Fetched(
        Source("file", name), text.encode("utf-8"), "text", "utf-8", None, "1970-01-01T00:00:00Z"
    )
    try:
        article = pipeline.ingest_fetched(fetched)
    except IngestError as exc:
        return "", exc.reason
    ex = article.extracted
    return "\n".join(([ex.title] if ex.title else []) + list(ex.paragraphs)), None


def _score(got: str, want: str) -> dict[str, float]:
    s = prf(tokens(got), tokens(want))
    return {"precision": s.precision, "recall": s.recall, "f1": s.f1}


def _summary(rows: list[dict[str, Any]], side: str) -> dict[str, Any]:
    return {key: mean(r[side][key] for r in rows) for key in ("precision", "recall", "f1")}


def _dumps(
    root: Path, pipeline: Pipeline, limit: int | None, progress: bool
) -> tuple[list[dict[str, Any]], float]:
    folder = root / "plaintext"
    if not (folder / "gold.jsonl").is_file():
        raise FileNotFoundError(f"{folder / 'gold.jsonl'} does not exist: pass the corpus dir")
    by_set: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in read_jsonl(folder / "gold.jsonl"):
        by_set[str(record.get("source_html") or "").split("/", 1)[0]].append(record)
    records = interleave([by_set[name] for name in sorted(by_set)])  # --limit samples every set
    if limit is not None:
        records = records[:limit]
    rows: list[dict[str, Any]] = []
    seconds = 0.0
    for record in progress_bar(records, "plaintext", progress):
        dump = (folder / "pages" / record["file"]).read_text(encoding="utf-8")
        started = time.perf_counter()
        got, error = clean_through_service(pipeline, dump, record["file"])
        seconds += time.perf_counter() - started
        source = str(record.get("source_html") or "")
        rows.append(
            {
                "file": record["file"],
                "lang": record.get("lang"),
                "set": source.split("/", 1)[0] if "/" in source else "",
                "error": error,
                "ours": _score(got, record["body"]),
                "nothing": _score(dump, record["body"]),
            }
        )
    return rows, seconds


def _gold_bodies(root: Path, limit: int | None) -> list[tuple[str, str]]:
    """(name, body) of every gold body that is the article alone."""
    bodies: list[tuple[str, str]] = []
    extraction = root / "extraction"
    if extraction.is_dir():
        for folder in subdirs_with(extraction, "gold.jsonl"):
            for r in read_jsonl(folder / "gold.jsonl"):
                if r.get("gold_type") == "full_body" and str(r.get("body") or "").strip():
                    bodies.append((f"extraction/{folder.name}/{r['id']}", str(r["body"])))
    plaintext = root / "plaintext" / "gold.jsonl"
    if plaintext.is_file():
        for r in read_jsonl(plaintext):
            if str(r.get("body") or "").strip():
                bodies.append((f"plaintext/{r['file']}", str(r["body"])))
    return bodies[:limit] if limit is not None else bodies


def _false_positives(
    root: Path, pipeline: Pipeline, limit: int | None, progress: bool
) -> dict[str, Any]:
    lost_total = gold_total = 0
    worst: list[tuple[float, int, str]] = []
    bodies = _gold_bodies(root, limit)
    for name, body in progress_bar(bodies, "false positives", progress):
        got, _error = clean_through_service(pipeline, body, name)
        want = Counter(tokens(body))
        lost = sum((want - Counter(tokens(got))).values())
        total = sum(want.values())
        lost_total += lost
        gold_total += total
        if lost:
            worst.append((lost / total, lost, name))
    worst.sort(reverse=True)
    share = lost_total / gold_total if gold_total else 0.0
    return {
        "bodies": len(bodies),
        "tokens": gold_total,
        "removed_tokens": lost_total,
        "removed_share": share,
        "goal": _FP_GOAL,
        "ok": share < _FP_GOAL,
        "bodies_touched": len(worst),
        "worst": [{"body": n, "share": s, "tokens": k} for s, k, n in worst[:10]],
    }


def evaluate_plaintext(
    root: Path, settings: Settings, limit: int | None, out: TextIO, progress: bool
) -> dict[str, Any]:
    """Score the cleaner on ``root``/plaintext and on every article-alone gold body in
    ``root``; print the report to ``out`` and return the numbers (JSON-safe)."""
    pipeline = Pipeline(settings)
    rows, seconds = _dumps(root, pipeline, limit, progress)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups["all"].append(row)
        groups[f"lang={row['lang']}"].append(row)
        groups[f"set={row['set']}"].append(row)
    summary = {
        name: {"pages": len(g), "ours": _summary(g, "ours"), "nothing": _summary(g, "nothing")}
        for name, g in sorted(groups.items(), key=lambda kv: (kv[0] != "all", kv[0]))
    }
    fp = _false_positives(root, pipeline, limit, progress)
    result = {
        "kind": "plaintext",
        "corpus": str(root / "plaintext"),
        "groups": summary,
        "false_positives": fp,
        "speed": {"pages": len(rows), "pages_per_s": len(rows) / seconds if seconds else None},
        "errors": sum(1 for r in rows if r["error"]),
        "pages": rows,
    }
    _print(result, out)
    return result


def _print(result: dict[str, Any], out: TextIO) -> None:
    p = out.write
    groups: dict[str, Any] = result["groups"]
    w = max((len(n) for n in groups), default=10)
    p(f"plaintext: {result['speed']['pages']} dumps from {result['corpus']}\n")
    p("ours = decode -> extract_text -> normalise -> detect (the service's .txt path), title and\n")
    p("paragraphs together; nothing = the whole dump. P/R/F1: mean over pages, tokens = CJK\n")
    p("characters or words\n\n")
    p(f"{'group':<{w}}  {'n':>4}  {'ours P':>6} {'R':>5} {'F1':>5} | {'none P':>6} {'R':>5}")
    p(f" {'F1':>5}\n")
    for name, g in groups.items():
        o, b = g["ours"], g["nothing"]
        p(
            f"{name:<{w}}  {g['pages']:>4}  {fmt(o['precision']):>6} {fmt(o['recall']):>5}"
            f" {fmt(o['f1']):>5} | {fmt(b['precision']):>6} {fmt(b['recall']):>5}"
            f" {fmt(b['f1']):>5}\n"
        )
    if result["errors"]:
        p(f"\n{result['errors']} dump(s) refused (scored as empty output)\n")
    fp = result["false_positives"]
    verdict = "ok" if fp["ok"] else "OVER the goal"
    p(
        f"\nfalse positives: the cleaner run on {fp['bodies']} gold bodies (article alone) removes "
        f"{fp['removed_tokens']}/{fp['tokens']} tokens = {fp['removed_share']:.2%} "
        f"(goal < {fp['goal']:.0%}: {verdict}); {fp['bodies_touched']} bodies lose any\n"
    )
    for item in fp["worst"][:5]:
        p(f"  {item['share']:6.1%} {item['tokens']:>5} tokens  {item['body']}\n")
    rate = result["speed"]["pages_per_s"]
    p(f"\nspeed: {fmt(rate, 1)} dumps/s through the service path (one process)\n")
