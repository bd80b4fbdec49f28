"""Running the service: `run` (everything, embedded Redis by default), `worker`, `beat`,
and `celery` (Celery's own commands, e.g. flower or inspect, on our app)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from service.errors import ModelError
from service.settings import Settings

from . import _options as opt
from ._common import (
    redis_url_file,
    refuse_broken_glossary,
    refuse_insecure_redis,
    stop_requested,
)


def worker_argv(
    queue: str,
    *,
    concurrency: int | None = None,
    loglevel: str = "info",
    name: str | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """The command line of one worker process (what `run` starts per queue)."""
    argv = [sys.executable, "-m", "workers.cli", "worker", "--queue", queue, "--loglevel", loglevel]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    if name:
        argv += ["--name", name]
    return [*argv, "--", *extra] if extra else argv


def beat_argv(loglevel: str = "info") -> list[str]:
    return [sys.executable, "-m", "workers.cli", "beat", "--loglevel", loglevel]


def celery_worker_args(args: argparse.Namespace, settings: Settings) -> list[str]:
    """Celery's `worker` arguments for one of our queues."""
    if args.queue == "translate":
        # Threads, not processes: the threads' documents meet in one batch (service/batcher.py)
        # and share one copy of the models. Scale out with more translate workers.
        pool = ["-P", "threads", "-c", str(args.concurrency or settings.translate_batch_max_docs)]
    else:
        pool = ["-c", str(args.concurrency or settings.ingest_concurrency)]
    name = args.name or f"{args.queue.replace(',', '+')}@%h"
    extra = [a for a in args.celery_args if a != "--"]
    return ["worker", "-Q", args.queue, "-n", name, *pool, "--loglevel", args.loglevel, *extra]


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """One Celery worker for one queue, in the foreground (what compose runs per service)."""
    from workers.app import make_app

    refuse_insecure_redis(settings, settings.redis_url)
    refuse_broken_glossary(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    make_app(settings).worker_main(celery_worker_args(args, settings))
    return 0


def cmd_beat(args: argparse.Namespace, settings: Settings) -> int:
    """The scheduler: exactly one per deployment."""
    from workers.app import make_app

    refuse_insecure_redis(settings, settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    schedule = str(settings.data_dir / "celerybeat-schedule")
    app = make_app(settings, schedule_sources=True)
    return int(app.start(["beat", "-s", schedule, "--loglevel", args.loglevel]) or 0)


def cmd_celery(args: argparse.Namespace, settings: Settings) -> int:
    """Celery's own command line on our app: `newsingest celery inspect active`, `... flower`."""
    from ._common import app

    return int(app(settings).start([a for a in args.celery_args if a != "--"]) or 0)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from service.embedded import EmbeddedRedis
    from service.models import install_from

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    embedded: EmbeddedRedis | None = None
    url = settings.redis_url
    refuse_insecure_redis(settings, url)
    refuse_broken_glossary(settings)
    if not url:
        embedded = EmbeddedRedis(settings.data_dir / "redis").start()
        url = embedded.url
        redis_url_file(settings).write_text(url + "\n")
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

    # The children read their settings as this process did, with the Redis URL filled in.
    env = dict(os.environ, REDIS_URL=url)
    roles = {q: worker_argv(q, loglevel=args.loglevel) for q in ("ingest", "translate")}
    roles["beat"] = beat_argv(args.loglevel)
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
            redis_url_file(settings).unlink(missing_ok=True)
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run ingest and translate workers plus beat")
    p.add_argument("--loglevel", type=opt.log_level, default="info")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "worker", help="run one Celery worker for one queue (options after -- go to Celery)"
    )
    p.add_argument(
        "--queue",
        required=True,
        type=opt.queues,
        help="ingest, translate, or both: ingest,translate",
    )
    p.add_argument("--concurrency", type=opt.count(1024))
    p.add_argument("--name", help="Celery node name (default QUEUE@HOSTNAME)")
    p.add_argument("--loglevel", type=opt.log_level, default="info")
    p.add_argument("celery_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("beat", help="run the Celery beat scheduler (exactly one per deployment)")
    p.add_argument("--loglevel", type=opt.log_level, default="info")
    p.set_defaults(func=cmd_beat)

    p = sub.add_parser("celery", help="Celery's own commands on our app (inspect, flower, ...)")
    p.add_argument("celery_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_celery)
