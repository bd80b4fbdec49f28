"""The parts of a reliability run: a Redis of its own (AOF, fsync always), real Celery worker
and beat processes, loopback HTTP servers serving the shared corpus and hostile answers, a
mixed set of inputs, an RSS sampler, and the accounting that maps every input to its
outcome.

The promise under test: every input comes out as a document on the stream or as a
dead-letter entry with a reason; never lost, never twice (one stream entry per document
id and version).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from devtools.http_fixtures import Request, Site
from service.embedded import EmbeddedRedis
from workers.cli.running import beat_argv, worker_argv

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSINGEST_SHARED_DIR", REPO.parent / "shared"))
EXTRACTION = SHARED / "corpus" / "extraction"
SEEDS = SHARED / "seeds"
MODELS = SHARED / "models"

PREFIX = "rel"
# Redelivery after a worker is killed takes up to the visibility timeout plus one sweep.
VISIBILITY_TIMEOUT = 40
# The slowest task (a Chinese page translated on a busy CPU, or a stalled fetch with its
# retries) must end well inside the visibility timeout, or Redis redelivers a running task.
SOFT_TIME_LIMIT = 25
TIME_LIMIT = 32
FETCH_DEADLINE = 4.0
MAX_RETRIES = 3
# Longest a scenario waits for every input to come out.
SETTLE_SECONDS = 300


# ---- inputs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """One submission: ``source`` is the task payload; ``expect`` what must come out
    ("document", "dead" or "any"), ``label`` what kind of case it is (for the report)."""

    source: dict[str, Any]
    label: str
    expect: str = "any"

    @property
    def location(self) -> str:
        return str(self.source["location"])


def corpus_pages() -> list[dict[str, Any]]:
    with (EXTRACTION / "index.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def small_chinese_pages(count: int) -> list[Path]:
    """The Chinese pages with the least text (translation is ~1000 chars/s on a CPU)."""
    sized: list[tuple[int, str]] = []
    for set_dir in sorted(EXTRACTION.iterdir()):
        gold = set_dir / "gold.jsonl"
        if not gold.is_file():
            continue
        with gold.open(encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                body = str(record.get("body") or "")
                if record.get("lang") == "zh" and len(body) >= 150:
                    sized.append((len(body) + len(str(record.get("title") or "")), record["html"]))
    sized.sort()
    return [EXTRACTION / page for _, page in sized[:count]]


_HEAD = re.compile(rb"<head[^>]*>", re.IGNORECASE)


def with_canonical(html: bytes, url: str, unique: int | None = None) -> bytes:
    """The page with our own canonical link first, so every copy is its own document; with
    ``unique``, also a date and words of its own (fresh strings for every parser cache)."""
    link = f'<link rel="canonical" href="{url}">'.encode()
    if unique is not None:
        day, minute = unique % 28 + 1, unique % 60
        words = " ".join(f"w{unique}x{k}" for k in range(12))
        link += (
            f'<meta property="article:published_time" content="2024-{unique % 12 + 1:02d}-'
            f'{day:02d}T{unique % 24:02d}:{minute:02d}:00Z"><meta name="keywords" '
            f'content="{words}">'
        ).encode()
    match = _HEAD.search(html, 0, 20_000)
    if match:
        return html[: match.end()] + link + html[match.end() :]
    return link + html


def reset(req: Request) -> None:
    """Abort the connection: RST instead of an answer."""
    req.close_connection = True
    req.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    req.connection.close()


def stall(seconds: float) -> Callable[[Request], None]:
    def handle(req: Request) -> None:
        req.close_connection = True
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not req.stopping:
            time.sleep(0.1)

    return handle


def drip(req: Request) -> None:
    """A 200 whose body comes a byte at a time, each inside the read timeout."""
    req.close_connection = True
    req.send_response(200)
    req.send_header("Content-Type", "text/html")
    req.end_headers()
    for _ in range(400):
        if req.stopping:
            return
        req.wfile.write(b"x")
        req.wfile.flush()
        time.sleep(0.05)


def endless(req: Request) -> None:
    """A body with no length that never ends."""
    req.close_connection = True
    req.send_response(200)
    req.send_header("Content-Type", "text/html")
    req.end_headers()
    chunk = b"<p>" + b"y" * 64_000 + b"</p>\n"
    for _ in range(10_000):
        if req.stopping:
            return
        req.wfile.write(chunk)


class Faults:
    """A switch on a site: while ``mode`` is set, every request is reset or stalled."""

    def __init__(self) -> None:
        self.mode: str | None = None
        self.hits = Counter[str]()

    def wrap(self, handler: Callable[[Request], None]) -> Callable[[Request], None]:
        def handle(req: Request) -> None:
            mode = self.mode
            if mode == "flaky":  # alternate: reset, stall, reset, answer
                mode = ("reset", "stall", "reset", None)[sum(self.hits.values()) % 4]
            if mode is not None:
                self.hits[mode] += 1
                (reset if mode == "reset" else stall(FETCH_DEADLINE + 2))(req)
                return
            handler(req)

        return handle


@dataclass
class Servers:
    """news (127.0.0.1): articles and the feed; hostile (127.0.0.2): bad answers;
    slow (127.0.0.3): stalls, so that they do not hold the news host's politeness slots."""

    news: Site
    hostile: Site
    slow: Site
    faults: Faults = field(default_factory=Faults)
    feed_items: list[str] = field(default_factory=list)

    @classmethod
    def start(cls) -> Servers:
        servers = cls(
            Site("127.0.0.1").start(), Site("127.0.0.2").start(), Site("127.0.0.3").start()
        )
        servers.news.routes["/feed.xml"] = servers._feed
        return servers

    def stop(self) -> None:
        for site in (self.news, self.hostile, self.slow):
            site.stop()

    def article(self, path: str, body: bytes, content_type: str = "text/html") -> str:
        def handle(req: Request) -> None:
            req.send(200, body, content_type)

        self.news.routes[path] = self.faults.wrap(handle)
        return self.news.url(path)

    def _feed(self, req: Request) -> None:
        items = "".join(
            f"<item><title>Item {i}</title><link>{url}</link><guid>{url}</guid></item>"
            for i, url in enumerate(self.feed_items)
        )
        body = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>loopback</title><link>{self.news.url('/')}</link>{items}</channel></rss>"
        ).encode()
        req.send(200, body, "application/rss+xml")


