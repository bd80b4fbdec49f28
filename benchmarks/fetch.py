"""Fetch throughput against local servers, with and without politeness.

Starts its own Redis (embedded) and four loopback HTTP servers (127.0.0.1-4, so four
"hosts"), then fetches a ~58 KB corpus page from threads sharing one guarded client, at
several concurrency levels. Modes:

- ``plain``: fetch_url alone (SSRF guard, caps, bounded decompression);
- ``polite-0``: plus robots.txt (cached in Redis) and the per-host slot scripts, no delay;
- ``polite-D``: plus a per-host delay of D seconds, which caps throughput at hosts / D.

Prints pages/s and p50/p95 latency per run. Each run stops after ``--pages`` fetches or
``--seconds``, whichever comes first. Server and client share this process (and its GIL),
so absolute numbers are a floor, useful for comparing modes on one machine.

    python -m benchmarks.fetch [--pages 1000] [--seconds 6] [--levels 1,4,16] [--delay 0.05]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import redis

from devtools.http_fixtures import Site
from service.embedded import EmbeddedRedis
from service.fetch import FetchPolicy, Source, fetch_url, make_client
from service.politeness import Politeness
from service.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO.parent / "shared/corpus/extraction/scrapinghub_aeb/pages/06ee193de4bd611f.html"
HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"]


def run(
    sites: list[Site],
    settings: Settings,
    client: redis.Redis,
    threads: int,
    pages: int,
    seconds: float,
    mode: str,
) -> tuple[int, float, list[float], dict[str, int]]:
    policy = FetchPolicy.from_settings(settings)
    politeness = Politeness(client, settings) if mode != "plain" else None
    http = make_client(policy)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    issued = 0
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        nonlocal issued
        while True:
            with lock:
                if issued >= pages or time.monotonic() > stop_at:
                    return
                n = issued
                issued += 1
            site = sites[n % len(sites)]
            started = time.perf_counter()
            try:
                fetch_url(Source("url", site.url(f"/p/{n}")), policy, http, politeness=politeness)
            except Exception as exc:  # noqa: BLE001 - a benchmark counts failures, it does not stop
                reason = getattr(exc, "reason", type(exc).__name__)
                with lock:
                    errors[reason] = errors.get(reason, 0) + 1
                continue
            with lock:
                latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(seconds + 30)
    elapsed = time.perf_counter() - began
    http.close()
    return len(latencies), elapsed, latencies, errors


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--levels", default="1,4,16")
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    body = PAGE.read_bytes()

    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis").start()
        sites = [Site(host).start() for host in HOSTS]
        try:
            for site in sites:
                for n in range(args.pages):
                    site.static(f"/p/{n}", body, "text/html; charset=utf-8")
                site.static("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
            client = redis.Redis.from_url(server.url)
            print(f"page {len(body)} bytes, {len(HOSTS)} hosts, Python {sys.version.split()[0]}")
            print(f"{'mode':<12}{'threads':>8}{'pages':>7}{'pages/s':>10}{'p50 ms':>9}"
                  f"{'p95 ms':>9}  errors")  # fmt: skip
            for mode, delay in (("plain", 0.0), ("polite-0", 0.0), (f"polite-{args.delay:g}",
                                                                     args.delay)):  # fmt: skip
                for threads in levels:
                    settings = load_settings(
                        {
                            "REDIS_URL": server.url,
                            "NEWSINGEST_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
                            "NEWSINGEST_FETCH_ALLOW": "127.0.0.0/8:*",
                            "NEWSINGEST_FETCH_HOST_DELAY": str(delay),
                            "NEWSINGEST_FETCH_HOST_CONCURRENCY": "8",
                            "NEWSINGEST_FETCH_HOST_MAX_WAIT": "60",
                        }
                    )
                    done, elapsed, latencies, errors = run(
                        sites, settings, client, threads, args.pages, args.seconds, mode
                    )
                    print(
                        f"{mode:<12}{threads:>8}{done:>7}{done / elapsed:>10.1f}"
                        f"{percentile(latencies, 0.5) * 1000:>9.1f}"
                        f"{percentile(latencies, 0.95) * 1000:>9.1f}  {errors or ''}"
                    )
            client.close()
        finally:
            for site in sites:
                site.stop()
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
