"""Publishing to Redis: one hash per document and one stream entry per document version.

Both writes happen inside one Lua script, so a retried or duplicated task, or a worker that
dies between the two, can never produce a second entry or a hash without its entry: Redis
runs the script atomically and writes it to the AOF as one unit. The same script trims the
stream and forgets the documents whose latest entry it trims, so the hashes follow the
stream's retention (docs/stream.md, "What `get` promises").
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import redis
from redis.exceptions import NoScriptError

from ._redis import text as _text
from .document import DUPLICATE_PLACEHOLDER, VERSION_PLACEHOLDER
from .records import Document, utc_now
from .settings import Settings
from .similarity import fingerprint
from .stories import Annotation, StoryIndex, StoryPolicy

# The stream is trimmed once this many entries are over its cap or age (as XADD MAXLEN ~
# trims whole nodes), by at most TRIM_LIMIT entries per publish.
TRIM_BATCH = 50
TRIM_LIMIT = 200

# Lua helpers shared by the scripts below. Stream ids compare as (milliseconds, sequence).
_LUA_HELPERS = """
local function older(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, bm = tonumber(am), tonumber(bm)
  return am < bm or (am == bm and tonumber(as) < tonumber(bs))
end
-- A document whose latest entry has left the stream keeps a tombstone (version, revision,
-- seen; no document) for ttl seconds, so that versions keep counting and a late retry of
-- the same revision stays a no-op. It is written anew rather than HDEL'd: a hash that held a
-- document keeps its large encoding (740 bytes for these fields), a new one takes 250.
local TOMBSTONE = {'stream_id', 'revision', 'version', 'seen', 'updated_at'}
local function forget(key, sid, ttl)
  local values = redis.call('HMGET', key, unpack(TOMBSTONE))
  if values[1] ~= sid then return 0 end
  local revision = values[2] or ''
  if string.sub(revision, 1, 2) == 't:' then
    revision = string.sub(revision, 3)
  elseif #revision ~= 40 then
    revision = redis.sha1hex(revision) -- written before revisions were digests
  end
  redis.call('DEL', key)
  redis.call('HSET', key, 'stream_id', sid, 'revision', 't:' .. revision,
             'version', values[3], 'seen', values[4] or '0', 'updated_at', values[5] or '')
  redis.call('EXPIRE', key, ttl)
  return 1
end
"""

# One publish, atomically. KEYS: doc hash, documents stream, content-hash index, ledger.
# ARGV: doc json up to the version, revision digest, maxlen, doc id, time, doc json between
#       the version and duplicate_of, doc json after duplicate_of, near-duplicate candidate
#       ('' if none), minid ('' if none), retention ttl seconds, document key prefix, the
#       revision in full (as hashes written before digests hold it).
# A new stream entry is added only when the revision (content hash + translation outcome)
# differs from the stored one; the version then goes up by one.
#
# Retention: the script trims the stream itself (XTRIM MINID, exact) and forgets the
# document of each trimmed entry that is its document's latest. XTRIM returns a count, not
# ids, and reading an entry from Lua copies its whole document (that made the script 40%
# dearer), so the ledger, a list of "<stream id> <doc id>" appended for every entry, names
# the head. Entries the ledger does not know (written before it existed, or by `dead
# replay`) show as the stream being longer than the ledger; while there are any, the head is
# read from the stream instead. The forgotten hashes are not declared in KEYS: fine on a
# single or replicated Redis, not on Redis Cluster (as for the translation cache's eviction).
PUBLISH_SCRIPT = (
    _LUA_HELPERS
    + f"local TRIM_BATCH = {TRIM_BATCH}\nlocal TRIM_LIMIT = {TRIM_LIMIT}\n"
    + """
redis.call('HINCRBY', KEYS[1], 'seen', 1)
local current = redis.call('HGET', KEYS[1], 'revision')
if current == ARGV[2] or current == 't:' .. ARGV[2] or current == ARGV[12] then
  local version = tonumber(redis.call('HGET', KEYS[1], 'version'))
  return {0, redis.call('HGET', KEYS[1], 'stream_id'), version}
end
local ttl = tonumber(ARGV[10])
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
local dup = ARGV[8]
local first = redis.call('GET', KEYS[3])
if first and first ~= ARGV[4] then
  dup = first
elseif not first and ttl > 0 then
  redis.call('SET', KEYS[3], ARGV[4], 'EX', ttl)
end
local dupjson = 'null'
if dup ~= '' then dupjson = '"' .. dup .. '"' end
-- One concatenation, one copy of the document: a find-and-replace per value cost a quarter
-- of the script's time in string copies and garbage.
local doc = ARGV[1] .. version .. ARGV[6] .. dupjson .. ARGV[7]
local sid = redis.call('XADD', KEYS[2], '*', 'id', ARGV[4], 'version', version, 'doc', doc)
redis.call('HSET', KEYS[1], 'doc', doc, 'revision', ARGV[2], 'stream_id', sid,
           'updated_at', ARGV[5])
if current and string.sub(current, 1, 2) == 't:' then redis.call('PERSIST', KEYS[1]) end
redis.call('RPUSH', KEYS[4], sid .. ' ' .. ARGV[4])
-- Trim in batches, as XADD MAXLEN ~ trims whole nodes: once TRIM_BATCH entries are over
-- the cap, or over the age (the ledger's TRIM_BATCH-th entry is older than minid).
local maxlen = tonumber(ARGV[3])
local minid = ARGV[9]
if minid ~= '' and not older(minid, sid) then minid = '' end -- a skewed clock: trim no age
local length = redis.call('XLEN', KEYS[2])
local count = 0
if maxlen > 0 and length - maxlen >= TRIM_BATCH then
  count = math.min(length - maxlen, TRIM_LIMIT)
end
local aged = false
if minid ~= '' then
  local probe = redis.call('LINDEX', KEYS[4], TRIM_BATCH - 1)
  aged = probe and older(string.match(probe, '^%S+'), minid)
end
if count == 0 and not aged then return {1, sid, version} end
local last
if length > redis.call('LLEN', KEYS[4]) then
  -- Entries the ledger does not know: read the head from the stream, and pop the ledger
  -- items up to it (those older than a head name entries already gone: forget them too).
  local heads = {}
  if aged then heads = redis.call('XRANGE', KEYS[2], '-', '(' .. minid, 'COUNT', TRIM_LIMIT) end
  if #heads < count then heads = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', count) end
  local ledger = redis.call('LRANGE', KEYS[4], 0, #heads - 1)
  local popped = 0
  for _, head in ipairs(heads) do
    while popped < #ledger do
      local item_sid, doc_id = string.match(ledger[popped + 1], '^(%S+) (%S+)$')
      if item_sid ~= head[1] and not older(item_sid, head[1]) then break end
      popped = popped + 1
      if item_sid ~= head[1] then forget(ARGV[11] .. doc_id, item_sid, ttl) end
    end
    for i = 1, #head[2], 2 do
      if head[2][i] == 'id' then forget(ARGV[11] .. head[2][i + 1], head[1], ttl) end
    end
    last = head[1]
  end
  if popped > 0 then redis.call('LTRIM', KEYS[4], popped, -1) end
else
  local ledger = redis.call('LRANGE', KEYS[4], 0, (aged and TRIM_LIMIT or count) - 1)
  local n = count
  while aged and n < #ledger and older(string.match(ledger[n + 1], '^%S+'), minid) do
    n = n + 1
  end
  for i = 1, n do
    local item_sid, doc_id = string.match(ledger[i], '^(%S+) (%S+)$')
    forget(ARGV[11] .. doc_id, item_sid, ttl)
    last = item_sid
  end
  redis.call('LTRIM', KEYS[4], n, -1)
end
if last then
  local ms, seq = string.match(last, '^(%d+)-(%d+)$')
  redis.call('XTRIM', KEYS[2], 'MINID', ms .. '-' .. string.format('%d', tonumber(seq) + 1))
end
return {1, sid, version}
"""
)

# KEYS: a document hash. ARGV: the documents stream's first id ('' when it is empty),
# retention ttl seconds. Forgets the document when its latest entry is no longer in the
# stream: for hashes written before the publish script trimmed them itself.
FORGET_SCRIPT = (
    _LUA_HELPERS
    + """
local sid = redis.call('HGET', KEYS[1], 'stream_id')
if not sid or redis.call('HEXISTS', KEYS[1], 'doc') == 0 then return 0 end
if ARGV[1] ~= '' and not older(sid, ARGV[1]) then return 0 end
return forget(KEYS[1], sid, tonumber(ARGV[2]))
"""
)

# KEYS: dead stream, marker key. ARGV: ttl seconds, maxlen (0: none), then field/value
# pairs. The dead stream is capped like the documents stream (approximately: its entries
# own nothing else).
DEAD_LETTER_SCRIPT = """
if KEYS[2] ~= '' then
  if redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[1])) == false then
    return false
  end
end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
if tonumber(ARGV[2]) > 0 then
  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(fields))
