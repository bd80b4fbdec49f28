"""Translation throughput and quality: argostranslate as a user calls it, against our engine.

Run from the repository root (about 3 minutes on 2 cores for the default 200 sentences)::

    python -m benchmarks.translate            # or: python benchmarks/translate.py
    python -m benchmarks.translate --sweep    # beam 1/2/4 x int8/int8_float32 x 1/2 threads
    python -m benchmarks.translate --live     # 50 Chinese pages through a real worker

One process measures, on the first N sentences of WMT19 newstest zh->en (issue #16), with
chrF, BLEU and the preservation of numbers and Latin-script tokens on the same sentences:
(1) argostranslate at its defaults (``translate()`` per sentence, beam 4);
(2) argostranslate at our beam size;
(3) the ceiling: CTranslate2 batched on the same package with our settings;
(4) the service path: ``Engine.translate_documents`` with a cold Redis cache, paragraph
routing and protected spans; its speed is reported as a share of the ceiling's.
Then routing (English paragraphs inside zh documents, byte for byte), the cache's hit rate
on syndicated copies, the RSS of a fresh process that only loads the engine and translates,
and (d) a document's cost with a cold and a warm translation cache.

argostranslate offline: importing ``argostranslate.translate`` imports stanza, and the
stanza splitter bundled in the package tries to download at run time. With
``ARGOS_CHUNK_TYPE=SPACY`` argostranslate instead loads a spaCy pipeline from
``$XDG_CACHE_HOME/argos-translate/spacy`` (``networking.cache_spacy``: it downloads
``xx_sent_ud_sm`` unless ``spacy/senter/model`` exists there) and adds a sentencizer to it.
We seed that directory with a blank ``xx`` pipeline and the marker file, and point every
XDG directory and ``ARGOS_PACKAGES_DIR`` at a temporary directory, before the import.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._preservation import preservation  # noqa: E402
from service.models import install_from  # noqa: E402
from service.settings import Settings, load_settings  # noqa: E402
from service.translate import Engine  # noqa: E402

SHARED = Path(os.environ.get("NEWSINGEST_SHARED_DIR", REPO.parent / "shared"))
WMT = SHARED / "corpus/translation/wmt19_newstest_zh-en"
EXTRACTION = SHARED / "corpus/extraction"
MODELS = SHARED / "models"
DOC_SENTENCES = 10

Doc = tuple[str | None, list[str]]


def read_lines(path: Path, n: int) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [line.strip() for _, line in zip(range(n), fh, strict=False)]


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, because Linux carries ru_maxrss over exec from the
    parent, so a child started from a big parent would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def xlen(client: Any, key: str) -> int:
    return int(client.xlen(key))


def scores(hyp: list[str], ref: list[str]) -> tuple[float, float]:
    import sacrebleu

    return sacrebleu.corpus_bleu(hyp, [ref]).score, sacrebleu.corpus_chrf(hyp, [ref]).score


def timed(fn: Callable[[], list[str]]) -> tuple[list[str], float]:
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def seed_argos_env(tmp: Path, packages: Path) -> None:
    """Make ``import argostranslate.translate`` work offline; see the module docstring."""
    import spacy

    os.environ.update(
        XDG_CACHE_HOME=str(tmp / "cache"),
        XDG_DATA_HOME=str(tmp / "data"),
        XDG_CONFIG_HOME=str(tmp / "config"),
        ARGOS_PACKAGES_DIR=str(packages),
        ARGOS_CHUNK_TYPE="SPACY",
        ARGOS_DEVICE_TYPE="cpu",
        HF_HUB_OFFLINE="1",
    )
    spacy_dir = tmp / "cache/argos-translate/spacy"
    spacy_dir.parent.mkdir(parents=True, exist_ok=True)
    spacy.blank("xx").to_disk(spacy_dir)
    (spacy_dir / "senter").mkdir(exist_ok=True)
    (spacy_dir / "senter/model").write_bytes(b"")


def documents(src: list[str]) -> list[Doc]:
    """Documents of 10 sentences, one sentence per paragraph so outputs align with refs."""
    return [(None, src[i : i + DOC_SENTENCES]) for i in range(0, len(src), DOC_SENTENCES)]


def flatten(results: list[Any]) -> list[str]:
    return [p for r in results for p in (r.paragraphs_en or [])]


def make_engine(packages: Path, args: argparse.Namespace, **overrides: Any) -> Engine:
    s = load_settings()
    options: dict[str, Any] = {
        "device": s.translate_device,
        "compute_type": args.compute_type or s.translate_compute_type,
        "beam_size": args.beam or s.translate_beam_size,
        "intra_threads": s.translate_intra_threads if args.threads is None else args.threads,
        "max_batch_tokens": s.translate_max_batch_tokens,
        "max_sentence_tokens": s.translate_max_sentence_tokens,
    }
    options.update(overrides)
    return Engine(packages_dir=packages, **options)


def row(name: str, chars: int, seconds: float, hyp: list[str], ref: list[str], base: float) -> str:
    bleu, chrf = scores(hyp, ref)
    rate = chars / seconds
    ratio = f"{rate / base:6.1f}x" if base else "   -   "
    return (
        f"{name:<44} {seconds:7.1f} s {rate:8.0f} chars/s {ratio}"
        f"  BLEU {bleu:5.2f}  chrF {chrf:5.2f}"
    )


def child_rss(packages: Path, n: int, args: argparse.Namespace) -> None:
    """In a fresh process: load the engine, translate, print the peak RSS in MB."""
    src = read_lines(WMT / "src.zh", n)
    engine = make_engine(packages, args)
    engine.translate_documents("zh", documents(src))
    print(
        json.dumps(
            {"peak_rss_mb": round(peak_rss_mb(), 1), "modules_torch": "torch" in sys.modules}
        )
    )


def engine_rss(packages: Path, n: int, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child-rss",
        str(packages),
        "--n",
        str(n),
    ]
    for flag, value in (("--beam", args.beam), ("--compute-type", args.compute_type),
                        ("--threads", args.threads)):  # fmt: skip
        if value is not None:
            cmd += [flag, str(value)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def cache_benchmark(packages: Path, tmp: Path, src: list[str], args: argparse.Namespace) -> None:
    import redis

    from service.embedded import EmbeddedRedis
    from service.tcache import TranslationCache

    docs = documents(src)
    with EmbeddedRedis(tmp / "redis") as server:
        client = redis.Redis.from_url(server.url)
        cache = TranslationCache(client, key_prefix="bench", max_entries=100_000, ttl=3600)
        engine = make_engine(packages, args, cache=cache)
        engine.translate_sentences("zh", ["预热。"])  # load the model outside the timing
        cold = warm = 0.0
        for title, paragraphs in docs:
            started = time.perf_counter()
            first = engine.translate_document("zh", title, paragraphs)
            cold += time.perf_counter() - started
            started = time.perf_counter()
            again = engine.translate_document("zh", title, paragraphs)
            warm += time.perf_counter() - started
            assert again.paragraphs_en == first.paragraphs_en
        print(
            f"(d) cache, {len(docs)} documents re-ingested: "
            f"cold {cold / len(docs) * 1000:.1f} ms/doc, warm {warm / len(docs) * 1000:.2f} ms/doc"
            f" -> {cold / warm:.0f}x cheaper (cache hits {engine.stats.cache_hits},"
            f" sentences through the model {engine.stats.sentences_translated})"
        )
        client.close()


def _all_docs(engine: Engine, docs: list[Doc]) -> list[str]:
    return flatten(engine.translate_documents("zh", docs))


def sweep(packages: Path, src: list[str], ref: list[str], args: argparse.Namespace) -> None:
    chars = sum(map(len, src))
    docs = documents(src)
    print(f"sweep over {len(src)} sentences ({chars} chars), translate_documents over all:")
    for compute_type in ("int8", "int8_float32"):
        for threads in (1, 2):
            for beam in (1, 2, 4):
                engine = make_engine(
                    packages, args, beam_size=beam, compute_type=compute_type, intra_threads=threads
                )
                engine.translate_sentences("zh", ["预热。"])
                hyp, seconds = timed(partial(_all_docs, engine, docs))
                name = f"  {compute_type:<13} threads {threads} beam {beam}"
                print(row(name, chars, seconds, hyp, ref, 0.0), flush=True)


def live(packages: Path, tmp: Path, timeout: float) -> None:
    """50 Chinese pages through an embedded Redis and a real Celery worker."""
    import redis

    from service.embedded import EmbeddedRedis

    pages = []
    with (EXTRACTION / "index.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            if record.get("lang") == "zh":
                pages.append(str(EXTRACTION / record["html"]))
    pages = pages[:50]
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    with EmbeddedRedis(tmp / "live-redis") as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSINGEST_", "ARGOS_"))}
        env.update(
            REDIS_URL=server.url,
            NEWSINGEST_KEY_PREFIX=prefix,
            NEWSINGEST_PACKAGES_DIR=str(packages),
            NEWSINGEST_DATA_DIR=str(tmp / "live-data"),
            NEWSINGEST_MODELS_DIR="",
        )
        log = (tmp / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "worker", "--queue", "ingest,translate",
             "--concurrency", "2", "--name", f"bench-{uuid.uuid4().hex[:6]}@%h",
             "--loglevel", "warning", "--", "--without-mingle", "--without-gossip"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        client = redis.Redis.from_url(server.url)
        try:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "workers.cli", "submit", *pages],
                cwd=REPO, env=env, check=True, capture_output=True, timeout=120,
            )  # fmt: skip
            submitted = time.perf_counter() - started
            done = 0
            while time.perf_counter() - started < timeout:
                done = xlen(client, f"{prefix}:documents") + xlen(client, f"{prefix}:dead")
                if done >= len(pages) or worker.poll() is not None:
                    break
                time.sleep(0.5)
            elapsed = time.perf_counter() - started
            documents_n = xlen(client, f"{prefix}:documents")
            dead_n = xlen(client, f"{prefix}:dead")
            print(
                f"(live) {len(pages)} zh pages: submitted in {submitted:.1f} s;"
                f" {documents_n} documents"
                f" + {dead_n} dead letters after {elapsed:.1f} s"
                f"{'' if done >= len(pages) else ' (TIMED OUT)'}"
                f" -> {documents_n / elapsed:.2f} docs/s (worker start-up included)"
            )
        finally:
            worker.terminate()
            try:
                worker.wait(60)
            except subprocess.TimeoutExpired:
                worker.kill()
            client.close()
            log.close()


def _line(name: str, seconds: float, chars: int, hyp: list[str], src: list[str],
          ref: list[str], ceiling_rate: float) -> str:  # fmt: skip
    bleu, chrf = scores(hyp, ref)
    kept, n, whole, pairs = preservation(src, hyp)
    rate = chars / seconds
    share = f"{rate / ceiling_rate:5.2f}" if ceiling_rate else "  -  "
    return (
        f"{name:<34} {seconds:7.1f} s {rate:7.0f} chars/s {share} of ceiling  chrF {chrf:5.2f}"
        f"  BLEU {bleu:5.2f}  kept {kept:.4f} of {n} tokens ({whole:.3f} of {pairs} pairs)"
    )


def four_way(packages: Path, tmp: Path, src: list[str], ref: list[str],
             args: argparse.Namespace) -> None:  # fmt: skip
    """Issue #16's comparison in one run, chrF on the same sentences for all four."""
    import redis

    from benchmarks._four_way import ceiling, routing_check, service_path, syndication
    from service.embedded import EmbeddedRedis
    from service.tcache import TranslationCache

    settings = bench_settings(packages, args)
    chars = sum(map(len, src))
    print(f"{len(src)} WMT19 zh->en dev sentences, {chars} source chars; cpus {os.cpu_count()}")
    rows: list[tuple[str, float, list[str]]] = []
    if not args.skip_argos:
        seed_argos_env(tmp / "argos", packages)
        import argostranslate.settings as argos_settings
        import argostranslate.translate as argos

        argos.translate("预热。", "zh", "en")  # load the model outside the timing
        default_beam = argos_settings.beam_size
        for beam in dict.fromkeys((default_beam, settings.translate_beam_size)):
            argos_settings.beam_size = beam
            hyp, seconds = timed(lambda: [argos.translate(s, "zh", "en") for s in src])
            what = "defaults" if beam == default_beam else "our beam"
            rows.append((f"argostranslate {what}: beam {beam}", seconds, hyp))
            print(
                f"  (argostranslate {what}: translate() per sentence, beam {beam}, "
                f"compute_type {argos_settings.compute_type}, spaCy sentencizer)",
                flush=True,
            )
        argos_settings.beam_size = default_beam
    with EmbeddedRedis(tmp / "redis-four-way") as server:
        client = redis.Redis.from_url(server.url)
        # Ceiling and service path take turns, best of two rounds each: the machine's other
        # load then weighs on both alike. The service path starts from a cold cache each time.
        best: dict[str, tuple[float, list[str]]] = {}
        for round_ in range(2):
            hyp, seconds, described = ceiling(packages, settings, src)
            if seconds < best.get("ceiling", (1e9, []))[0]:
                best["ceiling"] = (seconds, hyp)
            cache = TranslationCache(
                client, key_prefix=f"bench{round_}", max_entries=100_000, ttl=3600
            )
            engine = Engine.from_settings(settings, cache)
            hyp, seconds, facts = service_path(engine, documents(src))
            if seconds < best.get("service", (1e9, []))[0]:
                best["service"] = (seconds, hyp)
        ceiling_rate = chars / best["ceiling"][0]
        rows.append(("ceiling: CTranslate2 batched", *best["ceiling"]))
        rows.append(("service path: translate_documents", *best["service"]))
        print(f"  (ceiling: {described}; whole lines, no splitting, protection or cache)")
        print(
            f"  (service path: beam {engine.beam_size} {engine.resolved_compute_type()}, "
            f"{len(src) // DOC_SENTENCES} documents of {DOC_SENTENCES} paragraphs in one "
            f"call, cold Redis cache, routing, protection {engine.protect}: "
            f"{facts['sentences_masked']} sentences masked, {facts['model_calls']} model "
            f"calls, documents flagged {facts['documents_flagged'] or 'none'})"
        )
        print()
        for name, secs, out in rows:
            print(_line(name, secs, chars, out, src, ref, ceiling_rate), flush=True)
        print()
        routed = routing_check(engine, src, ref)
        print(
            f"routing: {routed['identical']}/{routed['english']} English titles and "
            f"paragraphs inside zh documents byte-identical; {routed['translated']}/"
            f"{routed['chinese']} Chinese paragraphs translated"
        )
        synd = syndication(engine, documents(src))
        print(
            f"cache on syndicated copies: {synd['copies']} copies of {len(src) // DOC_SENTENCES} "
            f"stories on 3 other sites: {synd['hits']} cache hits, {synd['misses']} sentences "
            f"through the model -> hit rate {synd['hit_rate']:.3f}"
        )
        client.close()


