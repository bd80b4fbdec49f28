"""`backfill`: ingest web archives (WARC files, e.g. Common Crawl's CC-NEWS) through the
workers, with prefilters and a progress bar. `submit FILE.warc.gz` starts the same work for
one file (queue.py); `stats` lists the backfills that are running (ops.py)."""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.errors import IngestError
from service.settings import Settings

from . import _options as opt
from ._common import app, client, emit, fail

_GLOB_CHARS = frozenset("*?[")
# A list file longer than this is refused (a typo naming a huge file, not a list).
MAX_LIST_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Started:
    file: str
    job: str
    new: bool  # False: this file under these filters was backfilled (or is being) already


def expand(items: list[str]) -> tuple[list[str], list[str]]:
    """FILE, GLOB or LIST (a text file naming one file per line; relative names are taken
    from the list's directory; ``-`` reads the list from stdin) as paths, and problems."""
    from service.archive import warc_format

    paths: list[str] = []
    problems: list[str] = []
    for item in items:
        if item == "-":
            paths += _list_lines(sys.stdin.read(), Path.cwd())
        elif _GLOB_CHARS & set(item):
            found = sorted(glob.glob(os.path.expanduser(item), recursive=True))
            if not found:
                problems.append(f"{item}: no file matches")
            paths += found
        elif os.path.isfile(item) and warc_format(item) is None:
            if os.path.getsize(item) > MAX_LIST_BYTES:
                problems.append(f"{item}: neither a WARC file nor a list of files")
                continue
            text = Path(item).read_text(encoding="utf-8", errors="replace")
            paths += _list_lines(text, Path(item).resolve().parent)
        else:
            paths.append(item)
    return paths, problems


def _list_lines(text: str, base: Path) -> list[str]:
    out = []
    for line in text.splitlines():
        name = line.strip()
        if name and not name.startswith("#"):
            out.append(str(base / os.path.expanduser(name)))
    return out


def start(
    settings: Settings, paths: list[str], filters: Any, *, again: bool = False
) -> tuple[list[Started], list[str]]:
    """A backfill job per WARC file, each scan sent to the backfill queue; a file already
    backfilled under the same filters adds nothing (``again``: its state is dropped first,
    so it is scanned from the start; documents already published are not published twice)."""
    from service.archive import JobState, file_identity, job_id, scan_payload, warc_format
    from service.fetch import check_file

    state = JobState(client(settings), settings)
    producer = app(settings).producer
    started: list[Started] = []
    problems: list[str] = []
    for path in paths:
        real = os.path.realpath(os.path.expanduser(path))
        try:
            st = check_file(real, settings.file_root_paths)
        except IngestError as exc:
            problems.append(f"{path}: {exc.reason}: {exc.message}")
            continue
        fmt = warc_format(real)
        if fmt is None:
            problems.append(f"{path}: not_warc: not a WARC file (nor a gzip member holding one)")
            continue
        job = job_id(file_identity(real), filters)
        if again:
            state.forget(job)
        new = state.create(job, real, st.st_size, fmt, filters)
        if new:
            producer.backfill(scan_payload(job, real))
        started.append(Started(real, job, new))
    return started, problems


def filters_from(args: argparse.Namespace, settings: Settings) -> Any:
    from service.archive import Filters, parse_hosts

    hosts: frozenset[str] = frozenset()
    if args.hosts:
        try:
            text = Path(args.hosts).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise SystemExit(f"newsingest: --hosts {args.hosts}: {exc.strerror}") from None
        hosts = parse_hosts(text)
        if not hosts:
            raise SystemExit(f"newsingest: {args.hosts} names no host")
    return Filters(
        languages=frozenset(args.lang or ()),
        hosts=hosts,
        since=args.since,
        until=args.until,
        scan_bytes=settings.backfill_lang_scan_bytes,
    )


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    paths, problems = expand(args.inputs)
    filters = filters_from(args, settings)
    started, more = start(settings, paths, filters, again=args.again)
    for problem in problems + more:
        fail(problem)
    for item in started:
        if not item.new:
            fail(f"{item.file}: backfilled already under these filters (job {item.job}); "
                 "nothing added (--again scans it anew)")  # fmt: skip
    if not started:
        return 2
    status = 2 if problems or more else 0
    if args.no_wait:
        for item in started:
            emit({"job": item.job, "file": item.file, "new": item.new})
        return status
    try:
        watch(settings, [s.job for s in started], interval=args.interval)
    except KeyboardInterrupt:
        fail("stopped watching; the backfill goes on in the workers (`newsingest stats`)")
        return 130
    return status