end
return redis.call('XADD', KEYS[1], '*', unpack(fields))
"""


@dataclass(frozen=True)
class Published:
    added: bool
    stream_id: str
    version: int


class Store:
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._publish_sha = client.register_script(PUBLISH_SCRIPT).sha
        self._dead = client.register_script(DEAD_LETTER_SCRIPT)
        self._forget = client.register_script(FORGET_SCRIPT)
        # What "now" is for the stream's age limit; a test moves it.
        self.clock: Callable[[], float] = time.time
        retention = self.retention_seconds
        self.stories = StoryIndex(
            client,
            settings.key_prefix,
            StoryPolicy(
                window_seconds=settings.story_window_hours * 3600.0,
                threshold=settings.story_threshold,
                near_dup_distance=settings.near_duplicate_distance,
                retention_seconds=max(retention, settings.story_window_hours * 3600 * 2),
            ),
        )

    @property
    def retention_seconds(self) -> int:
        """How long tombstones and the exact-duplicate index outlive a trimmed entry."""
        return max(1, round(self.settings.dedupe_retention_days * 86400))

    @property
    def ledger_key(self) -> str:
        """The stream ids and document ids of the entries the publish script added."""
        return f"{self.settings.documents_stream}:ledger"

    def annotate(self, doc: Document) -> Annotation:
        """Set story_id and fingerprint; the index writes wait for the publish."""
        english = doc.text_en if doc.text_en is not None else doc.text
        title = doc.title_en if doc.text_en is not None else doc.title
        if doc.fingerprint is None:
            doc.fingerprint = fingerprint(english)
        bits = int(doc.fingerprint.removeprefix("simhash:"), 16)
        note = self.stories.annotate(doc.id, title, english, _timestamp(doc), bits)
        doc.story_id = note.story_id
        return note

    def publish(self, doc: Document, *, annotate: bool = True) -> Published:
        """Store the document and append it to the stream, once per revision."""
        return self.publish_many([doc], annotate=annotate)[0]

    def publish_many(self, docs: list[Document], *, annotate: bool = True) -> list[Published]:
        """Publish several documents in one round trip; each is still its own atomic script.

        The story and near-duplicate index writes travel in the same pipeline, before each
        document's script: the index never names a document that Redis has not been sent.
        Annotated documents go one pipeline each, so that each sees the ones before it.
        """
        if annotate and len(docs) > 1:
            return [self.publish_many([doc])[0] for doc in docs]
        pipe = self.client.pipeline(transaction=False)
        positions, nears = [], []
        for doc in docs:
            near = ""
            if annotate:
                note = self.annotate(doc)
                self.stories.record(pipe, note)
                near = note.near_duplicate or ""
            positions.append(len(pipe))
            nears.append(near)
            self._queue_publish(pipe, doc, near)
        # EVALSHA without redis-py's SCRIPT EXISTS check before every pipeline: the script
        # is loaded only when Redis says it lacks it (a restarted or new server).
        results = pipe.execute(raise_on_error=False)
        missing = [i for i, at in enumerate(positions) if isinstance(results[at], NoScriptError)]
        if missing:
            self.client.script_load(PUBLISH_SCRIPT)
            again = self.client.pipeline(transaction=False)
            for i in missing:
                self._queue_publish(again, docs[i], nears[i])
            for i, result in zip(missing, again.execute(raise_on_error=False), strict=True):
                results[positions[i]] = result
        for result in results:
            if isinstance(result, Exception):
                raise result
        out = []
        for position in positions:
            added, sid, version = results[position]
            out.append(Published(bool(int(added)), _text(sid), int(version)))
        return out

    def _queue_publish(self, pipe: Any, doc: Document, near: str) -> None:
        age = self.settings.stream_max_age_days
        minid = f"{int((self.clock() - age * 86400) * 1000)}-0" if age > 0 else ""
        outcome = doc.translation
        revision = f"{doc.content_hash}|{outcome.get('status')}|{outcome.get('model')}"
        # Stored as a digest: short enough for Redis's small hash encoding once the document
        # is forgotten (the full form is passed too, for hashes written before digests).
        digest = hashlib.sha1(revision.encode()).hexdigest()
        head, middle, tail = _split_at_placeholders(doc.to_json_for_store())
        pipe.evalsha(
            self._publish_sha,
            4,
            self.settings.document_key(doc.id),
            self.settings.documents_stream,
            f"{self.settings.key_prefix}:hash:{doc.content_hash}",
            self.ledger_key,
            head,
            digest,
            self.settings.stream_maxlen,
            doc.id,
            utc_now(),
            middle,
            tail,
            near,
            minid,
            self.retention_seconds,
            self.settings.document_key(""),
            revision,
        )

    def times_seen(self, doc_id: str) -> int:
        """How many publish attempts reached Redis for this id, duplicates included."""
        raw = cast(bytes | None, self.client.hget(self.settings.document_key(doc_id), "seen"))
        return int(raw or 0)

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """The latest version, while its stream entry is retained; else None (docs/stream.md)."""
        raw = self.client.hget(self.settings.document_key(doc_id), "doc")
        if raw is None:
            return None
        loaded: dict[str, Any] = json.loads(_text(raw))
        return loaded

    def tombstone(self, doc_id: str) -> dict[str, str] | None:
        """What is kept of a document whose latest entry left the stream (version,
        updated_at), or None when there is a stored document or nothing at all."""
        key = self.settings.document_key(doc_id)
        raw = cast(list[Any], self.client.hmget(key, ["doc", "version", "updated_at"]))
        if raw[0] is not None or raw[1] is None:
            return None
        return {"version": _text(raw[1]), "updated_at": _text(raw[2] or b"")}

    def forget_trimmed(self, batch: int = 500) -> int:
        """Forget every stored document whose latest entry has left the stream; returns how
        many. Publishing does this for the entries it trims; this is for hashes written by
        versions that did not (an upgrade), and costs a scan of all document keys."""
        stream = self.settings.documents_stream
        head = cast(list[Any], self.client.xrange(stream, count=1))
        first = _text(head[0][0]) if head else ""
        ttl = str(self.retention_seconds)
        pattern = self.settings.document_key("*")
        forgotten = 0
        for keys in _chunks(self.client.scan_iter(match=pattern, count=batch), batch):
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                self._forget(keys=[key], args=[first, ttl], client=pipe)
            forgotten += sum(int(n) for n in pipe.execute())
        return forgotten

    def upgrade(self) -> int | None:
        """Once per deployment (a marker key records it): forget the hashes that versions
        before the publish script trimmed them left behind. Returns how many, or None when an
        earlier start did it. Workers call it at start; it is safe to run twice."""
        marker = f"{self.settings.key_prefix}:upgraded:forget-trimmed"
        if self.client.exists(marker):
            return None
        forgotten = self.forget_trimmed()
        self.client.set(marker, utc_now())
        return forgotten

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
        args: list[str] = [str(7 * 24 * 3600), str(self.settings.stream_maxlen)]
        for key, value in fields.items():
            args += [key, value]
        sid = self._dead(keys=[self.settings.dead_stream, marker], args=args)
        return _text(sid) if sid else None

    def documents(self, batch: int = 500) -> Iterator[dict[str, Any]]:
        """Every document still held (its latest entry retained), in no particular order."""
        pattern = self.settings.document_key("*")
        for keys in _chunks(self.client.scan_iter(match=pattern, count=batch), batch):
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.hget(key, "doc")
            for raw in pipe.execute():
                if raw is not None:
                    yield json.loads(_text(raw))

    def dead_entries(self, count: int = 100) -> list[dict[str, str]]:
        out = []
        entries = cast(list[Any], self.client.xrange(self.settings.dead_stream, count=count))
        for sid, fields in entries:
            entry = {_text(k): _text(v) for k, v in fields.items()}
            entry["stream_id"] = _text(sid)
            out.append(entry)
        return out


_VERSION_TOKEN = f'"{VERSION_PLACEHOLDER}"'.encode()
_DUPLICATE_TOKEN = f'"{DUPLICATE_PLACEHOLDER}"'.encode()


def _split_at_placeholders(data: bytes) -> tuple[bytes, bytes, bytes]:
    """The JSON around the version and duplicate_of values, which the script fills in.

    Both come right after the id (Document.as_dict's key order), before any text, so the
    first occurrence of each token is the field itself.
    """
    head, rest = data.split(_VERSION_TOKEN, 1)
    middle, tail = rest.split(_DUPLICATE_TOKEN, 1)
    return head, middle, tail


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _timestamp(doc: Document) -> float:
    """When the story happened: the publication date if known, else ingestion time."""
    from datetime import datetime

    for value in (doc.published_at, doc.ingested_at):
        if value:
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return time.time()


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
