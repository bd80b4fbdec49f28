"""Soak: thousands of inputs through the running service, with worker memory watched.

Starts an embedded Redis, a loopback HTTP server with the shared corpus (each copy of a page
under its own URL and canonical link, so each is its own document), an ingest worker
(-c 2) and a translate worker (-c 1) as real Celery processes, submits ``--inputs`` inputs
(mostly English and Korean pages, ``--chinese`` small Chinese pages that are translated, a
share from files, and the hostile cases of the reliability suite), and samples the RSS of
every worker process once a second until everything came out.

Prints throughput, the workers' RSS at start, peak and end, and the RSS of the ingest pool
processes against the number of inputs done, which is what `worker_max_tasks_per_child` and
`worker_max_memory_per_child` are chosen from (trafilatura and lxml grow over a long run).

    .venv/bin/python benchmarks/soak.py [--inputs 2000] [--max-tasks-per-child N]
                                         [--max-memory-per-child KIB]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devtools.harness import (  # noqa: E402
    MODELS,
    Cluster,
    Servers,
    account,
    mixed_inputs,
    rss_kib,
    wait_for_outcomes,
)
from service.models import install_from  # noqa: E402


class Watch:
    """Once a second: total worker RSS, and each ingest pool process's RSS, against progress."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.rows: list[tuple[float, int, int, list[int]]] = []  # t, done, total KiB, children
        self.children_seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.monotonic()

    def _done(self) -> int:
        try:
            return int(self.cluster.client.xlen("rel:documents")) + int(
                self.cluster.client.xlen("rel:dead")
            )
        except Exception:  # noqa: BLE001 - a sample is skipped, not the soak
            return self.rows[-1][1] if self.rows else 0

    def _run(self) -> None:
        while not self._stop.is_set():
            procs = (self.cluster.ingest, self.cluster.translate)
            total = sum(rss_kib(pid) for proc in procs for pid in proc.pids())
            children = [rss_kib(pid) for pid in self.cluster.ingest.pool_children()]
            self.children_seen.update(self.cluster.ingest.pool_children())
            self.rows.append((time.monotonic() - self.started, self._done(), total, children))
            self._stop.wait(1.0)

    def start(self) -> Watch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--inputs", type=int, default=2000)
    parser.add_argument("--chinese", type=int, default=12)
    parser.add_argument(
        "--max-tasks-per-child", type=int, default=0,
        help="recycle an ingest/translate pool process after N tasks (0: never)",
    )  # fmt: skip
    parser.add_argument(
        "--max-memory-per-child", type=int, default=0,
        help="recycle a pool process once its RSS exceeds this many KiB (0: never)",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="newsingest-soak-"))
    packages = work / "packages"
    install_from(MODELS, packages)
    worker_args = ["--max-tasks-per-child", str(args.max_tasks_per_child or 1_000_000)]
    if args.max_memory_per_child:
        worker_args += ["--max-memory-per-child", str(args.max_memory_per_child)]
    servers = Servers.start()
    inputs = mixed_inputs(
        servers, work, total=args.inputs, chinese=args.chinese, tag="soak", unique=True
    )
    cluster = Cluster(
        work,
        packages,
        {"NEWSINGEST_WORKER_MAX_TASKS_PER_CHILD": str(args.max_tasks_per_child)},
        worker_args=worker_args,
        appendfsync="everysec",
    )
    labels: dict[str, int] = {}
    for item in inputs:
        labels[item.label] = labels.get(item.label, 0) + 1
    print(f"soak: {len(inputs)} inputs: " + ", ".join(f"{k} {v}" for k, v in labels.items()))
    print(
        f"recycling: max tasks per child {args.max_tasks_per_child or 'off'}, "
        f"max memory per child {args.max_memory_per_child or 'off'} KiB"
    )
    try:
        cluster.start()
        watch = Watch(cluster).start()
        time.sleep(2)
        start_rss = watch.rows[-1][2] if watch.rows else 0
        start_children = watch.rows[-1][3] if watch.rows else []
        started = time.monotonic()
        cluster.submit(inputs)
        outcomes, settled = wait_for_outcomes(cluster, inputs, timeout=args.timeout)
        seconds = time.monotonic() - started
        watch.stop()
        report = account("soak", inputs, outcomes, seconds, max(r[2] for r in watch.rows) / 1024)
    finally:
        cluster.stop()
        servers.stop()

    print(
        f"done{'' if settled else ' (GAVE UP WAITING)'}: published {report.published}, "
        f"dead-lettered {report.dead_lettered}, lost {report.lost}, duplicates "
        f"{report.duplicates} in {seconds:.0f} s = {len(inputs) / seconds:.1f} inputs/s"
    )
    end = watch.rows[-1]
    peak = max(watch.rows, key=lambda r: r[2])
    print(
        f"worker RSS (ingest + translate, all processes): start {mib(start_rss)}, "
        f"peak {mib(peak[2])} (at {peak[1]} inputs done), end {mib(end[2])}"
    )
    child_peak = max((max(r[3]) for r in watch.rows if r[3]), default=0)
    print(
        f"ingest pool process RSS (largest child): start {mib(max(start_children or [0]))}, "
        f"peak {mib(child_peak)}, end {mib(max(end[3] or [0]))}; "
        f"{len(watch.children_seen)} pool processes over the run"
    )
    print("ingest pool process RSS by inputs done (largest child, mean of children):")
    step = max(1, len(inputs) // 8)
    mark = 0
    for _t, done, _total, children in watch.rows:
        if done >= mark and children:
            print(
                f"  {done:>6} done  largest {mib(max(children)):>8}  "
                f"mean {mib(sum(children) / len(children)):>8}"
            )
            mark = done + step
    for problem in report.problems[:20]:
        print(f"PROBLEM {problem}")
    return 0 if settled and not report.lost and not report.duplicates else 1


if __name__ == "__main__":
    sys.exit(main())
