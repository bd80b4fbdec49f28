"""Producing and reading the queue: `submit`, `consume`, `get`, `dead`, `retranslate`."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, cast

from service.errors import IngestError
from service.settings import Settings

from . import _options as opt
from ._common import app, client, emit, fail, with_redis

# `dead list` holds what it lists in memory; `consume --count` and `retranslate --limit` stop
# after so many and hold none.
MAX_LISTED = 100_000
MAX_COUNT = 1_000_000_000


def cmd_submit(args: argparse.Namespace, settings: Settings) -> int:
    """Enqueue each input; a file is checked here as a worker will check it (a regular file
    under ``file_roots``), so that a bad one is a line now rather than a dead letter later.
    A WARC file (told by its first bytes, not its name) becomes a backfill of all its pages
    (`newsingest backfill` has the filters and the progress bar)."""
    from service.archive import Filters, warc_format
    from service.fetch import check_file, source_from_arg

    from .backfill import start

    producer = app(settings).producer
    status = 0
    for item in args.inputs:
        try:
            source = source_from_arg(item)
            if source.kind == "file":
                check_file(source.location, settings.file_root_paths)
        except IngestError as exc:
            fail(f"{item}: {exc.reason}: {exc.message}")
            status = 2
            continue
        if source.kind == "file" and warc_format(source.location) is not None:
            filters = Filters(
                scan_bytes=settings.backfill_lang_scan_bytes, language_hint=args.lang or None
            )
            started, problems = start(settings, [source.location], filters)
            for problem in problems:
                fail(problem)
                status = 2
            for job in started:
                emit({"backfill": job.job, "file": job.file, "new": job.new})
            continue
        data = source.as_dict()
        if args.lang:
            data["language_hint"] = args.lang
        emit({"task_id": producer.ingest(data), "source": data})
    return status


def _consumer(args: argparse.Namespace, settings: Settings) -> Any:
    from service.consume import Consumer

    return Consumer(
        client(settings),
        settings.documents_stream,
        args.group,
        args.consumer or f"{os.uname().nodename}-{os.getpid()}",
        start=args.start or "0",
        dead_stream=settings.documents_dead_stream,
        max_deliveries=settings.consumer_max_deliveries,
        reclaim_idle_ms=settings.consumer_reclaim_idle_ms,
    )


def cmd_consume(args: argparse.Namespace, settings: Settings) -> int:
    consumer = _consumer(args, settings)
    if args.start:
        consumer.replay_from(args.start)
    idle = None if args.wait is None else int(args.wait * 1000)
    for entry in consumer.iterate(limit=args.count, block_ms=1000, idle_exit_ms=idle):
        emit(entry.document)
        if not args.no_ack:
            consumer.ack(entry.stream_id)
    return 0


def cmd_get(args: argparse.Namespace, settings: Settings) -> int:
    from service.store import Store

    store = Store(client(settings), settings)
    doc = store.get(args.id)
    if doc is None:
        gone = store.tombstone(args.id)
        if gone is not None:
            fail(
                f"document {args.id} (version {gone['version']}) has left the stream's retention; "
                "only documents whose latest entry is in the stream are kept (docs/stream.md)"
            )
        else:
            fail(f"no document {args.id}")
        return 1
    emit(doc)
    return 0


def _dead_entries(args: argparse.Namespace, settings: Settings) -> list[tuple[str, dict[str, str]]]:
    """The entries named by id (anywhere in the stream), or the first ``--count``."""
    from service._redis import text

    redis_client = client(settings)
    key = settings.dead_stream if args.stream == "ingest" else settings.documents_dead_stream
    raw: list[Any]
    if args.ids:
        raw = [e for sid in args.ids for e in cast(list[Any], redis_client.xrange(key, sid, sid))]
        missing = set(args.ids) - {text(sid) for sid, _ in raw}
        for sid in sorted(missing):
            fail(f"no dead-letter entry {sid} in {key}")
    else:
        raw = cast(list[Any], redis_client.xrange(key, count=args.count))
    return [(text(sid), {text(k): text(v) for k, v in fields.items()}) for sid, fields in raw]


def cmd_dead(args: argparse.Namespace, settings: Settings) -> int:
    entries = _dead_entries(args, settings)
    if args.dead_cmd == "list":
        for sid, fields in entries:
            if args.stream == "documents" and "doc" in fields:
                fields["doc_id"] = fields.pop("id", "")
                fields.pop("doc")
            emit({"dead_id": sid, **fields})
        return 0
    redis_client = client(settings)
    key = settings.dead_stream if args.stream == "ingest" else settings.documents_dead_stream
    producer = app(settings).producer if args.stream == "ingest" else None
    replayed = 0
    for sid, fields in entries:
        if producer is not None:
            producer.replay(json.loads(fields["input"]))
        else:
            redis_client.xadd(
                settings.documents_stream,
                {"id": fields["id"], "version": fields["version"], "doc": fields["doc"],
                 "replayed_from": sid},
            )  # fmt: skip
        redis_client.xdel(key, sid)
        replayed += 1
    fail(f"replayed {replayed} {args.stream} dead-letter entries")
    return 0


def cmd_retranslate(args: argparse.Namespace, settings: Settings) -> int:
    """Queue stored documents with a given translation status for translation again."""
    from service.models import installed_packages
    from service.records import Article
    from service.store import Store

    settings = with_redis(settings)
    producer = app(settings).producer
    languages = {
        p.from_code for p in installed_packages(settings.packages_dir) if p.to_code == "en"
    }
    queued = skipped = 0
    for doc in Store(client(settings), settings).documents():
        if doc.get("translation", {}).get("status") != args.status:
            continue
        if doc["language"] not in languages:
            skipped += 1
            continue
        producer.translate(Article.from_document(doc).as_dict())
        queued += 1
        if args.limit and queued >= args.limit:
            break
    fail(
        f"queued {queued} documents with translation.status={args.status}; "
        f"{skipped} skipped because no package for their language is installed here"
    )
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("submit", help="enqueue URLs or files for ingestion")
    p.add_argument("inputs", nargs="+", metavar="URL|PATH")
    p.add_argument(
        "--lang", type=opt.language, help="language hint for the inputs (a prior for detection)"
    )
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("consume", help="read documents from the stream in a consumer group")
    p.add_argument("--group", required=True)
    p.add_argument("--consumer")
    p.add_argument("--count", type=opt.count(MAX_COUNT), help="stop after N documents")
    p.add_argument(
        "--wait",
        type=opt.seconds(31_536_000),
        help="stop after this many seconds with nothing new",
    )
    p.add_argument("--no-ack", action="store_true", help="leave the entries pending")
    p.add_argument(
        "--from",
        dest="start",
        type=opt.stream_position,
        help="replay from a stream id or an ISO-8601 time (moves the group)",
    )
    p.set_defaults(func=cmd_consume)

    p = sub.add_parser("get", help="print one stored document by id")
    p.add_argument("id")
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("dead", help="list or replay dead-letter entries")
    p.add_argument("dead_cmd", choices=["list", "replay"], nargs="?", default="list")
    p.add_argument(
        "ids",
        nargs="*",
        type=opt.stream_id,
        help="dead-letter entry ids (default: all, up to --count)",
    )
    p.add_argument(
        "--stream", choices=["ingest", "documents"], default="ingest",
        help="ingest failures (default) or poison entries from consumer groups",
    )  # fmt: skip
    p.add_argument("--count", type=opt.count(MAX_LISTED), default=100)
    p.set_defaults(func=cmd_dead)

    p = sub.add_parser("retranslate", help="re-queue stored documents for translation")
    p.add_argument(
        "--status", default="missing_model", choices=["missing_model", "failed", "skipped"]
    )
    p.add_argument("--limit", type=opt.count(MAX_COUNT))
    p.set_defaults(func=cmd_retranslate)