def bench_settings(packages: Path, args: argparse.Namespace) -> Settings:
    s = load_settings()
    changes: dict[str, Any] = {"packages_dir": packages}
    if args.beam:
        changes["translate_beam_size"] = args.beam
    if args.compute_type:
        changes["translate_compute_type"] = args.compute_type
    if args.threads is not None:
        changes["translate_intra_threads"] = args.threads
    if args.no_protect:
        changes["translate_protect_spans"] = False
    return s.replace(**changes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="WMT19 sentences (default 200)")
    parser.add_argument("--beam", type=int, help="beam size (default: settings)")
    parser.add_argument("--compute-type", help="CTranslate2 compute type (default: settings)")
    parser.add_argument("--threads", type=int, help="intra threads (default: settings)")
    parser.add_argument("--skip-argos", action="store_true", help="skip the argos baseline")
    parser.add_argument("--no-protect", action="store_true", help="service path without spans")
    parser.add_argument("--sweep", action="store_true", help="beam/compute type/threads sweep")
    parser.add_argument("--live", action="store_true", help="also run 50 pages through a worker")
    parser.add_argument("--live-timeout", type=float, default=600.0)
    parser.add_argument("--child-rss", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_rss:
        child_rss(args.child_rss, args.n, args)
        return

    tmp = Path(tempfile.mkdtemp(prefix="newsingest-bench-"))
    packages = tmp / "packages"
    install_from(MODELS, packages)
    src, ref = read_lines(WMT / "src.zh", args.n), read_lines(WMT / "ref.en", args.n)

    if args.sweep:
        sweep(packages, src, ref, args)
        return

    four_way(packages, tmp, src, ref, args)
    print(
        "peak RSS of this process (argostranslate, stanza, spaCy loaded too): "
        f"{peak_rss_mb():.0f} MB"
    )
    rss = engine_rss(packages, args.n, args)
    print(
        f"peak RSS of a fresh process that loads the engine and translates {args.n} sentences: "
        f"{rss['peak_rss_mb']:.0f} MB (torch imported: {rss['modules_torch']})"
    )
    cache_benchmark(packages, tmp, src, args)
    if args.live:
        live(packages, tmp, args.live_timeout)


if __name__ == "__main__":
    main()
