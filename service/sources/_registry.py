"""The source registry: which feeds and sitemaps to poll, in Redis, managed while the
service runs (``newsingest sources add|remove|pause|resume|import``).

Keys (``<p>`` is ``key_prefix``), bounded by the number of sources:

- ``<p>:sources``: hash, name -> the source's config as JSON;
- ``<p>:sources:due``: sorted set, name -> when its next poll is due (epoch seconds); a
  paused source is not in it, so beat never sees it;
- ``<p>:sources:seeded``: hash, name -> digest of the entry sources.toml last seeded;
- ``<p>:source:<name>``: hash, the source's health (see :meth:`Registry.show`).

``config/sources.toml`` seeds the registry: an entry is copied in when its name was never
seeded or the file's entry changed since, so a source removed by hand stays removed until
the file's entry for it changes. Beat is the only reader that schedules
(workers/schedule.py); workers record each poll's outcome (:mod:`._health`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast

import redis

from .._redis import text
from ..errors import SourceError
from ..settings import Settings
from ._config import SourceConfig

# Health fields that are counters (HINCRBY), and those that hold epoch seconds.
COUNTERS = ("polls", "failures", "unchanged", "entries", "new", "updated", "skipped",
            "documents", "docs_no_title", "docs_no_date", "docs_empty_text", "expired",
            "dead_letters", "consecutive_failures")  # fmt: skip
TIMES = ("last_poll", "last_success", "last_error_at", "failing_since", "paused_at")


# Take the due sources and lease them, in one step, so that two beats (there should be one)
# never send the same poll twice. KEYS[1] due set; ARGV: now, lease seconds, limit.
CLAIM_SCRIPT = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, name in ipairs(due) do
  redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[1]) + tonumber(ARGV[2]), name)
end
return due
"""
LEASE_SECONDS = 60


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(config: SourceConfig) -> str:
    raw = json.dumps(config.as_dict(), sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


class Registry:
    """The sources, their schedule and their health; every method is a few Redis calls."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        prefix = settings.key_prefix
        self.sources_key = f"{prefix}:sources"
        self.due_key = f"{prefix}:sources:due"
        self.seeded_key = f"{prefix}:sources:seeded"
        self._health_prefix = f"{prefix}:source:"
        self._claim = client.register_script(CLAIM_SCRIPT)

    def health_key(self, name: str) -> str:
        return self._health_prefix + name

    # -- the sources ---------------------------------------------------------------------------

    def seed(self, configs: Iterable[SourceConfig], now: float | None = None) -> list[str]:
        """Copy in the seed file's entries that are new or changed since the last seed;
        returns their names."""
        now = time.time() if now is None else now
        seeded = {
            text(k): text(v)
            for k, v in cast(dict[Any, Any], self.client.hgetall(self.seeded_key)).items()
        }
        changed = []
        for config in configs:
            digest = _digest(config)
            if seeded.get(config.name) == digest:
                continue
            self.add(config, replace=True, now=now)
            self.client.hset(self.seeded_key, config.name, digest)
            changed.append(config.name)
        return changed

    def add(self, config: SourceConfig, *, replace: bool = False, now: float | None = None) -> None:
        """Register ``config``; its first poll is due at once (unless it is paused). An
        existing name is an error unless ``replace``, which keeps its health."""
        now = time.time() if now is None else now
        raw = json.dumps(config.as_dict(), ensure_ascii=False)
        if not replace:
            if not self.client.hsetnx(self.sources_key, config.name, raw):
                raise SourceError(
                    f"a source named {config.name!r} exists; remove it first or use --replace",
                    reason="source_exists",
                )
        else:
            self.client.hset(self.sources_key, config.name, raw)
        if not self.paused(config.name):
            self.client.zadd(self.due_key, {config.name: now})

    def move(self, name: str, url: str) -> None:
        """The source's URL redirects permanently: poll the new one from now on."""
        config = self.get(name)
        if config is None or config.url == url:
            return
        moved = SourceConfig.from_dict({**config.as_dict(), "url": url}, f"source {name!r}")
        self.client.hset(self.sources_key, name, json.dumps(moved.as_dict(), ensure_ascii=False))
        self.client.hset(self.health_key(name), mapping={"moved_from": config.url})

    def remove(self, name: str) -> bool:
        pipe = self.client.pipeline(transaction=True)
        pipe.hdel(self.sources_key, name)
        pipe.zrem(self.due_key, name)
        pipe.delete(self.health_key(name))
        return bool(pipe.execute()[0])

    def get(self, name: str) -> SourceConfig | None:
        raw = self.client.hget(self.sources_key, name)
        if raw is None:
            return None
        return SourceConfig.from_dict(json.loads(text(raw)), f"source {name!r}")

    def require(self, name: str) -> SourceConfig:
        config = self.get(name)
        if config is None:
            raise SourceError(
                f"no source named {name!r} (see `newsingest sources list`)",
                reason="unknown_source",
            )
        return config

    def all(self) -> list[SourceConfig]:
        raw = cast(dict[Any, Any], self.client.hgetall(self.sources_key))
        configs = [
            SourceConfig.from_dict(json.loads(text(v)), f"source {text(k)!r}")
            for k, v in raw.items()
        ]
        return sorted(configs, key=lambda c: c.name)

    # -- pausing -------------------------------------------------------------------------------

    def paused(self, name: str) -> bool:
        return bool(self.client.hget(self.health_key(name), "paused") in (b"1", "1"))

    def pause(self, name: str, reason: str, now: float | None = None) -> None:
        self.require(name)
        now = time.time() if now is None else now
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(
            self.health_key(name),
            mapping={"paused": "1", "paused_reason": reason[:500], "paused_at": str(now)},
        )
        pipe.zrem(self.due_key, name)
        pipe.execute()

    def resume(self, name: str, now: float | None = None) -> None:
        """Poll again at once, with a clean failure count (a new episode may begin)."""
        self.require(name)
        now = time.time() if now is None else now
        pipe = self.client.pipeline(transaction=True)
        pipe.hdel(self.health_key(name), "paused", "paused_reason", "paused_at", "failing_since")
        pipe.hset(self.health_key(name), "consecutive_failures", "0")
        pipe.zadd(self.due_key, {name: now})
        pipe.execute()

    # -- scheduling ----------------------------------------------------------------------------

    def claim_due(self, now: float | None = None, limit: int = 100) -> list[SourceConfig]:
        """The sources whose poll is due, each pushed one interval on (the poll's outcome
        may set another time: :meth:`reschedule`). Only beat calls this."""
        now = time.time() if now is None else now
        claimed = self._claim(keys=[self.due_key], args=[repr(now), LEASE_SECONDS, limit])
        names = [text(n) for n in cast(list[Any], claimed)]
        due = []
        for name in names:
            config = self.get(name)
            if config is None:  # removed between the two reads
                self.client.zrem(self.due_key, name)
                continue
            self.reschedule(name, now + config.interval)
            due.append(config)
        return due

    def reschedule(self, name: str, at: float) -> None:
        """Set the next poll, unless the source was paused or removed meanwhile."""
        self.client.zadd(self.due_key, {name: at}, xx=True)

    def next_due(self, name: str) -> float | None:
        score = cast(float | None, self.client.zscore(self.due_key, name))
        return float(score) if score is not None else None

    # -- health --------------------------------------------------------------------------------

    def health(self, name: str) -> dict[str, str]:
        raw = cast(dict[Any, Any], self.client.hgetall(self.health_key(name)))
        return {text(k): text(v) for k, v in raw.items()}

    def count(self, name: str, **increments: int) -> None:
        """Add to a source's counters (a document published, a poll expired, ...)."""
        if not self.client.hexists(self.sources_key, name):
            return  # removed meanwhile: no health for a source that is not there
        pipe = self.client.pipeline(transaction=False)
        for key, value in increments.items():
            if value:
                pipe.hincrby(self.health_key(name), key, value)
        pipe.execute()

    def show(self, name: str) -> dict[str, Any]:
        """The source's config and health, as `sources show` prints it."""
        config = self.require(name)
        raw = self.health(name)
        out: dict[str, Any] = {**config.as_dict(), "paused": raw.get("paused") == "1"}
        out["paused_reason"] = raw.get("paused_reason")
        for key in TIMES:
            out[key] = iso(float(raw[key])) if raw.get(key) else None
        out["last_success_epoch"] = float(raw["last_success"]) if raw.get("last_success") else None
        out["last_error"] = raw.get("last_error")
        out["moved_from"] = raw.get("moved_from")
        out["last_reason"] = raw.get("last_reason")
        for key in COUNTERS:
            out[key] = int(raw.get(key, 0) or 0)
        polls = out["polls"]
        seconds = float(raw.get("poll_seconds", 0) or 0)
        out["poll_seconds_mean"] = round(seconds / polls, 3) if polls else None
        last = raw.get("poll_seconds_last")
        out["poll_seconds_last"] = float(last) if last else None
        out["skipped_by_rule"] = {
            k.split(":", 1)[1]: int(v) for k, v in raw.items() if k.startswith("skipped:")
        }
        docs = out["documents"]
        out["extraction"] = {
            key: round(out[f"docs_{key}"] / docs, 3) if docs else None
            for key in ("no_title", "no_date", "empty_text")
        }
        due = None if out["paused"] else self.next_due(name)
        out["next_poll"] = iso(due) if due is not None else None
        return out

    def overview(self) -> list[dict[str, Any]]:
        """Every source's health, for `stats` and the exporter."""
        return [self.show(config.name) for config in self.all()]
