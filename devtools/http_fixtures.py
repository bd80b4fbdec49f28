"""Real loopback servers for fetch tests and the fetch benchmark.

:class:`Site` is a threaded HTTP/1.1 server with a route table; every request is recorded so
a test can say what reached the server. :class:`Silent` accepts connections and never
answers. :class:`Listener` listens but never accepts, so a test can prove that nobody even
connected to it (a completed TCP handshake would sit in its backlog and make it readable).
"""

from __future__ import annotations

import gzip
import select
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[["Request"], None]


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]


class Request(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, Nagle's algorithm and the
    # client's delayed ACK add 40 ms to every response.
    disable_nagle_algorithm = True
    server: _Server
    count = 0  # how many times this path was requested, this request included

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server.site
        path = self.path.split("?", 1)[0]
        self.count = site.record(self.path, {k.lower(): v for k, v in self.headers.items()})
        handler = site.routes.get(path)
        if handler is None:
            self.send(404, b"not found", "text/plain")
            return
        try:
            handler(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    @property
    def stopping(self) -> bool:
        return self.server.site.stopped.is_set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    site: Site

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-response are what these tests are about: stay quiet."""
        if not isinstance(sys.exc_info()[1], OSError | ValueError):
            super().handle_error(request, client_address)


class Site:
    """An HTTP server on ``host`` (any 127.x address) serving ``routes``."""

    def __init__(self, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.tls = tls
        self.routes: dict[str, Handler] = {}
        self.requests: list[Seen] = []
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def record(self, path: str, headers: dict[str, str]) -> int:
        with self._lock:
            self.requests.append(Seen(path, headers))
            key = path.split("?", 1)[0]
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]

    def hits(self, path: str) -> int:
        with self._lock:
            return self._counts.get(path, 0)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}{path}"

    def start(self) -> Site:
        self._server = _Server((self.host, 0), Request)
        self._server.site = self
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Site:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- route helpers ------------------------------------------------------------------------

    def static(
        self,
        path: str,
        body: bytes,
        content_type: str | None = "text/html",
        headers: dict[str, str] | None = None,
        status: int = 200,
    ) -> None:
        def handle(req: Request) -> None:
            req.send(status, body, content_type, headers)

        self.routes[path] = handle

    def redirect(self, path: str, location: str, status: int = 301) -> None:
        self.static(path, b"", None, {"Location": location}, status)

    def sequence(self, path: str, responses: list[tuple[int, bytes, dict[str, str]]]) -> None:
        """Answer the n-th request with responses[n] (the last one repeats)."""

        def handle(req: Request) -> None:
            status, body, headers = responses[min(req.count, len(responses)) - 1]
            req.send(status, body, headers.get("Content-Type", "text/html"), headers)

        self.routes[path] = handle


def endless(req: Request) -> None:
    """A body that never ends (until the client hangs up or the server stops)."""
    req.send_response(200)
    req.send_header("Content-Type", "text/html")
    req.send_header("Connection", "close")
    req.end_headers()
    req.close_connection = True
    chunk = b"<p>" + b"x" * 16_000 + b"</p>\n"
    for _ in range(100_000):
        if req.stopping:
            return
        req.wfile.write(chunk)


def drip_headers(req: Request) -> None:
    """Headers sent one byte at a time, each well inside the read timeout."""
    req.close_connection = True
    req.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for _ in range(600):
        if req.stopping:
            return
        req.wfile.write(b"X")
        req.wfile.flush()
        time.sleep(0.05)


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes gzipped: about a thousandth of that on the wire."""
    return gzip.compress(b"\0" * size, compresslevel=9)


class Silent:
    """Accepts connections and never answers."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_server((host, 0))
        self.sock.settimeout(0.05)
        self.host = host
        self.accepted: list[socket.socket] = []
        self.stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def __enter__(self) -> Silent:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self._thread.join(5)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


class Listener:
    """Listens on ``host`` and never accepts: :meth:`connected` tells whether anyone tried."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.sock = socket.create_server((host, 0), backlog=8)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def connected(self, wait: float = 0.2) -> bool:
        readable, _, _ = select.select([self.sock], [], [], wait)
        return bool(readable)

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