def hostile_inputs(servers: Servers, work: Path, tag: str) -> list[Input]:
    """Inputs that must end as dead letters (or, for odd charsets, as documents)."""
    h, s = servers.hostile, servers.slow
    paragraph = "<p>" + "The council approved the budget after a long debate. " * 8 + "</p>"
    article = (
        f"<html><head><title>T</title></head><body><article>{paragraph * 3}</article></body></html>"
    )
    korean = "<p>" + "서울시는 오늘 새 예산안을 발표했다. 시민들의 반응은 엇갈렸다. " * 8 + "</p>"
    chinese = "<p>" + "北京市今天公布了新的预算方案，市民反应不一。" * 8 + "</p>"
    routes: list[tuple[str, Callable[[Request], None], str, str]] = []

    def static(
        path: str,
        status: int,
        body: bytes,
        ctype: str | None,
        headers: dict[str, str] | None = None,
    ) -> Callable[[Request], None]:
        def handle(req: Request) -> None:
            req.send(status, body, ctype, headers)

        return handle

    huge = b"<html><body>" + (b"<p>" + b"z" * 1000 + b"</p>") * 3000 + b"</body></html>"
    deep = ("<html><body>" + "<div>" * 5000 + paragraph + "</body></html>").encode()
    routes += [
        (
            "/binary.html",
            static("", 200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 50, "text/html"),
            "binary",
            "dead",
        ),
        ("/empty.html", static("", 200, b"", "text/html"), "empty", "dead"),
        ("/blank.html", static("", 200, b" \n\t " * 100, "text/html"), "empty", "dead"),
        ("/huge.html", static("", 200, huge, "text/html"), "huge", "dead"),
        ("/endless.html", endless, "huge", "dead"),
        (
            "/bomb.html",
            static(
                "",
                200,
                gzip.compress(b"<p>" + b"\0" * 30_000_000, 9),
                "text/html",
                {"Content-Encoding": "gzip"},
            ),
            "gzip bomb",
            "dead",
        ),
        (
            "/corrupt-gzip.html",
            static(
                "", 200, b"\x1f\x8b\x08\x00garbage" * 10, "text/html", {"Content-Encoding": "gzip"}
            ),
            "gzip bomb",
            "dead",
        ),
        (
            "/pdf",
            static("", 200, b"%PDF-1.7\n" + b"0" * 2000, "application/pdf"),
            "wrong type",
            "dead",
        ),
        (
            "/nothing.html",
            static("", 200, b"<html><body><nav>Home</nav></body></html>", "text/html"),
            "broken html",
            "any",
        ),
        (
            "/truncated.html",
            static("", 200, article.encode()[: len(article) // 2], "text/html"),
            "broken html",
            "any",
        ),
        ("/deep.html", static("", 200, deep, "text/html"), "broken html", "any"),
        (
            "/tags.html",
            static("", 200, b"<<<<>>>><p<p<p></div></div><script>" * 500, "text/html"),
            "broken html",
            "dead",
        ),
        (
            "/nul.html",
            static(
                "",
                200,
                ("<html><body>" + paragraph + "</body></html>")
                .encode()
                .replace(b"budget", b"bud\0get"),
                "text/html",
            ),
            "broken html",
            "any",
        ),
        (
            "/euckr-as-utf8.html",
            static(
                "",
                200,
                f"<html><body>{korean}</body></html>".encode("euc-kr"),
                "text/html; charset=utf-8",
            ),
            "wrong charset",
            "any",
        ),
        (
            "/gbk-as-latin1.html",
            static(
                "",
                200,
                f"<html><body>{chinese}</body></html>".encode("gbk"),
                "text/html; charset=iso-8859-1",
            ),
            "wrong charset",
            "any",
        ),
        (
            "/big5-undeclared.html",
            static(
                "",
                200,
                f"<html><body>{chinese}</body></html>".encode("big5", "replace"),
                "text/html",
            ),
            "wrong charset",
            "any",
        ),
        (
            "/bogus-charset.html",
            static("", 200, article.encode(), "text/html; charset=x-no-such"),
            "wrong charset",
            "any",
        ),
        (
            "/utf16.html",
            static("", 200, article.encode("utf-16"), "text/html"),
            "wrong charset",
            "any",
        ),
        ("/404.html", static("", 404, b"not here", "text/html"), "4xx", "dead"),
        ("/410.html", static("", 410, b"gone", "text/html"), "4xx", "dead"),
        ("/500.html", static("", 500, b"oops", "text/html"), "5xx", "dead"),
        (
            "/429.html",
            static("", 429, b"slow down", "text/html", {"Retry-After": "1"}),
            "5xx",
            "dead",
        ),
        ("/loop-a", static("", 302, b"", None, {"Location": "/loop-b"}), "redirect loop", "dead"),
        ("/loop-b", static("", 302, b"", None, {"Location": "/loop-a"}), "redirect loop", "dead"),
        ("/self", static("", 301, b"", None, {"Location": "/self"}), "redirect loop", "dead"),
        (
            "/to-ftp",
            static("", 302, b"", None, {"Location": "ftp://127.0.0.2/x"}),
            "redirect loop",
            "dead",
        ),
        (
            "/to-junk",
            static("", 302, b"", None, {"Location": "http://[::1"}),
            "redirect loop",
            "dead",
        ),
        ("/reset.html", reset, "reset", "dead"),
    ]
    for path, handler, _label, _expect in routes:
        h.routes[path] = handler
    inputs = [
        Input({"kind": "url", "location": h.url(path) + f"?{tag}"}, label, expect)
        for path, _h, label, expect in routes
        if path != "/loop-b"
    ]
    s.routes["/stall.html"] = stall(30)
    s.routes["/drip.html"] = drip
    inputs += [
        Input({"kind": "url", "location": s.url("/stall.html") + f"?{tag}"}, "stall", "dead"),
        Input({"kind": "url", "location": s.url("/drip.html") + f"?{tag}"}, "stall", "dead"),
        Input({"kind": "url", "location": f"http://10.255.255.1/{tag}"}, "ssrf", "dead"),
        Input({"kind": "url", "location": f"ftp://127.0.0.1/{tag}"}, "ssrf", "dead"),
        Input({"kind": "url", "location": f"http://[::1/{tag}"}, "bad url", "dead"),
    ]
    # Files: missing, a directory, binary, empty, too large, NUL bytes, boilerplate only.
    files = work / "hostile"
    files.mkdir(parents=True, exist_ok=True)
    (files / "dir.html").mkdir(exist_ok=True)
    (files / "binary.html").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40)
    (files / "empty.txt").write_bytes(b"")
    (files / "huge.txt").write_bytes(b"word " * 500_000)
    (files / "nul.txt").write_bytes(b"\x00" * 5000)
    (files / "chrome.txt").write_text("Home\nMenu\nSearch\nLog in\n© 2024 All rights reserved\n")
    inputs += [
        Input({"kind": "file", "location": str(files / "missing.html")}, "missing file", "dead"),
        Input({"kind": "file", "location": str(files / "dir.html")}, "missing file", "dead"),
        Input({"kind": "file", "location": str(files / "binary.html")}, "binary", "dead"),
        Input({"kind": "file", "location": str(files / "empty.txt")}, "empty", "dead"),
        Input({"kind": "file", "location": str(files / "huge.txt")}, "huge", "dead"),
        Input({"kind": "file", "location": str(files / "nul.txt")}, "binary", "dead"),
        Input({"kind": "file", "location": str(files / "chrome.txt")}, "broken html", "dead"),
    ]
    return inputs


def mixed_inputs(
    servers: Servers,
    work: Path,
    *,
    total: int = 300,
    chinese: int = 6,
    tag: str = "s",
    unique: bool = False,
) -> list[Input]:
    """At least ``total`` inputs: corpus pages over HTTP and from files (each copy with its
    own canonical URL, so each is its own document), the seeds, and the hostile cases.
    Mostly English and Korean; ``chinese`` small Chinese pages go through translation."""
    tag = re.sub(r"[^a-z0-9]+", "-", tag.lower())
    pages = corpus_pages()
    others = [EXTRACTION / p["html"] for p in pages if p["lang"] != "zh"]
    zh = small_chinese_pages(chinese)
    inputs = hostile_inputs(servers, work, tag)
    for path in SEEDS.glob("*.txt"):
        inputs.append(Input({"kind": "file", "location": str(path)}, "seed file"))
        # Plain text has no canonical link: its id comes from its content, so the copy served
        # over HTTP gets a sentence of its own (the same text twice is one document).
        lines = path.read_text(encoding="utf-8").split("\n")
        unique = f"This copy was served to the reliability suite as {tag}/{path.name}, uniquely."
        middle = len(lines) // 2
        body = "\n".join([*lines[:middle], "", unique, "", *lines[middle:]]).encode()
        url = servers.article(f"/seed/{tag}/{path.name}", body, "text/plain; charset=utf-8")
        inputs.append(Input({"kind": "url", "location": url}, "seed url"))
    for n, path in enumerate(zh):
        url = servers.news.url(f"/zh/{tag}/{n}.html")
        servers.article(f"/zh/{tag}/{n}.html", with_canonical(path.read_bytes(), url))
        inputs.append(Input({"kind": "url", "location": url}, "zh page"))
    copies = work / "pages"
    copies.mkdir(parents=True, exist_ok=True)
    n = 0
    while len(inputs) < total:
        path = others[n % len(others)]
        body = path.read_bytes()
        if n % 3 == 2:  # a third from files, the rest over HTTP
            target = copies / f"{n}.html"
            canonical = f"https://files.invalid/{tag}/{n}"
            target.write_bytes(with_canonical(body, canonical, n if unique else None))
            inputs.append(Input({"kind": "file", "location": str(target)}, "page file"))
        else:
            url = servers.news.url(f"/a/{tag}/{n}.html")
            servers.article(f"/a/{tag}/{n}.html", with_canonical(body, url, n if unique else None))
            inputs.append(Input({"kind": "url", "location": url}, "page url"))
        n += 1
    return inputs


def feed_inputs(servers: Servers, count: int, start: int, tag: str) -> list[Input]:
    """Articles that only the feed lists: beat must poll them in."""
    others = [EXTRACTION / p["html"] for p in corpus_pages() if p["lang"] == "en"]
    out = []
    for n in range(start, start + count):
        url = servers.news.url(f"/feed/{tag}/{n}.html")
        servers.article(
            f"/feed/{tag}/{n}.html", with_canonical(others[n % len(others)].read_bytes(), url)
        )
        servers.feed_items.append(url)
        out.append(Input({"kind": "url", "location": url}, "feed item"))
    return out


# ---- processes --------------------------------------------------------------------------


def process_children() -> dict[int, list[int]]:
    """Every running process's children, by parent pid, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    """pid and every process below it, from /proc."""
    children = process_children()
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Proc:
    """A service process of ours (worker or beat), in its own process group."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, ready: bytes | None = b" ready.", timeout: float = 180.0) -> Proc:
        self.starts += 1
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            out.write(f"\n===== start {self.starts} =====\n".encode())
            offset += len(f"\n===== start {self.starts} =====\n")
            self.proc = subprocess.Popen(
                self.argv, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        if ready is None:
            return self
        deadline = time.monotonic() + timeout
        while ready not in self.log.read_bytes()[offset:]:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start:\n{self.tail()}")
            time.sleep(0.2)
        return self

    def mark(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def since(self, mark: int) -> str:
        with self.log.open("rb") as fh:
            fh.seek(mark)
            return fh.read().decode(errors="replace")

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def pids(self) -> list[int]:
        return descendants(self.pid) if self.pid else []

    def pool_children(self) -> list[int]:
        return [p for p in self.pids() if p != self.pid]

    def kill(self) -> None:
        """SIGKILL to the whole process group: the main process and its pool at once."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self, timeout: float = 60.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


_RECEIVED = re.compile(r"Task newsingest\.\w+\[([0-9a-f-]{36})\] received")
_ENDED = re.compile(r"Task newsingest\.\w+\[([0-9a-f-]{36})\] (?:succeeded|retry|raised|failed)")


def unfinished(log: str) -> set[str]:
    """Task ids a worker received and had not finished (or handed back for a retry)."""
    return set(_RECEIVED.findall(log)) - set(_ENDED.findall(log))


def received(log: str) -> set[str]:
    return set(_RECEIVED.findall(log))


class RssSampler:
    """Sum of VmRSS over the given processes and their children, every ``interval`` s."""

    def __init__(self, procs: Callable[[], Iterable[Proc]], interval: float = 0.5) -> None:
        self.procs = procs
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            total = sum(rss_kib(pid) for proc in self.procs() for pid in proc.pids())
            self.samples.append((time.monotonic() - started, total))
            self._stop.wait(self.interval)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    @property
    def peak_mib(self) -> float:
        return max((kib for _, kib in self.samples), default=0) / 1024


# ---- the cluster ------------------------------------------------------------------------


def worker_env(
    redis_url: str, work: Path, packages: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSINGEST_")}
    env.pop("REDIS_URL", None)
    env.update(
        {
            "REDIS_URL": redis_url,
            "NEWSINGEST_KEY_PREFIX": PREFIX,
            "NEWSINGEST_DATA_DIR": str(work / "data"),
            "NEWSINGEST_PACKAGES_DIR": str(packages),
            "NEWSINGEST_MODELS_DIR": "",
            "NEWSINGEST_FETCH_ALLOW": "127.0.0.0/8:*",
            "NEWSINGEST_FILE_ROOTS": f"{work}:{SHARED}",
            "NEWSINGEST_FETCH_HOST_DELAY": "0",
            "NEWSINGEST_FETCH_HOST_CONCURRENCY": "4",
            "NEWSINGEST_FETCH_HOST_MAX_WAIT": "5",
            "NEWSINGEST_FETCH_CONNECT_TIMEOUT": "2",
            "NEWSINGEST_FETCH_READ_TIMEOUT": "2",
            "NEWSINGEST_FETCH_DEADLINE": str(FETCH_DEADLINE),
            "NEWSINGEST_FETCH_MAX_BYTES": "2000000",
            "NEWSINGEST_FETCH_MAX_DECOMPRESSED_BYTES": "4000000",
            "NEWSINGEST_FILE_MAX_BYTES": "2000000",
            "NEWSINGEST_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "NEWSINGEST_TASK_SOFT_TIME_LIMIT": str(SOFT_TIME_LIMIT),
            "NEWSINGEST_TASK_TIME_LIMIT": str(TIME_LIMIT),
            "NEWSINGEST_TASK_MAX_RETRIES": str(MAX_RETRIES),
            "NEWSINGEST_RETRY_BACKOFF_MAX": "4",
            "NEWSINGEST_TRANSLATE_DEVICE": "cpu",
            "NEWSINGEST_SOURCES_FILE": str(work / "sources.toml"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(extra or {})
    return env


def celery_worker(
    queue: str, concurrency: int | None, env: dict[str, str], log: Path, extra: Iterable[str] = ()
) -> Proc:
    """`newsingest worker --queue Q` as `newsingest run` starts it (the translate pool is
    threads), under a name of its own and without mingle/gossip chatter."""
    argv = worker_argv(
        queue,
        concurrency=concurrency,
        name=f"{queue}-{uuid.uuid4().hex[:6]}@%h",
        extra=["--without-mingle", "--without-gossip", *extra],
    )
    return Proc(f"{queue} worker", argv, env, log)


def celery_beat(env: dict[str, str], work: Path, log: Path) -> Proc:
    argv = beat_argv("info")
    return Proc("beat", argv, env, log)


SUBMIT = """
import json, sys
import redis
from service.settings import load_settings
from workers.app import make_app
producer = make_app(load_settings()).producer
for line in sys.stdin:
    producer.ingest(json.loads(line))
"""


class Cluster:
    """Redis, an ingest worker (-c 2), a translate worker (as `newsingest worker` runs it:
    a thread pool whose documents meet in one batch), optionally beat."""

    def __init__(
        self,
        work: Path,
        packages: Path,
        extra_env: dict[str, str] | None = None,
        *,
        worker_args: Iterable[str] = (),
        appendfsync: str = "always",
    ) -> None:
        self.work = work
        (work / "data").mkdir(parents=True, exist_ok=True)
        (work / "sources.toml").write_text("")
        self.redis = EmbeddedRedis(work / "redis", appendfsync=appendfsync).start()
        self.env = worker_env(self.redis.url, work, packages, extra_env)
        extra = list(worker_args)
        self.ingest = celery_worker("ingest", 2, self.env, work / "ingest.log", extra)
        self.translate = celery_worker("translate", None, self.env, work / "translate.log", extra)
        self.beat = celery_beat(self.env, work, work / "beat.log")
        self.client = redis.Redis.from_url(self.redis.url)
        self.sampler = RssSampler(lambda: (self.ingest, self.translate, self.beat))
        self.restarts: list[str] = []

    def start(self) -> Cluster:
        starters = [threading.Thread(target=p.start) for p in (self.ingest, self.translate)]
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        for p in (self.ingest, self.translate):
            if p.pid is None:
                raise RuntimeError(f"{p.name} did not start:\n{p.tail()}")
        self.sampler.start()
        return self

    def stop(self) -> None:
        self.sampler.stop()
        for p in (self.beat, self.ingest, self.translate):
            p.stop(30)
        self.client.close()
        self.redis.stop()

    def supervise(self) -> None:
        """Restart a service process that exited by itself, as compose's restart policy and
        `newsingest run` do in production (Celery's consumer can die of an unrecoverable
        kombu error while Redis is away); each restart is noted in the report."""
        for proc in (self.ingest, self.translate, self.beat):
            if proc.proc is not None and proc.proc.poll() is not None:
                code = proc.proc.returncode
                ready = b"beat: Starting" if proc is self.beat else b" ready."
                proc.start(ready=ready)
                self.restarts.append(f"{proc.name} exited by itself ({code}); restarted it")

    def restart_redis(self, down: float = 2.0) -> None:
        """kill -9 Redis and start it again on the same port and data directory."""
        self.redis.kill()
        time.sleep(down)
        self.redis = EmbeddedRedis(
            self.redis.data_dir, port=self.redis.port, appendfsync="always"
        ).start()

    def submit(self, inputs: Iterable[Input]) -> None:
        payload = "".join(json.dumps(i.source) + "\n" for i in inputs)
        subprocess.run(
            [sys.executable, "-c", SUBMIT], input=payload.encode(), cwd=REPO, env=self.env,
            check=True, timeout=120, capture_output=True,
        )  # fmt: skip

    def _retrying(self, read: Callable[[], Any]) -> Any:
        for attempt in range(60):
            try:
                return read()
            except (redis.ConnectionError, redis.BusyLoadingError):
                if attempt == 59:
                    raise
                time.sleep(0.5)
                self.client = redis.Redis.from_url(self.redis.url)
        raise AssertionError("unreachable")

    def outcomes(self) -> Outcomes:
        def read() -> Outcomes:
            entries = self.client.xrange(f"{PREFIX}:documents")
            dead = self.client.xrange(f"{PREFIX}:dead")
            return Outcomes.read(entries, dead)

        return self._retrying(read)  # type: ignore[no-any-return]

    def busy(self) -> int:
        """Tasks waiting in a queue or delivered and not yet acknowledged."""

        def read() -> int:
            queued = sum(
                int(self.client.llen(f"{PREFIX}:celery:{q}")) for q in ("ingest", "translate")
            )
            unacked = int(self.client.hlen(f"{PREFIX}:celery:unacked"))
            return queued + unacked

        return self._retrying(read)  # type: ignore[no-any-return]


# ---- accounting -------------------------------------------------------------------------


@dataclass
class Outcomes:
    documents: dict[str, list[tuple[str, int]]]  # location -> [(id, version)]
    entries: Counter[tuple[str, int]]  # (id, version) -> stream entries
    dead: dict[str, list[dict[str, str]]]  # location -> dead-letter entries

    @classmethod
    def read(cls, entries: list[Any], dead: list[Any]) -> Outcomes:
        documents: dict[str, list[tuple[str, int]]] = {}
        counted: Counter[tuple[str, int]] = Counter()
        for _sid, fields in entries:
            doc = json.loads(fields[b"doc"])
            key = (str(doc["id"]), int(doc["version"]))
            counted[key] += 1
            documents.setdefault(str(doc["source"]["location"]), []).append(key)
        failures: dict[str, list[dict[str, str]]] = {}
        for _sid, fields in dead:
            entry = {k.decode(): v.decode() for k, v in fields.items()}
            location = str(json.loads(entry["input"]).get("location"))
            failures.setdefault(location, []).append(entry)
        return cls(documents, counted, failures)

    def accounted(self, inputs: Iterable[Input]) -> bool:
        return all(i.location in self.documents or i.location in self.dead for i in inputs)


@dataclass
class Report:
    scenario: str
    inputs: int
    published: int
    dead_lettered: int
    lost: int
    duplicates: int
    seconds: float
    peak_rss_mib: float
    problems: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def row(self) -> str:
        return (
            f"{self.scenario:<24} {self.inputs:>6} {self.published:>9} {self.dead_lettered:>8} "
            f"{self.lost:>5} {self.duplicates:>10} {self.seconds:>7.0f}s {self.peak_rss_mib:>9.0f}"
        )


# Filled by the scenarios, printed by conftest.pytest_terminal_summary.
REPORTS: list[Report] = []

HEADER = (
    f"{'scenario':<24} {'inputs':>6} {'published':>9} {'dead':>8} {'lost':>5} "
    f"{'duplicates':>10} {'time':>8} {'peak RSS MiB':>9}"
)


def account(
    scenario: str, inputs: list[Input], outcomes: Outcomes, seconds: float, peak: float
) -> Report:
    published = sum(1 for i in inputs if i.location in outcomes.documents)
    dead = sum(
        1 for i in inputs if i.location not in outcomes.documents and i.location in outcomes.dead
    )
    lost = [
        i
        for i in inputs
        if i.location not in outcomes.documents and i.location not in outcomes.dead
    ]
    duplicates = sum(n - 1 for n in outcomes.entries.values() if n > 1)
    report = Report(scenario, len(inputs), published, dead, len(lost), duplicates, seconds, peak)
    for i in lost:
        report.problems.append(f"lost: {i.label} {i.location}")
    for key, n in outcomes.entries.items():
        if n > 1:
            report.problems.append(f"duplicate: {key} appears {n} times on the stream")
    revised = [i for i in inputs if len(set(outcomes.documents.get(i.location, []))) > 1]
    if revised:
        report.notes.append(
            f"{len(revised)} inputs were published in more than one version (a new revision, "
            f"not a duplicate), e.g. {revised[0].location}"
        )
    for location, entries in outcomes.dead.items():
        for entry in entries:
            if not entry.get("reason"):
                report.problems.append(f"dead letter without a reason: {location}")
            report.reasons[entry.get("reason", "")] += 1
    for i in inputs:
        if i.expect == "dead" and i.location in outcomes.documents:
            report.problems.append(f"published although it should fail: {i.label} {i.location}")
        if i.expect == "document" and i.location not in outcomes.documents:
            report.problems.append(
                f"dead-lettered although it should publish: {i.label} {i.location}"
            )
    return report


def wait_for_outcomes(
    cluster: Cluster, inputs: list[Input], timeout: float = SETTLE_SECONDS
) -> tuple[Outcomes, bool]:
    """Until every input is accounted for and no task is queued or running (then a little
    longer, to catch late duplicates), or until ``timeout``."""
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    while True:
        cluster.supervise()
        outcomes = cluster.outcomes()
        if outcomes.accounted(inputs) and cluster.busy() == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 3:
                return cluster.outcomes(), True
        else:
            quiet_since = None
        if time.monotonic() > deadline:
            return outcomes, False
        time.sleep(1.0)
