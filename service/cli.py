"""The ``newsingest`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import IngestError, ModelError
from .settings import Settings, get_settings

log = logging.getLogger("newsingest")


def refuse_insecure_redis(settings: Settings, url: str) -> None:
    """Exit before connecting when Redis is open to the network (service/safety.py)."""
    from .safety import check_redis_url

    if settings.allow_insecure_redis or not url:
        return
    problem = check_redis_url(url)
    if problem is not None:
        raise SystemExit(f"newsingest: {problem}")


def stop_requested() -> threading.Event:
    """An event set by SIGTERM or SIGINT, for the long-running commands."""
    event = threading.Event()

    def _set(signum: int, _frame: object) -> None:
        event.set()

    signal.signal(signal.SIGTERM, _set)
    signal.signal(signal.SIGINT, _set)
    return event


def _redis_url_file(settings: Settings) -> Path:
    return settings.data_dir / "redis.url"


def resolve_redis_url(settings: Settings) -> str:
    """REDIS_URL if configured, else the embedded Redis that `newsingest run` started."""
    if settings.redis_url:
        return settings.redis_url
    marker = _redis_url_file(settings)
    if marker.is_file():
        return marker.read_text().strip()
    raise SystemExit(
        "newsingest: no Redis configured. Set REDIS_URL, or start `newsingest run`, which "
        "starts an embedded Redis and records its address in " + str(marker)
    )


def _emit(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


# ---- run -----------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from .embedded import EmbeddedRedis
    from .models import install_from

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    embedded: EmbeddedRedis | None = None
    url = settings.redis_url
    refuse_insecure_redis(settings, url)
    if not url:
        embedded = EmbeddedRedis(settings.data_dir / "redis").start()
        url = embedded.url
        _redis_url_file(settings).write_text(url + "\n")
        print(
            f"newsingest: no REDIS_URL configured; started embedded Redis at {url} "
            f"(AOF persistence in {embedded.data_dir})",
            flush=True,
        )
    if settings.models_dir is not None:
        try:
            for pkg in install_from(settings.models_dir, settings.packages_dir):
                print(f"newsingest: translation package {pkg.package_id} ready", flush=True)
        except ModelError as exc:
            print(
                f"newsingest: WARNING: {exc}; documents will be published untranslated "
                "with translation.status=missing_model",
                flush=True,
            )

    env = dict(os.environ, REDIS_URL=url)
    roles: dict[str, list[str]] = {
        queue: _celery_argv(
            "worker",
            argparse.Namespace(queue=queue, concurrency=None, loglevel=args.loglevel),
            settings,
        )
        for queue in ("ingest", "translate")
    }
    roles["beat"] = _celery_argv("beat", args, settings)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    stopping = stop_requested()
    try:
        for role, cmd in roles.items():
            procs[role] = subprocess.Popen(cmd, env=env)
        print(f"newsingest: running {', '.join(roles)}; Ctrl-C or SIGTERM stops", flush=True)
        while not stopping.is_set():
            time.sleep(1)
            for role, proc in list(procs.items()):
                if proc.poll() is not None and not stopping.is_set():
                    print(
                        f"newsingest: {role} exited with {proc.returncode}; restarting", flush=True
                    )
                    time.sleep(2)
                    procs[role] = subprocess.Popen(roles[role], env=env)
    finally:
        # Celery's warm shutdown: finish running tasks; unacked ones return to the queue.
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=settings.task_time_limit + 10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if embedded is not None:
            embedded.stop()
            _redis_url_file(settings).unlink(missing_ok=True)
    return 0


def _celery_argv(role: str, args: argparse.Namespace, settings: Settings) -> list[str]:
    base = [sys.executable, "-m", "celery", "-A", "workers.app"]
    if role == "beat":
        schedule = settings.data_dir / "celerybeat-schedule"
        return base + ["beat", "-s", str(schedule), "--loglevel", args.loglevel]
    if args.queue == "translate":
        # Threads, not processes: the threads' documents meet in one batch (service/batcher.py)
        # and share one copy of the models. Scale out with more translate workers.
        pool = ["-P", "threads", "-c", str(args.concurrency or settings.translate_batch_max_docs)]
    else:
        pool = ["-c", str(args.concurrency or settings.ingest_concurrency)]
    return base + [
        "worker", "-Q", args.queue, "-n", f"{args.queue}@%h", *pool, "--loglevel", args.loglevel,
    ]  # fmt: skip


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """One Celery worker for one queue, in the foreground (what compose runs per service)."""
    refuse_insecure_redis(settings, settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    argv = _celery_argv("worker", args, settings)
    os.execv(argv[0], argv)


def cmd_beat(args: argparse.Namespace, settings: Settings) -> int:
    refuse_insecure_redis(settings, settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    argv = _celery_argv("beat", args, settings)
    os.execv(argv[0], argv)


# ---- submit / consume / get / dead -----------------------------------------------------


def cmd_submit(args: argparse.Namespace, settings: Settings) -> int:
    from .fetch import source_from_arg

    url = resolve_redis_url(settings)
    os.environ["REDIS_URL"] = url
    get_settings.cache_clear()
    from workers import outbox
    from workers.app import app

    client = _client(settings)
    status = 0
    for item in args.inputs:
        try:
            source = source_from_arg(item)
        except IngestError as exc:
            print(f"newsingest: {exc}", file=sys.stderr)
            status = 2
            continue
        if source.kind == "file" and not Path(source.location).is_file():
            print(f"newsingest: no such file: {item}", file=sys.stderr)
            status = 2
            continue
        data = source.as_dict()
        if args.lang:
            data["language_hint"] = args.lang
        task_id = outbox.send(app, client, settings, "newsingest.ingest", [data], "ingest")
        _emit({"task_id": task_id, "source": data})
    return status


def _client(settings: Settings) -> Any:
    from .store import connect

    return connect(resolve_redis_url(settings))


def _consumer(args: argparse.Namespace, settings: Settings) -> Any:
    from .consume import Consumer

    return Consumer(
        _client(settings),
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
        _emit(entry.document)
        if not args.no_ack:
            consumer.ack(entry.stream_id)
    return 0


def cmd_get(args: argparse.Namespace, settings: Settings) -> int:
    from .store import Store

    doc = Store(_client(settings), settings).get(args.id)
    if doc is None:
        print(f"newsingest: no document {args.id}", file=sys.stderr)
        return 1
    _emit(doc)
    return 0


def _dead_key(settings: Settings, which: str) -> str:
    return settings.dead_stream if which == "ingest" else settings.documents_dead_stream


def cmd_dead(args: argparse.Namespace, settings: Settings) -> int:
    from .store import _text

    client = _client(settings)
    key = _dead_key(settings, args.stream)
    entries = [
        (_text(sid), {_text(k): _text(v) for k, v in fields.items()})
        for sid, fields in client.xrange(key, count=args.count)
    ]
    if args.ids:
        entries = [e for e in entries if e[0] in set(args.ids)]
    if args.dead_cmd == "list":
        for sid, fields in entries:
            if args.stream == "documents" and "doc" in fields:
                fields["doc_id"] = fields.pop("id", "")
                fields.pop("doc")
            _emit({"dead_id": sid, **fields})
        return 0
    replayed = 0
    for sid, fields in entries:
        if args.stream == "ingest":
            os.environ["REDIS_URL"] = resolve_redis_url(settings)
            get_settings.cache_clear()
            from workers import outbox
            from workers.app import app

            outbox.send(
                app, client, settings, "newsingest.ingest", [json.loads(fields["input"])], "ingest"
            )
        else:
            client.xadd(
                settings.documents_stream,
                {"id": fields["id"], "version": fields["version"], "doc": fields["doc"],
                 "replayed_from": sid},
            )  # fmt: skip
        client.xdel(key, sid)
        replayed += 1
    print(f"newsingest: replayed {replayed} {args.stream} dead-letter entries", file=sys.stderr)
    return 0


def cmd_retranslate(args: argparse.Namespace, settings: Settings) -> int:
    """Queue stored documents with a given translation status for translation again."""
    from .models import installed_packages
    from .pipeline import article_from_document
    from .store import Store

    url = resolve_redis_url(settings)
    os.environ["REDIS_URL"] = url
    get_settings.cache_clear()
    from workers import outbox
    from workers.app import app

    client = _client(settings)
    languages = {
        p.from_code for p in installed_packages(settings.packages_dir) if p.to_code == "en"
    }
    queued = skipped = 0
    for doc in Store(client, settings).documents():
        if doc.get("translation", {}).get("status") != args.status:
            continue
        if doc["language"] not in languages:
            skipped += 1
            continue
        article = article_from_document(doc)
        outbox.send(app, client, settings, "newsingest.translate", [article.as_dict()], "translate")
        queued += 1
        if args.limit and queued >= args.limit:
            break
    print(
        f"newsingest: queued {queued} documents with translation.status={args.status}; "
        f"{skipped} skipped because no package for their language is installed here",
        file=sys.stderr,
    )
    return 0


QUEUES = ("ingest", "translate")


def snapshot(client: Any, settings: Settings) -> dict[str, Any]:
    """What `stats` prints and the exporter serves: one read of Redis."""
    from .consume import stream_stats_for
    from .metrics import queue_depths, read_metrics

    return {
        "stream": stream_stats_for(client, settings),
        "queues": queue_depths(client, settings.key_prefix, QUEUES),
        "metrics": read_metrics(client, settings.key_prefix),
    }


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    snap = snapshot(_client(settings), settings)
    stats = snap["stream"]
    if args.json:
        metrics = dict(snap["metrics"])
        metrics["errors"] = {f"{s}|{r}": n for (s, r), n in metrics["errors"].items()}
        _emit({**stats, "queues": snap["queues"], "metrics": metrics})
        return 0
    print(f"stream {stats['stream']}: {stats['length']} entries (cap {stats['cap']})")
    for group in stats["groups"]:
        print(
            f"  group {group['name']}: lag {group['lag']}, pending {group['pending']}, "
            f"consumers {group['consumers']}, last delivered {group['last_delivered_id']}"
        )
    for name, size in stats["dead"].items():
        print(f"dead letters ({name}): {size}")
    for queue, depth in snap["queues"].items():
        print(f"queue {queue}: {depth} waiting")
    m = snap["metrics"]
    for stage, count in sorted(m["counts"].items()):
        errors = sum(n for (s, _r), n in m["errors"].items() if s == stage)
        mean = m["seconds"].get(stage, 0.0) / count if count else 0.0
        print(f"stage {stage}: {count} runs, {errors} errors, mean {mean * 1000:.1f} ms")
    for (stage, reason), n in sorted(m["errors"].items()):
        print(f"  error {stage}/{reason}: {n}")
    chars, secs = m["translate"].get("chars", 0.0), m["translate"].get("seconds", 0.0)
    if secs:
        print(f"translation: {chars:.0f} chars in {secs:.1f} s = {chars / secs:.0f} chars/s")
    for warning in stats["backpressure"]:
        print(f"WARNING: {warning}")
    return 0


def cmd_exporter(args: argparse.Namespace, settings: Settings) -> int:
    """Serve Prometheus metrics read from Redis on every scrape."""
    from prometheus_client import start_http_server
    from prometheus_client.core import REGISTRY

    from .metrics import RedisCollector

    client = _client(settings)
    REGISTRY.register(RedisCollector(lambda: snapshot(client, settings)))
    port = args.port or settings.metrics_port
    start_http_server(port, addr=args.bind)
    print(f"newsingest: serving metrics on http://{args.bind}:{port}/metrics", flush=True)
    stopping = stop_requested()
    while not stopping.is_set():
        stopping.wait(0.5)
    return 0


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 only when Redis answers, the queues have consumers and the packages are there."""
    import socket

    from .models import find_package

    problems: list[str] = []
    try:
        url = resolve_redis_url(settings)
        client = connect_once(url)
        client.ping()
        print(f"ok    redis reachable at {_safe_url(url)}")
    except (SystemExit, Exception) as exc:  # noqa: BLE001 - any failure is the answer
        print(f"FAIL  redis unreachable: {exc}")
        return 1

    if args.role in ("all", "translate"):
        for lang in settings.required_languages.split():
            if find_package(settings.packages_dir, lang, "en") is None:
                problems.append(
                    f"translation package {lang}->en missing in {settings.packages_dir}"
                )
            else:
                print(f"ok    translation package {lang}->en installed")

    if args.role == "beat":
        beat = client.get(f"{settings.key_prefix}:heartbeat")
        if beat is None:
            problems.append("no heartbeat in the last 5 minutes: beat or the ingest worker is down")
        else:
            print(f"ok    last heartbeat {beat.decode()}")
    else:
        os.environ["REDIS_URL"] = url
        get_settings.cache_clear()
        from workers.app import app

        wanted = list(QUEUES) if args.role == "all" else [args.role]
        destination = None if args.role == "all" else [f"{args.role}@{socket.gethostname()}"]
        replies = app.control.inspect(timeout=args.timeout, destination=destination).active_queues()
        consuming = {q["name"] for queues in (replies or {}).values() for q in queues}
        for queue in wanted:
            if queue in consuming:
                print(f"ok    queue {queue} has a consumer")
            else:
                where = "" if destination is None else f" ({destination[0]})"
                problems.append(f"queue {queue} has no consumer{where}")
    for problem in problems:
        print(f"FAIL  {problem}")
    return 1 if problems else 0


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def connect_once(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)


