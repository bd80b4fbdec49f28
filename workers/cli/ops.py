"""Operations: `stats`, `exporter`, `health`, `sources`."""

from __future__ import annotations

import argparse
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis

from service._redis import text
from service.settings import Settings
from workers.outbox import LIVE_QUEUES, QUEUES

from . import _options as opt
from . import sources
from ._common import app, client, emit, fail, stop_requested, with_redis


def snapshot(redis_client: Any, settings: Settings) -> dict[str, Any]:
    """What `stats` prints and the exporter serves: one read of Redis."""
    from service.consume import stream_stats_for
    from service.metrics import queue_depths, read_metrics

    queues = queue_depths(redis_client, settings.key_prefix, QUEUES)
    # Backfill's tasks (and the translations it hands on) wait in the Redis transport's
    # list for priority 9, after live work: count them with their queue.
    for queue in queues:
        queues[queue] += int(redis_client.llen(f"{settings.key_prefix}:celery:{queue}\x06\x169"))
    from service.sources import Registry

    return {
        "stream": stream_stats_for(redis_client, settings),
        "queues": queues,
        "metrics": read_metrics(redis_client, settings.key_prefix),
        "sources": Registry(redis_client, settings).overview(),
    }


def running_backfills(redis_client: Any, settings: Settings) -> list[dict[str, Any]]:
    """The backfills not finished yet, oldest first (`stats`)."""
    from service.archive import JobState

    jobs = JobState(redis_client, settings).jobs()
    return [job.as_dict() for job in jobs if not job.finished]


def _backfill_line(job: dict[str, Any]) -> str:
    share = 100 * job["scanned_bytes"] / job["size"] if job["size"] else 100.0
    dropped = ", ".join(f"{r} {n}" for r, n in job["dropped"].items()) or "none"
    return (
        f"backfill {job['job']} {job['status']}: {job['file']}\n"
        f"  scanned {job['scanned']} records ({share:.0f}% of {job['size']} bytes), "
        f"kept {job['kept']}, ingested {job['ingested']}, dead {job['dead']}, "
        f"ranges {job['ranges_done']}/{job['ranges']}, last progress {job['updated_at']}\n"
        f"  dropped: {dropped}"
    )


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    redis_client = client(settings)
    snap = snapshot(redis_client, settings)
    stats = snap["stream"]
    backfills = running_backfills(redis_client, settings)
    if args.json:
        metrics = dict(snap["metrics"])
        metrics["errors"] = {f"{s}|{r}": n for (s, r), n in metrics["errors"].items()}
        emit({**stats, "queues": snap["queues"], "metrics": metrics, "backfills": backfills,
              "sources": snap["sources"]})  # fmt: skip
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
    for job in backfills:
        print(_backfill_line(job))
    for source in snap["sources"]:
        print(sources.stats_line(source))
    for warning in stats["backpressure"]:
        print(f"WARNING: {warning}")
    return 0


def cmd_exporter(args: argparse.Namespace, settings: Settings) -> int:
    """Serve Prometheus metrics read from Redis on every scrape."""
    from prometheus_client import start_http_server
    from prometheus_client.core import REGISTRY

    from service.metrics import RedisCollector

    redis_client = client(settings)
    REGISTRY.register(RedisCollector(lambda: snapshot(redis_client, settings)))
    port = args.port or settings.metrics_port
    try:
        start_http_server(port, addr=args.bind)
    except OSError as exc:  # in use, no such address, not ours to bind
        fail(f"cannot serve metrics on {args.bind}:{port}: {exc.strerror or exc}")
        return 1
    print(f"newsingest: serving metrics on http://{args.bind}:{port}/metrics", flush=True)
    stopping = stop_requested()
    while not stopping.is_set():
        stopping.wait(0.5)
    return 0


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 only when Redis answers, the queues have consumers and the packages are there."""
    from service.models import find_package

    problems: list[str] = []
    try:
        settings = with_redis(settings)
        redis_client = redis.Redis.from_url(
            settings.redis_url, socket_connect_timeout=3, socket_timeout=3
        )
        redis_client.ping()
        print(f"ok    redis reachable at {_safe_url(settings.redis_url)}")
    except (SystemExit, redis.RedisError) as exc:
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
        beat = redis_client.get(f"{settings.key_prefix}:heartbeat")
        if beat is None:
            problems.append("no heartbeat in the last 5 minutes: beat or the ingest worker is down")
        else:
            print(f"ok    last heartbeat {text(beat)}")
    else:
        wanted = list(LIVE_QUEUES) if args.role == "all" else [args.role]
        destination = None if args.role == "all" else [f"{args.role}@{socket.gethostname()}"]
        inspect = app(settings).control.inspect(timeout=args.timeout, destination=destination)
        replies = inspect.active_queues()
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


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("stats", help="stream, groups, lag, queues, dead letters, stage metrics")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("exporter", help="serve Prometheus metrics read from Redis")
    p.add_argument("--port", type=opt.port, help="default: metrics_port (9464)")
    p.add_argument("--bind", default="0.0.0.0")
    p.set_defaults(func=cmd_exporter)

    p = sub.add_parser("health", help="exit non-zero when something needed is missing")
    p.add_argument("--role", choices=["all", "ingest", "translate", "beat"], default="all")
    p.add_argument("--timeout", type=opt.seconds(600, zero=False), default=3.0)
    p.set_defaults(func=cmd_health)

    sources.add_commands(sub)
