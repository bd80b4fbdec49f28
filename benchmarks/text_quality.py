"""Benchmark: pages per second of our text path against plain trafilatura, in one process.

Ours is what the ingest queue does after fetching: decode -> extract (trafilatura plus layout
tables, metadata and the embedded-article fallback) -> normalise -> detect language, via
``Pipeline.ingest_fetched``. The baseline is ``trafilatura.extract`` on the same raw bytes.
Pages are read into memory first; both sides are warmed up (dateparser and langdetect load
on first use), then timed in alternating rounds. The whole-page text dumps of
``CORPUS_DIR/plaintext`` are timed too, through the same pipeline (decode -> plain-text cleaner
-> normalise -> detect), and the cleaner alone. CPU time of this process is reported beside
wall time because the development machines are shared and wall time wanders.

Usage: python -m benchmarks.text_quality [CORPUS_DIR] [--rounds N] [--limit N]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from service.cleanup import clean_plain_text
from service.errors import IngestError
from service.fetch import Fetched, Source, read_file
from service.pipeline import Pipeline
from service.settings import load_settings

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
GOAL_PAGES_PER_S = 30


def _dumps(corpus: Path, limit: int | None) -> list[Fetched]:
    folder = corpus / "plaintext" / "pages"
    paths = sorted(folder.glob("*.txt")) if folder.is_dir() else []
    return [read_file(Source("file", str(p)), 50_000_000) for p in paths[:limit]]


def _pages(corpus: Path, limit: int | None) -> list[Fetched]:
    root = corpus / "extraction"
    rows = [json.loads(line) for line in (root / "index.jsonl").read_text("utf-8").splitlines()]
    if limit:
        rows = rows[:limit]
    return [read_file(Source("file", str(root / row["html"])), 50_000_000) for row in rows]


def _timed(work: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    pages = _pages(args.corpus, args.limit)
    dumps = _dumps(args.corpus, args.limit)
    texts = [dump.body.decode("utf-8") for dump in dumps]
    pipeline = Pipeline(load_settings())

    def ours_one(page: Fetched) -> None:
        with contextlib.suppress(IngestError):
            pipeline.ingest_fetched(page)

    def baseline_one(page: Fetched) -> None:
        trafilatura.extract(page.body)

    def ours() -> None:
        for page in pages:
            ours_one(page)

    def baseline() -> None:
        for page in pages:
            baseline_one(page)

    def text_dumps() -> None:
        for dump in dumps:
            with contextlib.suppress(IngestError):
                pipeline.ingest_fetched(dump)

    def cleaner() -> None:
        for text in texts:
            clean_plain_text(text)

    works = {"ours": ours, "trafilatura": baseline, "text dumps": text_dumps, "cleaner": cleaner}
    for work in works.values():  # warm-up: lazy imports, dateparser and langdetect data
        work()

    results: dict[str, list[tuple[float, float]]] = {name: [] for name in works}
    for _ in range(args.rounds):
        # Ours and the baseline take turns page by page: this machine's speed wanders over
        # seconds, and a drift then slows both sides alike instead of one whole round.
        sums = {"ours": [0.0, 0.0], "trafilatura": [0.0, 0.0]}
        for page in pages:
            for name, one in (("ours", ours_one), ("trafilatura", baseline_one)):
                wall, cpu = _timed(functools.partial(one, page))
                sums[name][0] += wall
                sums[name][1] += cpu
        for name, (wall, cpu) in sums.items():
            results[name].append((wall, cpu))
        for name in ("text dumps", "cleaner"):
            results[name].append(_timed(works[name]))

    print(f"{len(pages)} pages from {args.corpus / 'extraction'}, {len(dumps)} text dumps from")
    print(
        f"{args.corpus / 'plaintext'}, {args.rounds} rounds, median round; one process;"
        " ours and trafilatura take turns page by page"
    )
    print(
        "  ours: decode, extract (trafilatura with its fallback extractors and tables, as the"
        " service runs it), metadata, normalise, detect"
    )
    print(
        "  trafilatura: trafilatura.extract(raw bytes) at its defaults (fallback extractors"
        " on, tables on, no metadata)"
    )
    rates: dict[str, tuple[float, float]] = {}
    for name, runs in results.items():
        n = len(pages) if name in ("ours", "trafilatura") else len(dumps)
        if not n:
            continue
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        rates[name] = (n / wall, n / cpu)
        print(f"  {name:<12} {n / wall:6.1f} pages/s wall  {n / cpu:6.1f} pages/s CPU")
    print(
        f"  ratio ours/trafilatura: {rates['ours'][0] / rates['trafilatura'][0]:.2f} wall, "
        f"{rates['ours'][1] / rates['trafilatura'][1]:.2f} CPU"
    )
    print(f"goal (issue #14): ours >= {GOAL_PAGES_PER_S} pages/s on one core")


if __name__ == "__main__":
    main()
