"""Scanning and prefiltering a WARC file, per core, against the WARC libraries' own speed.

Writes a synthetic WARC in a temporary directory from the shared corpus's pages (each page
``--copies`` times under its own URL, plus a request record for every fourth page and a 404
and a revisit for every tenth, as a crawl holds them), once gzipped a member per record (as
CC-NEWS is) and once plain. Then, on one core (the process is pinned to one CPU), for each:

- ``fastwarc raw``: FastWARC's ArchiveIterator over every record, HTTP headers parsed: the
  baseline (the library alone, with its own gzip inflater);
- ``warcio raw``: warcio's ArchiveIterator over the same records (the other candidate);
- ``inflate raw`` (.warc.gz only): every gzip member inflated, and nothing else, with the
  inflater the scan uses (ISA-L's igzip, service/archive/_members.py): the floor;
- ``scan``: our scan (service/archive/_scan.py): each record's WARC and HTTP headers;
- ``scan+prefilter``: the scan and the prefilters of ``backfill --lang ko,zh --hosts H
  --since D`` (8 KiB of payload read per record for the language test);

and prints records/s (best of ``--repeat`` rounds, the runs taking turns) and the ratio to
the baseline.

    python -m benchmarks.warc [--copies 6] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastwarc.warc import ArchiveIterator as FastIterator
from isal import isal_zlib
from warcio.archiveiterator import ArchiveIterator as WarcioIterator

from devtools.warcs import Record, corpus_pages, write_warc
from service.archive import Filters, scan
from service.archive._members import INFLATER
from service.settings import load_settings

GOAL = 5000


def build(path: Path, copies: int, *, compressed: bool) -> tuple[int, int]:
    """The synthetic WARC; (records, responses with a page)."""
    pages = corpus_pages()
    records: list[Record] = []
    n = 0
    for copy in range(copies):
        for page in pages:
            url = f"https://news{n % 50}.example/{copy}/{n}.html"
            if n % 4 == 0:
                records.append(Record(url, b"", kind="request", http=False))
            records.append(Record(url, page.path.read_bytes()))
            if n % 10 == 0:
                records.append(Record(url + "?gone", b"<p>gone</p>", status=404))
                records.append(Record(url, b"", kind="revisit"))
            n += 1
    write_warc(path, records, gzip=compressed)
    return len(records), n


def fastwarc_raw(path: Path) -> int:
    with path.open("rb", buffering=0) as fh:
        return sum(1 for _ in FastIterator(fh, parse_http=True))


def warcio_raw(path: Path) -> int:
    with path.open("rb") as fh:
        count = 0
        for record in WarcioIterator(fh):
            count += 1
            record.rec_headers.get_header("WARC-Target-URI")
        return count


def inflate_raw(path: Path) -> int:
    """Members inflated one after another in 16 KiB pieces, output thrown away."""
    members = 0
    with path.open("rb", buffering=0) as fh:
        inflater = isal_zlib.decompressobj(wbits=31)
        while data := fh.read(1 << 20):
            view, at = memoryview(data), 0
            while at < len(view):
                piece = view[at : at + 16384]
                inflater.decompress(piece)
                if inflater.eof:
                    at += len(piece) - len(inflater.unused_data)
                    members += 1
                    inflater = isal_zlib.decompressobj(wbits=31)
                else:
                    at += len(piece)
    return members


def our_scan(path: Path) -> int:
    return sum(1 for _ in scan(str(path)))


def scan_prefilter(filters: Filters) -> Callable[[Path], int]:
    def run(path: Path) -> int:
        count = 0
        for head in scan(str(path), prefix_bytes=filters.prefix_bytes):
            count += 1
            filters.drop_reason(head)  # type: ignore[arg-type]
        return count

    return run


def best_rates(
    runs: list[tuple[str, Callable[[Path], int]]], path: Path, repeat: int
) -> dict[str, float]:
    """records/s of each run, best of ``repeat`` rounds; the runs take turns within a round,
    so that a busy spell on a shared machine slows them alike."""
    best = dict.fromkeys((name for name, _ in runs), float("inf"))
    counts: dict[str, int] = {}
    for _ in range(repeat):
        for name, run in runs:
            started = time.perf_counter()
            counts[name] = run(path)
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: counts[name] / best[name] for name, _ in runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    settings = load_settings()
    hosts = frozenset(f"news{i}.example" for i in range(0, 50, 2))
    filters = Filters(
        languages=frozenset({"ko", "zh"}),
        hosts=hosts,
        since="2024-01-01T00:00:00Z",
        scan_bytes=settings.backfill_lang_scan_bytes,
    )
    runs: list[tuple[str, Callable[[Path], int]]] = [
        ("fastwarc raw", fastwarc_raw),
        ("warcio raw", warcio_raw),
        ("inflate raw", inflate_raw),
        ("scan", our_scan),
        ("scan+prefilter", scan_prefilter(filters)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for compressed in (True, False):
            path = Path(tmp) / ("synthetic.warc.gz" if compressed else "synthetic.warc")
            total, responses = build(path, args.copies, compressed=compressed)
            size = path.stat().st_size
            print(
                f"\n{path.name}: {total} records ({responses} pages), {size / 1e6:.1f} MB, "
                f"{size / total / 1024:.1f} KiB a record on disk; one core"
                + (f"; the scan inflates with {INFLATER}" if compressed else "")
            )
            print(f"{'run':<16} {'records/s':>10} {'MB/s':>8} {'vs fastwarc':>12}")
            chosen = [(n, r) for n, r in runs if compressed or n != "inflate raw"]
            rates = best_rates(chosen, path, args.repeat)
            baseline = rates["fastwarc raw"]
            for name, rate in rates.items():
                mbps = rate * size / total / 1e6
                print(f"{name:<16} {rate:>10.0f} {mbps:>8.0f} {rate / baseline:>11.2f}x")
            print(f"goal: scan+prefilter >= {GOAL} records/s per core")


if __name__ == "__main__":
    main()
