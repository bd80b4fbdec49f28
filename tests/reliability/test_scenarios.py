"""Fault injection on the real service: each scenario feeds 300 mixed inputs to real worker
processes on a Redis of its own, breaks one thing in the middle, and then checks the
promise: inputs = documents + dead letters, none lost, no stream entry twice, every dead
letter with a reason."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from devtools.harness import (
    PREFIX,
    REPORTS,
    Cluster,
    Input,
    Proc,
    Report,
    Servers,
    account,
    feed_inputs,
    mixed_inputs,
    received,
    unfinished,
    wait_for_outcomes,
)

pytestmark = pytest.mark.integration

# How long a scenario waits for the moment to strike (work under way) before striking anyway.
WAIT_FOR_MOMENT = 180


def published(cluster: Cluster, language: str | None = None) -> int:
    if language is None:
        return int(cluster._retrying(lambda: cluster.client.xlen(f"{PREFIX}:documents")))
    entries = cluster._retrying(lambda: cluster.client.xrange(f"{PREFIX}:documents"))
    return sum(1 for _, f in entries if json.loads(f[b"doc"])["language"] == language)


def wait_until(what: str, predicate: Callable[[], bool], notes: list[str]) -> None:
    deadline = time.monotonic() + WAIT_FOR_MOMENT
    while not predicate():
        if time.monotonic() > deadline:
            notes.append(f"struck without waiting further: {what} did not happen")
            return
        time.sleep(0.25)


def run(
    name: str,
    work: Path,
    packages: Path,
    servers: Servers,
    strike: Callable[[Cluster, list[str]], None],
    *,
    chinese: int = 6,
    inputs: list[Input] | None = None,
    # Beat runs in production, and its heartbeat re-sends tasks lost in transit (outbox).
    beat: bool = True,
    prepare: Callable[[Cluster], None] | None = None,
) -> Report:
    inputs = (
        inputs if inputs is not None else mixed_inputs(servers, work, chinese=chinese, tag=name)
    )
    cluster = Cluster(work, packages)
    notes: list[str] = []
    try:
        if prepare is not None:
            prepare(cluster)
        cluster.start()
        started = time.monotonic()
        if beat:
            cluster.beat.start(ready=b"beat: Starting")
        cluster.submit([i for i in inputs if i.label != "feed item"])
        strike(cluster, notes)
        outcomes, settled = wait_for_outcomes(cluster, inputs)
        seconds = time.monotonic() - started
        notes.extend(cluster.restarts)
        if not settled:
            notes.append("did not settle: gave up waiting")
        report = account(name, inputs, outcomes, seconds, cluster.sampler.peak_mib)
        report.notes += notes
        REPORTS.append(report)
        if report.lost or report.duplicates or report.problems or not settled:
            for proc in (cluster.ingest, cluster.translate, cluster.beat):
                print(f"---- {proc.name} log tail ----\n{proc.tail(3000)}")
        return report
    finally:
        cluster.stop()


def check(report: Report) -> None:
    assert report.lost == 0, report.problems
    assert report.duplicates == 0, report.problems
    assert not report.problems, report.problems


def test_kill_9_of_the_translate_worker_mid_batch_loses_nothing(
    tmp_path: Path, packages: Path, servers: Servers
) -> None:
    def strike(cluster: Cluster, notes: list[str]) -> None:
        wait_until(
            "a translation finished and more are queued",
            lambda: published(cluster, "zh") >= 1 and cluster.busy() > 2,
            notes,
        )
        wait_until(
            "translations in flight",
            lambda: len(unfinished(cluster.translate.since(0))) >= 2,
            notes,
        )
        before = published(cluster, "zh")
        cluster.translate.kill()
        in_flight = unfinished(cluster.translate.since(0))
        notes.append(
            f"killed the translate worker (main and pool) with {before} zh published and "
            f"{len(in_flight)} translate tasks in flight"
        )
        time.sleep(2)
        restarted = cluster.translate.mark()
        cluster.translate.start()
        redelivered.append((in_flight, cluster.translate, restarted))

    redelivered: list[tuple[set[str], Proc, int]] = []
    report = run("kill translate worker", tmp_path, packages, servers, strike, chinese=12)
    check(report)
    check_redelivered(report, redelivered)


def check_redelivered(report: Report, kills: list[tuple[set[str], Proc, int]]) -> None:
    """The tasks a killed worker had in flight ran again on the worker started after it."""
    for in_flight, proc, restarted in kills:
        again = in_flight & received(proc.since(restarted))
        report.notes.append(f"{len(again)} of {len(in_flight)} in-flight tasks ran again")
        assert in_flight, "the kill found no task in flight: the scenario proved nothing"
        assert again == in_flight


def test_kill_9_of_ingest_workers_loses_nothing(
    tmp_path: Path, packages: Path, servers: Servers
) -> None:
    def strike(cluster: Cluster, notes: list[str]) -> None:
        wait_until("40 documents", lambda: published(cluster) >= 40, notes)
        children = cluster.ingest.pool_children()
        if children:
            os.kill(children[0], signal.SIGKILL)  # a pool process: the task is requeued
            notes.append(f"killed one ingest pool process at {published(cluster)} documents")
        wait_until("80 documents", lambda: published(cluster) >= 80, notes)
        cluster.ingest.kill()  # the whole worker: redelivery after the visibility timeout
        in_flight = unfinished(cluster.ingest.since(0))
        notes.append(
            f"killed the ingest worker (main and pool) at {published(cluster)} documents, "
            f"{len(in_flight)} ingest tasks in flight"
        )
        time.sleep(2)
        restarted = cluster.ingest.mark()
        cluster.ingest.start()
        redelivered.append((in_flight, cluster.ingest, restarted))

    redelivered: list[tuple[set[str], Proc, int]] = []
    report = run("kill ingest worker", tmp_path, packages, servers, strike)
    check(report)
    check_redelivered(report, redelivered)


def test_a_redis_crash_and_restart_loses_nothing(
    tmp_path: Path, packages: Path, servers: Servers
) -> None:
    def strike(cluster: Cluster, notes: list[str]) -> None:
        wait_until("60 documents", lambda: published(cluster) >= 60, notes)
        before = published(cluster)
        marks = {p: p.mark() for p in (cluster.ingest, cluster.translate)}
        cluster.restart_redis(down=3.0)
        notes.append(f"kill -9 of Redis at {before} documents, back after 3 s")
        wait_until(
            "workers to notice",
            lambda: all("broker" in p.since(m).lower() for p, m in marks.items()),
            notes,
        )
        noticed.update(
            p.name for p, m in marks.items() if "connection to broker lost" in p.since(m).lower()
        )

    noticed: set[str] = set()
    report = run("restart redis", tmp_path, packages, servers, strike)
    report.notes.append(f"lost the broker connection and came back: {sorted(noticed)}")
    check(report)
    assert noticed == {"ingest worker", "translate worker"}


def test_stopping_and_starting_beat_loses_no_feed_item(
    tmp_path: Path, packages: Path, servers: Servers
) -> None:
    first = feed_inputs(servers, 20, 0, "beat")
    later: list[Input] = []
    inputs = mixed_inputs(servers, tmp_path, total=260, tag="beat") + first

    def prepare(cluster: Cluster) -> None:
        (tmp_path / "sources.toml").write_text(
            "[[sources]]\n"
            'name = "loopback"\n'
            f'url = "{servers.news.url("/feed.xml")}"\n'
            'kind = "rss"\n'
            "interval = 3\n"
        )

    def strike(cluster: Cluster, notes: list[str]) -> None:
        def polled() -> bool:
            outcomes = cluster.outcomes()
            return sum(i.location in outcomes.documents for i in first) >= 10

        wait_until("half the feed ingested", polled, notes)
        cluster.beat.kill()
        notes.append("kill -9 of beat; 20 items added to the feed while it was down")
        later.extend(feed_inputs(servers, 20, 20, "beat"))
        inputs.extend(later)
        time.sleep(5)
        restarted = cluster.beat.mark()
        cluster.beat.start(ready=b"beat: Starting")
        wait_until(
            "a poll after the restart",
            lambda: "poll:loopback" in cluster.beat.since(restarted),
            notes,
        )
        polls_before = cluster.beat.since(0)[:restarted].count("Sending due task poll:loopback")
        notes.append(f"beat sent {polls_before} polls before the kill, polling again after")

    report = run(
        "restart beat",
        tmp_path,
        packages,
        servers,
        strike,
        inputs=inputs,
        beat=True,
        prepare=prepare,
    )
    check(report)


def test_resets_and_stalls_from_the_news_server_lose_nothing(
    tmp_path: Path, packages: Path, servers: Servers
) -> None:
    def strike(cluster: Cluster, notes: list[str]) -> None:
        wait_until("40 documents", lambda: published(cluster) >= 40, notes)
        servers.faults.mode = "reset"
        time.sleep(4)
        servers.faults.mode = "stall"
        time.sleep(6)
        servers.faults.mode = "flaky"
        time.sleep(6)
        servers.faults.mode = None
        notes.append(f"faults answered: {dict(servers.faults.hits)}")

    check(run("http resets and stalls", tmp_path, packages, servers, strike))
