"""What every command group shares: settings-derived clients, the app, output."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis

from service.settings import Settings

if TYPE_CHECKING:
    from workers.app import NewsApp


def emit(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def fail(message: str) -> None:
    print(f"newsingest: {message}", file=sys.stderr)


def refuse_insecure_redis(settings: Settings, url: str) -> None:
    """Exit before connecting when Redis is open to the network (service/safety.py)."""
    from service.safety import check_redis_url

    if settings.allow_insecure_redis or not url:
        return
    problem = check_redis_url(url)
    if problem is not None:
        raise SystemExit(f"newsingest: {problem}")


def refuse_broken_glossary(settings: Settings) -> None:
    """Exit before starting when the glossary cannot be read: a named file that is missing,
    or one that is not a valid glossary (otherwise every translation would fail later)."""
    from service._glossary import GlossaryError, load_glossary

    path = settings.glossary_path
    if settings.glossary_file and not path.is_file():
        raise SystemExit(f"newsingest: glossary_file {str(path)!r} does not exist")
    try:
        load_glossary(path)
    except GlossaryError as exc:
        raise SystemExit(f"newsingest: {exc}") from None


def stop_requested() -> threading.Event:
    """An event set by SIGTERM or SIGINT, for the long-running commands."""
    event = threading.Event()

    def _set(signum: int, _frame: object) -> None:
        event.set()

    signal.signal(signal.SIGTERM, _set)
    signal.signal(signal.SIGINT, _set)
    return event


def redis_url_file(settings: Settings) -> Path:
    return settings.data_dir / "redis.url"


def with_redis(settings: Settings) -> Settings:
    """``settings`` with the Redis URL resolved: REDIS_URL if configured, else the embedded
    Redis that `newsingest run` started and recorded in the data directory."""
    if settings.redis_url:
        return settings
    marker = redis_url_file(settings)
    if marker.is_file():
        return settings.replace(redis_url=marker.read_text().strip())
    raise SystemExit(
        "newsingest: no Redis configured. Set REDIS_URL, or start `newsingest run`, which "
        "starts an embedded Redis and records its address in " + str(marker)
    )


def client(settings: Settings) -> redis.Redis:
    from service.store import connect

    # A one-shot command gives up after about 2 s (workers wait longer for a starting server).
    return connect(with_redis(settings).redis_url, retries=4)


def app(settings: Settings) -> NewsApp:
    """The Celery app for these settings (the Redis URL resolved), to send or inspect."""
    from workers.app import make_app

    return make_app(with_redis(settings))