# ---- in-process commands ----------------------------------------------------------------


def cmd_process(args: argparse.Namespace, settings: Settings) -> int:
    from .fetch import source_from_arg
    from .models import install_from
    from .pipeline import Pipeline

    if settings.models_dir is not None and not args.no_translate:
        try:
            install_from(settings.models_dir, settings.packages_dir)
        except ModelError as exc:
            print(f"newsingest: WARNING: {exc}", file=sys.stderr)
    pipeline = Pipeline(settings)
    status = 0
    for item in args.inputs:
        try:
            doc = pipeline.process(source_from_arg(item), translate=not args.no_translate)
        except IngestError as exc:
            print(f"newsingest: {item}: {exc.reason}: {exc.message}", file=sys.stderr)
            status = 1
            continue
        _emit(doc.as_dict())
    return status


def cmd_detect(args: argparse.Namespace, settings: Settings) -> int:
    from .language import detect

    for line in sys.stdin:
        text = line.rstrip("\n")
        result = detect(text, seed=settings.langdetect_seed)
        sys.stdout.write(f"{result.language}\t{result.confidence:.4f}\n")
    sys.stdout.flush()
    return 0


def cmd_translate(args: argparse.Namespace, settings: Settings) -> int:
    from .errors import TranslationError
    from .pipeline import make_engine

    engine = make_engine(settings)
    lines = [line.rstrip("\n") for line in sys.stdin]
    try:
        out = engine.translate_sentences(args.source_lang, lines)
    except TranslationError as exc:
        print(
            f"newsingest: {exc.message} (install one with `newsingest models install PATH`)",
            file=sys.stderr,
        )
        return 3
    for line in out:
        sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return 0


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from . import sources as feeds

    try:
        configs = feeds.configured_sources(settings)
        if args.sources_cmd == "list":
            for config in configs:
                _emit(config.as_dict())
            return 0
        config = feeds.find_source(configs, args.name)
    except IngestError as exc:
        print(f"newsingest: {exc.message}", file=sys.stderr)
        return 2
    enqueue = None
    if not args.dry_run:
        os.environ["REDIS_URL"] = resolve_redis_url(settings)
        get_settings.cache_clear()
        from workers import outbox
        from workers.app import app

        client = _client(settings)

        def enqueue(source: Any) -> None:
            outbox.send(app, client, settings, "newsingest.ingest", [source.as_dict()], "ingest")

    try:
        result = feeds.poll(
            config, _client(settings), settings, enqueue=enqueue, dry_run=args.dry_run
        )
    except IngestError as exc:
        print(f"newsingest: {config.name}: {exc.message} ({exc.reason})", file=sys.stderr)
        return 1
    _emit(result.as_dict())
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from . import evaluate

    # The report goes to stderr when stdout carries the JSON numbers.
    out = sys.stderr if args.json else sys.stdout
    try:
        result = evaluate.run(
            args.kind,
            Path(args.corpus_dir),
            settings,
            limit=args.limit,
            out=out,
            progress=sys.stderr.isatty(),
        )
    except (ValueError, FileNotFoundError) as exc:
        print(f"newsingest: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0


# One short news-like sentence per source language, for `models verify`.
CANARIES = {
    "zh": "中国海关总署周二公布的数据显示，今年前七个月进出口总值同比增长百分之三。",
    "ko": "정부는 22일 내년 경제성장률 전망치를 2.1%로 상향 조정했다고 밝혔다.",
    "ja": "政府は22日、来年度の経済成長率の見通しを引き上げたと発表した。",
}


def _verify_packages(packages: list[Any], settings: Settings) -> int:
    """Translate a canary sentence with each package: it loads, it answers, how fast."""
    from .pipeline import make_engine

    if not packages:
        print(f"newsingest: no translation packages installed in {settings.packages_dir}",
              file=sys.stderr)  # fmt: skip
        return 1
    engine = make_engine(settings)
    status = 0
    for pkg in packages:
        canary = CANARIES.get(pkg.from_code, "The government raised its growth forecast.")
        started = time.perf_counter()
        try:
            [out] = engine.translate_sentences(pkg.from_code, [canary])
            ok = bool(out.strip()) and out.strip() != canary
        except Exception as exc:  # noqa: BLE001 - a broken package is the answer
            out, ok = f"{type(exc).__name__}: {exc}", False
        seconds = time.perf_counter() - started
        speed = round(len(canary) / seconds, 1)
        _emit({**pkg.as_dict(), "ok": ok, "canary": canary, "output": out,
               "seconds": round(seconds, 3), "chars_per_s": speed})  # fmt: skip
        status |= 0 if ok else 1
    return status


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from .models import install_from, installed_packages

    if args.models_cmd == "install":
        try:
            for pkg in install_from(Path(args.path), settings.packages_dir):
                _emit({"installed": pkg.as_dict()})
        except ModelError as exc:
            print(f"newsingest: {exc.message}", file=sys.stderr)
            return 1
        return 0
    packages = installed_packages(settings.packages_dir)
    if args.models_cmd == "verify":
        return _verify_packages(packages, settings)
    if not packages:
        print(
            f"newsingest: no translation packages installed in {settings.packages_dir}",
            file=sys.stderr,
        )
    for pkg in packages:
        _emit(pkg.as_dict())
    return 0


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    from .document import schema

    print(json.dumps(schema(), indent=2, ensure_ascii=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsingest", description="Multilingual news ingestion (ko, zh, en)."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run ingest and translate workers plus beat")
    p.add_argument("--loglevel", default="info")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("worker", help="run one Celery worker for one queue")
    p.add_argument("--queue", choices=["ingest", "translate"], required=True)
    p.add_argument("--concurrency", type=int)
    p.add_argument("--loglevel", default="info")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("beat", help="run the Celery beat scheduler (exactly one per deployment)")
    p.add_argument("--loglevel", default="info")
    p.set_defaults(func=cmd_beat)

    p = sub.add_parser("submit", help="enqueue URLs or files for ingestion")
    p.add_argument("inputs", nargs="+", metavar="URL|PATH")
    p.add_argument("--lang", help="language hint for the inputs")
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("consume", help="read documents from the stream in a consumer group")
    p.add_argument("--group", required=True)
    p.add_argument("--consumer")
    p.add_argument("--count", type=int, help="stop after N documents")
    p.add_argument("--wait", type=float, help="stop after this many seconds with nothing new")
    p.add_argument("--no-ack", action="store_true", help="leave the entries pending")
    p.add_argument(
        "--from", dest="start", help="replay from a stream id or an ISO-8601 time (moves the group)"
    )
    p.set_defaults(func=cmd_consume)

    p = sub.add_parser("get", help="print one stored document by id")
    p.add_argument("id")
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("dead", help="list or replay dead-letter entries")
    p.add_argument("dead_cmd", choices=["list", "replay"], nargs="?", default="list")
    p.add_argument("ids", nargs="*", help="dead-letter entry ids (default: all, up to --count)")
    p.add_argument(
        "--stream", choices=["ingest", "documents"], default="ingest",
        help="ingest failures (default) or poison entries from consumer groups",
    )  # fmt: skip
    p.add_argument("--count", type=int, default=100)
    p.set_defaults(func=cmd_dead)

    p = sub.add_parser("retranslate", help="re-queue stored documents for translation")
    p.add_argument(
        "--status", default="missing_model", choices=["missing_model", "failed", "skipped"]
    )
    p.add_argument("--limit", type=int)
    p.set_defaults(func=cmd_retranslate)

    p = sub.add_parser("stats", help="stream, groups, lag, queues, dead letters, stage metrics")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("exporter", help="serve Prometheus metrics read from Redis")
    p.add_argument("--port", type=int)
    p.add_argument("--bind", default="0.0.0.0")
    p.set_defaults(func=cmd_exporter)

    p = sub.add_parser("health", help="exit non-zero when something needed is missing")
    p.add_argument("--role", choices=["all", "ingest", "translate", "beat"], default="all")
    p.add_argument("--timeout", type=float, default=3.0)
    p.set_defaults(func=cmd_health)

    p = sub.add_parser("process", help="run the whole pipeline in-process, no Redis")
    p.add_argument("inputs", nargs="+", metavar="PATH|URL")
    p.add_argument("--no-translate", action="store_true")
    p.set_defaults(func=cmd_process)

    p = sub.add_parser("detect", help="detect the language of each stdin line")
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("translate", help="translate each stdin line to English")
    p.add_argument("--from", dest="source_lang", required=True, choices=["zh", "ko"])
    p.set_defaults(func=cmd_translate)

    p = sub.add_parser("eval", help="measure extraction, language ID or translation on a corpus")
    p.add_argument("kind", choices=("extraction", "langid", "translation"))
    p.add_argument("corpus_dir", help="a directory laid out like ../shared/corpus")
    p.add_argument("--limit", type=int)
    p.add_argument("--json", action="store_true", help="print the numbers as JSON on stdout")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("sources", help="list the feeds and sitemaps, or poll one now")
    ssub = p.add_subparsers(dest="sources_cmd", required=True)
    ssub.add_parser("list")
    sp = ssub.add_parser("poll")
    sp.add_argument("name")
    sp.add_argument(
        "--dry-run", action="store_true", help="show what is new; enqueue and remember nothing"
    )
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("models", help="list or install translation packages")
    msub = p.add_subparsers(dest="models_cmd", required=True)
    msub.add_parser("list")
    msub.add_parser("verify", help="translate a canary sentence with each package")
    mi = msub.add_parser("install")
    mi.add_argument("path", help="an .argosmodel file or a directory of them")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("schema", help="print the document JSON Schema")
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .logs import configure

    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"newsingest: {exc}", file=sys.stderr)
        return 2
    configure(settings.log_level)
    result: int = args.func(args, settings)
    return result


if __name__ == "__main__":
    sys.exit(main())
