"""The backstop of "never lost": a task that fails in a way its own code cannot catch (the
hard time limit kills it, or an exception escapes its handlers) still ends in the
dead-letter stream with a reason, instead of being acknowledged and forgotten."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools.harness import PREFIX, REPO, Cluster, Input, Servers, stall

pytestmark = pytest.mark.integration


def dead_letters(cluster: Cluster, count: int, timeout: float = 60) -> list[dict[str, str]]:
    deadline = time.monotonic() + timeout
    while True:
        entries = cluster.client.xrange(f"{PREFIX}:dead")
        if len(entries) >= count or time.monotonic() > deadline:
            return [{k.decode(): v.decode() for k, v in f.items()} for _, f in entries]
        time.sleep(0.5)


def test_a_task_killed_by_the_hard_time_limit_is_dead_lettered(
    tmp_path: Path, packages: Path, servers: Servers
) -> None:
    """A pool process stuck where no signal reaches Python (SIGSTOP stands in for a long C
    call) cannot honour the soft limit; the hard limit kills it."""
    cluster = Cluster(
        tmp_path,
        packages,
        {"NEWSINGEST_TASK_SOFT_TIME_LIMIT": "3", "NEWSINGEST_TASK_TIME_LIMIT": "5"},
    ).start()
    stopped: list[int] = []
    try:
        servers.slow.routes["/stall.html"] = stall(30)
        stalled = Input({"kind": "url", "location": servers.slow.url("/stall.html")}, "stall")
        cluster.submit([stalled])
        deadline = time.monotonic() + 60
        while "received" not in cluster.ingest.since(0) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        for pid in cluster.ingest.pool_children():
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        [entry] = dead_letters(cluster, 1)
        assert json.loads(entry["input"])["location"] == stalled.location
        assert entry["reason"] == "time_limit", entry
        assert entry["stage"] == "ingest"
    finally:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        cluster.stop()


def test_an_exception_that_escapes_a_task_is_dead_lettered(tmp_path: Path, packages: Path) -> None:
    cluster = Cluster(tmp_path, packages).start()
    try:
        source = {"kind": "file", "location": str(tmp_path / "article.html")}
        broken = {"source": source, "language": "zh"}  # no "fetched_at": from_dict fails
        payload = json.dumps(broken)
        subprocess.run(
            [sys.executable, "-c",
             "import json, sys;"
             " from service.settings import load_settings; from workers.app import make_app;"
             " app = make_app(load_settings()); app.send_task("
             "'newsingest.translate', args=[json.loads(sys.argv[1])], queue='translate')",
             payload],
            cwd=REPO, env=cluster.env, check=True, timeout=60,
        )  # fmt: skip
        [entry] = dead_letters(cluster, 1)
        assert json.loads(entry["input"]) == source
        assert entry["reason"] == "internal_error"
        assert "KeyError" in entry["error"]
    finally:
        cluster.stop()
