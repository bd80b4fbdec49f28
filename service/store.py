"""Publishing to Redis: one hash per document and one stream entry per document version.

Both writes happen inside one Lua script, so a retried or duplicated task, or a worker that
dies between the two, can never produce a second entry or a hash without its entry: Redis
runs the script atomically and writes it to the AOF as one unit.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis

from .document import VERSION_PLACEHOLDER, Document
from .fetch import utc_now
from .settings import Settings

# KEYS: doc hash, documents stream. ARGV: doc json (version placeholder), content hash,
# maxlen, doc id, time.
PUBLISH_SCRIPT = """
redis.call('HINCRBY', KEYS[1], 'seen', 1)
local current = redis.call('HGET', KEYS[1], 'content_hash')
if current == ARGV[2] then
  return {0, redis.call('HGET', KEYS[1], 'stream_id'), tonumber(redis.call('HGET', KEYS[1], 'version'))}
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
local doc = string.gsub(ARGV[1], '"' .. ARGV[6] .. '"', tostring(version), 1)
local maxlen = tonumber(ARGV[3])
local sid
if maxlen > 0 then
  sid = redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*',
                   'id', ARGV[4], 'version', version, 'doc', doc)
else
  sid = redis.call('XADD', KEYS[2], '*', 'id', ARGV[4], 'version', version, 'doc', doc)
end
redis.call('HSET', KEYS[1], 'doc', doc, 'content_hash', ARGV[2], 'stream_id', sid,
           'updated_at', ARGV[5])
return {1, sid, version}
"""

# KEYS: dead stream, marker key. ARGV: ttl seconds, then field/value pairs.
DEAD_LETTER_SCRIPT = """
if KEYS[2] ~= '' then
  if redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[1])) == false then
    return false
  end
end
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
return redis.call('XADD', KEYS[1], '*', unpack(fields))
"""


@dataclass(frozen=True)
class Published:
    added: bool
    stream_id: str
    version: int


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class Store:
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._publish = client.register_script(PUBLISH_SCRIPT)
        self._dead = client.register_script(DEAD_LETTER_SCRIPT)

    def publish(self, doc: Document) -> Published:
        """Store the document and append it to the stream, once per content version."""
        result = self._publish(
            keys=[self.settings.document_key(doc.id), self.settings.documents_stream],
            args=[
                doc.to_json_for_store(),
                doc.content_hash,
                self.settings.stream_maxlen,
                doc.id,
                utc_now(),
                VERSION_PLACEHOLDER,
            ],
        )
        added, sid, version = result
        return Published(bool(int(added)), _text(sid), int(version))

    def times_seen(self, doc_id: str) -> int:
        """How many publish attempts reached Redis for this id, duplicates included."""
        return int(self.client.hget(self.settings.document_key(doc_id), "seen") or 0)

    def get(self, doc_id: str) -> dict[str, Any] | None:
        raw = self.client.hget(self.settings.document_key(doc_id), "doc")
        if raw is None:
            return None
        loaded: dict[str, Any] = json.loads(_text(raw))
        return loaded

    def dead_letter(
        self,
        *,
        input: dict[str, Any],
        reason: str,
        error: str,
        stage: str,
        attempts: int,
        task_id: str | None = None,
    ) -> str | None:
        """Record a permanent failure; a task id dead-letters once however often it runs."""
        marker = f"{self.settings.key_prefix}:dead-task:{task_id}" if task_id else ""
        fields = {
            "input": json.dumps(input, ensure_ascii=False),
            "reason": reason,
            "error": error[:2000],
            "stage": stage,
            "attempts": str(attempts),
            "task_id": task_id or "",
            "at": utc_now(),
        }
        args: list[str] = [str(7 * 24 * 3600)]
        for key, value in fields.items():
            args += [key, value]
        sid = self._dead(keys=[self.settings.dead_stream, marker], args=args)
        return _text(sid) if sid else None

    def dead_entries(self, count: int = 100) -> list[dict[str, str]]:
        out = []
        for sid, fields in self.client.xrange(self.settings.dead_stream, count=count):
            entry = {_text(k): _text(v) for k, v in fields.items()}
            entry["stream_id"] = _text(sid)
            out.append(entry)
        return out


def connect(url: str, *, retries: int = 30, delay: float = 0.5) -> redis.Redis:
    """A client for ``url``, retrying the first PING while the server starts."""
    client = redis.Redis.from_url(url, health_check_interval=30, socket_connect_timeout=5)
    for attempt in range(retries):
        try:
            client.ping()
            return client
        except redis.ConnectionError:
            if attempt == retries - 1:
                raise
            time.sleep(delay)
    return client
