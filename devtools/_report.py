"""The human reports of devtools.evaluate: tables of the numbers a runner returns.

Each printer takes the JSON-safe result of one run and writes text to ``out`` (stdout, or
stderr when stdout carries the JSON).
"""

from __future__ import annotations

from typing import Any, TextIO

from ._metrics import BASELINE, fmt, rate

__all__ = ["print_extraction", "print_langid"]


def print_extraction(result: dict[str, Any], out: TextIO) -> None:
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
        o, b = g["ours"], g[BASELINE]
        if not o["scored"]:
            continue
        p(
            f"{name:<{w}}  {o['scored']:>4}  {fmt(o['precision']):>6} {fmt(o['recall']):>5}"
            f" {fmt(o['f1']):>5} | {fmt(b['precision']):>6} {fmt(b['recall']):>5}"
            f" {fmt(b['f1']):>5}\n"
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
            f"{_robust_cell(c, g['ours'])}|{_robust_cell(c, g[BASELINE])}".ljust(x)
            for c, x in zip(cols, widths, strict=True)
        ]
        p(f"{name:<{w}}  {g['ours']['pages']:>4}  " + "  ".join(cells) + "\n")
    md = result["metadata"]
    p(
        f"\nmetadata (ours, raw extraction of the file without its URL): title token-F1>=0.9 "
        f"{rate(md['title_ok'], md['title_labelled'])}; date same day "
        f"{rate(md['date_ok'], md['date_labelled'])}; `newsingest eval metadata` measures "
        "the published fields\n"
    )
    sp = result["speed"]
    ratio = (
        sp["ours_pages_per_s"] / sp["baseline_pages_per_s"]
        if sp["ours_pages_per_s"] and sp["baseline_pages_per_s"]
        else None
    )
    p(
        f"speed: ours {fmt(sp['ours_pages_per_s'], 1)} pages/s, trafilatura "
        f"{fmt(sp['baseline_pages_per_s'], 1)} pages/s (ratio {fmt(ratio, 2)}; one process, "
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


def print_langid(result: dict[str, Any], out: TextIO) -> None:
    p = out.write
    groups: dict[str, Any] = result["groups"]
    w = max((len(n) for n in groups), default=10)
    p(f"langid: accuracy of service.language.detect on {result['corpus']}\n")
    if not result["lingua"]:
        p("lingua is not installed (pip install lingua-language-detector): no comparison column\n")
    p(f"\n{'group':<{w}}  {'n':>5}  {'ours':>6}  {'lingua':>6}\n")
    for name, g in groups.items():
        p(f"{name:<{w}}  {g['n']:>5}  {fmt(g['ours']):>6}  {fmt(g['lingua']):>6}\n")
    d = result["documents"]
    p(
        f"\ndocuments (extraction gold bodies, detect_document): n={d['n']} ours "
        f"{fmt(d['ours'])} lingua {fmt(d['lingua'])}\n"
    )
    for line in d.get("wrong", [])[:10]:
        p(f"  wrong: {line}\n")
    if result["confusions"]:
        p(
            "ours, most common errors: "
            + ", ".join(f"{k} {v}" for k, v in result["confusions"].items())
            + "\n"
        )
    speed = ", ".join(f"{k} {fmt(v, 0)}" for k, v in result["texts_per_s"].items())
    p(f"speed (texts/s): {speed}\n")