def watch(settings: Settings, jobs: list[str], *, interval: float = 1.0) -> None:
    """Two bars until every job is done: bytes scanned, and records ingested of those kept
    (dead letters included), with the counts and the ingest rate; then one line per job."""
    from tqdm import tqdm

    from service.archive import JobState

    state = JobState(client(settings), settings)
    tty = sys.stderr.isatty()
    first = [p for p in (state.read(j) for j in jobs) if p is not None]
    total_bytes = sum(p.size for p in first) or 1
    scan_bar = tqdm(total=total_bytes, desc="scanned ", unit="B", unit_scale=True,
                    file=sys.stderr, disable=not tty, position=0)  # fmt: skip
    ingest_bar = tqdm(total=0, desc="ingested", unit="rec", file=sys.stderr,
                      disable=not tty, position=1)  # fmt: skip
    started_at = time.monotonic()
    last_line = 0.0
    try:
        while True:
            progress = [p for p in (state.read(j) for j in jobs) if p is not None]
            scanned = sum(p.scanned for p in progress)
            kept = sum(p.kept for p in progress)
            done_records = sum(p.ingested + p.dead for p in progress)
            dead = sum(p.dead for p in progress)
            rate = done_records / max(time.monotonic() - started_at, 1e-6)
            scan_bar.n = min(total_bytes, sum(p.scan_offset for p in progress))
            scan_bar.set_postfix_str(f"{scanned} records, {kept} kept", refresh=False)
            ingest_bar.total = max(kept, done_records)
            ingest_bar.n = done_records
            ingest_bar.set_postfix_str(f"{dead} dead, {rate:.1f} rec/s", refresh=False)
            scan_bar.refresh()
            ingest_bar.refresh()
            finished = all(p.finished for p in progress) and len(progress) == len(jobs)
            if not tty and (finished or time.monotonic() - last_line >= 10 * interval):
                last_line = time.monotonic()
                print(
                    f"newsingest: backfill: scanned {scanned} records "
                    f"({100 * scan_bar.n / total_bytes:.0f}% of bytes), kept {kept}, "
                    f"ingested {done_records - dead}, dead {dead}, {rate:.1f} rec/s",
                    file=sys.stderr,
                    flush=True,
                )
            if finished:
                break
            time.sleep(interval)
    finally:
        scan_bar.close()
        ingest_bar.close()
    for job in jobs:
        final = state.read(job)
        if final is not None:
            emit(final.as_dict())


def _lang_list(text: str) -> list[str]:
    codes = [c.strip().lower() for c in text.split(",") if c.strip()]
    for code in codes:
        opt.language(code)
    if not codes:
        raise argparse.ArgumentTypeError("name at least one language, e.g. ko,zh")
    return [c.split("-")[0].split("_")[0][:2] for c in codes]


def _moment(text: str) -> str:
    from service.archive import utc_bound

    try:
        return utc_bound(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO-8601 date or time (like 2024-01-31 or 2024-01-31T12:00:00Z): {text!r}"
        ) from None


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "backfill",
        help="ingest WARC files (CC-NEWS, ...) through the workers, with prefilters",
        description="Each file is scanned once by a worker (records filtered by their "
        "headers and first bytes), and the records kept are ingested by many tasks on the "
        "backfill queue, after live work. Running it again adds nothing.",
    )
    p.add_argument(
        "inputs", nargs="+", metavar="FILE|GLOB|LIST",
        help="WARC files (.warc.gz or .warc, told by content), globs, or text files listing "
        "one file per line (- reads the list from stdin)",
    )  # fmt: skip
    p.add_argument("--lang", type=_lang_list, help="keep pages in these languages: ko,zh")
    p.add_argument("--hosts", metavar="FILE", help="keep only these hosts (one per line)")
    p.add_argument("--since", type=_moment, help="keep records with WARC-Date at or after")
    p.add_argument("--until", type=_moment, help="keep records with WARC-Date before")
    p.add_argument("--no-wait", action="store_true", help="start the work and return")
    p.add_argument(
        "--again", action="store_true",
        help="scan files already backfilled anew (published documents are not added twice)",
    )  # fmt: skip
    p.add_argument("--interval", type=opt.seconds(60, zero=False), default=1.0,
                   help=argparse.SUPPRESS)  # fmt: skip
    p.set_defaults(func=cmd_backfill)
