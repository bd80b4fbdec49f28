"""Local tools, no Redis: `process`, `detect`, `translate`, `models`, `schema`, `eval`."""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.errors import IngestError, ModelError, TranslationError
from service.models import DEFAULT_INDEX_URL
from service.settings import Settings

from . import _options as opt
from ._common import emit, fail
from ._stdin import mostly_replaced, read_lines

if TYPE_CHECKING:
    from service.fetch import Source
    from service.pipeline import Pipeline

# `translate` sends stdin to the model this many lines at a time.
TRANSLATE_BATCH_LINES = 64


def cmd_process(args: argparse.Namespace, settings: Settings) -> int:
    """The whole route in-process, one JSON document per input on stdout (per page record
    of a WARC file)."""
    from service.archive import warc_format
    from service.fetch import source_from_arg
    from service.models import install_from
    from service.pipeline import Pipeline

    if settings.models_dir is not None and not args.no_translate:
        try:
            install_from(settings.models_dir, settings.packages_dir)
        except ModelError as exc:
            print(f"newsingest: WARNING: {exc}", file=sys.stderr)
    politeness = None
    if args.polite:
        import redis

        from service.politeness import Politeness

        from ._common import client

        try:
            politeness = Politeness(client(settings), settings)
        except (SystemExit, redis.RedisError) as exc:
            reason = str(exc).removeprefix("newsingest: ").splitlines()[0]
            fail(f"--polite needs Redis (robots.txt cache, per-host limits): {reason}")
            return 2
    # The user names the files: no file_roots here (those confine work from the queue).
    pipeline = Pipeline(settings, politeness=politeness, confine_files=False)
    status = 0
    for item in args.inputs:
        try:
            source = source_from_arg(item)
        except IngestError as exc:
            fail(f"{item}: {exc.reason}: {exc.message}")
            status = 1
            continue
        if source.kind == "file" and warc_format(source.location) is not None:
            status = max(status, _process_warc(pipeline, source.location, args, settings))
            continue
        if args.lang:
            source = source.with_hint(args.lang)
        status = max(status, _process_one(pipeline, item, source, args, settings))
    return status


def _process_one(
    pipeline: Pipeline, label: str, source: Source, args: argparse.Namespace, settings: Settings
) -> int:
    """One input through the route: its document on stdout, or one line on stderr (1)."""
    try:
        doc = pipeline.process(source, translate=not args.no_translate)
    except IngestError as exc:
        fail(f"{label}: {exc.reason}: {exc.message}")
        return 1
    except Exception as exc:  # noqa: BLE001 - one bad input must not stop the others
        if settings.log_level == "DEBUG":
            traceback.print_exc()
        detail = " ".join(str(exc).split())[:300]
        fail(f"{label}: internal_error: {type(exc).__name__}: {detail}")
        return 1
    emit(doc.as_dict())
    return 0


def _process_warc(
    pipeline: Pipeline, path: str, args: argparse.Namespace, settings: Settings
) -> int:
    """A WARC file (told by its first bytes): each page record through the route, as a
    backfill would send it, one document each. Records a backfill skips (revisits, requests,
    non-200 or non-page responses) are skipped; a damaged record is one line on stderr."""
    from service.archive import Broken, Filters, record_source, scan

    filters = Filters(language_hint=args.lang or None)
    status = 0
    for item in scan(path, prefix_bytes=filters.prefix_bytes):
        if isinstance(item, Broken):
            fail(f"{path}@{item.offset}: {item.reason}: {item.error}")
            status = 1
            continue
        if filters.drop_reason(item) is not None:
            continue
        source = record_source(path, item.offset, item.url, item.record_id, filters.language_hint)
        status = max(
            status, _process_one(pipeline, f"{path}@{item.offset}", source, args, settings)
        )
    return status


def _warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_detect(args: argparse.Namespace, settings: Settings) -> int:
    """One `code<TAB>confidence` line per stdin line; a line mostly not UTF-8 is `und`."""
    from service.language import UNDETERMINED, detect

    for text in read_lines(sys.stdin.buffer, settings.stdin_max_line_chars, _warn):
        if mostly_replaced(text):
            result = UNDETERMINED
        else:
            result = detect(text, seed=settings.langdetect_seed)
        sys.stdout.write(f"{result.language}\t{result.confidence:.4f}\n")
    sys.stdout.flush()
    return 0


def cmd_translate(args: argparse.Namespace, settings: Settings) -> int:
    """One English line per stdin line, translated TRANSLATE_BATCH_LINES lines at a time."""
    from service.pipeline import make_engine

    engine = make_engine(settings)
    lines = read_lines(sys.stdin.buffer, settings.stdin_max_line_chars, _warn)
    while batch := list(islice(lines, TRANSLATE_BATCH_LINES)):
        try:
            out = engine.translate_sentences(args.source_lang, batch)
        except TranslationError as exc:
            fail(f"{exc.message} (install one with `newsingest models install PATH`)")
            return 3
        sys.stdout.write("".join(line + "\n" for line in out))
        sys.stdout.flush()
    return 0


CANARIES = {
    "zh": "中国海关总署周二公布的数据显示，今年前七个月进出口总值同比增长百分之三。",
    "ko": "정부는 22일 내년 경제성장률 전망치를 2.1%로 상향 조정했다고 밝혔다.",
    "ja": "政府は22日、来年度の経済成長率の見通しを引き上げたと発表した。",
}


def _verify_packages(packages: list[Any], settings: Settings) -> int:
    """Translate a canary sentence with each package: it loads, it answers, how fast."""
    from service.pipeline import make_engine

    if not packages:
        print(f"newsingest: no translation packages installed in {settings.packages_dir}",
              file=sys.stderr)  # fmt: skip
        return 1
    engine = make_engine(settings)
    status = 0
    for pkg in packages:
        canary = CANARIES.get(pkg.from_code, "The government raised its growth forecast.")
        started = time.perf_counter()
        try:
            [out] = engine.translate_sentences(pkg.from_code, [canary])
            ok = bool(out.strip()) and out.strip() != canary
        except Exception as exc:  # noqa: BLE001 - a broken package is the answer
            out, ok = f"{type(exc).__name__}: {exc}", False
        seconds = time.perf_counter() - started
        speed = round(len(canary) / seconds, 1)
        emit({**pkg.as_dict(), "ok": ok, "canary": canary, "output": out,
               "seconds": round(seconds, 3), "chars_per_s": speed})  # fmt: skip
        status |= 0 if ok else 1
    return status


MODELS_HINT = (
    "get them with `newsingest models download {langs}` (from the Argos package index), or "
    "`newsingest models install PATH` for .argosmodel files you have"
)


def _progress_bar(name: str) -> Any:
    """A progress bar on stderr: redrawn in place on a terminal, a line per 10% otherwise."""
    shown = [-1]
    tty = sys.stderr.isatty()

    def draw(done: int, total: int | None) -> None:
        mb = f"{done / 1e6:7.1f} MB"
        if total:
            share = done / total
            step = int(share * 10)
            if tty:
                bar = "#" * int(share * 30)
                print(f"\r  {name:<16} [{bar:<30}] {share:4.0%} {mb} of {total / 1e6:.1f}",
                      end="", file=sys.stderr, flush=True)  # fmt: skip
            elif step != shown[0]:
                print(f"  {name:<16} {share:4.0%} {mb}", file=sys.stderr, flush=True)
            shown[0] = step
        elif tty:
            print(f"\r  {name:<16} {mb}", end="", file=sys.stderr, flush=True)

    return draw


def _download_models(args: argparse.Namespace, settings: Settings) -> int:
    """`models download LANG...`: fetch the newest ->en package of each from the index."""
    import httpx

    from service.models import choose_package, download_package, parse_index

    timeout = httpx.Timeout(30.0, read=120.0)
    status = 0
    with httpx.Client(timeout=timeout, headers={"User-Agent": settings.user_agent}) as client:
        try:
            response = client.get(args.index, follow_redirects=True)
            response.raise_for_status()
            entries = parse_index(response.content)
        except (httpx.HTTPError, ModelError) as exc:
            print(f"newsingest: cannot read the package index {args.index}: {exc}",
                  file=sys.stderr)  # fmt: skip
            return 1
        for lang in args.languages:
            try:
                entry = choose_package(entries, lang, "en")
                print(f"newsingest: downloading {entry.name} into {settings.packages_dir}",
                      file=sys.stderr)  # fmt: skip
                info, digest = download_package(
                    entry, settings.packages_dir, client, sha256=args.sha256,
                    progress=_progress_bar(entry.name),
                )  # fmt: skip
                if sys.stderr.isatty():
                    print(file=sys.stderr)
            except ModelError as exc:
                print(f"\nnewsingest: {lang}: {exc.message}", file=sys.stderr)
                status = 1
                continue
            verified = "sha256 matched" if entry.expected_sha256() or args.sha256 else "unpinned"
            emit({"installed": info.as_dict(), "sha256": digest, "verified": verified})
    return status


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from service.models import install_from, installed_packages, missing_languages

    if args.models_cmd == "download":
        return _download_models(args, settings)
    if args.models_cmd == "check":
        wanted = args.languages or settings.required_languages.split()
        absent = missing_languages(wanted, settings.packages_dir, settings.models_dir)
        if absent:
            print(f"newsingest: no translation package for {', '.join(absent)} in "
                  f"{settings.packages_dir}: their documents will be published untranslated "
                  f"(missing_model); {MODELS_HINT.format(langs=' '.join(absent))}",
                  file=sys.stderr)  # fmt: skip
            return 1
        return 0
    if args.models_cmd == "install":
        try:
            for pkg in install_from(Path(args.path), settings.packages_dir):
                emit({"installed": pkg.as_dict()})
        except ModelError as exc:
            print(f"newsingest: {exc.message}", file=sys.stderr)
            return 1
        return 0
    packages = installed_packages(settings.packages_dir)
    if args.models_cmd == "verify":
        return _verify_packages(packages, settings)
    if not packages:
        print(
            f"newsingest: no translation packages installed in {settings.packages_dir}",
            file=sys.stderr,
        )
    for pkg in packages:
        emit(pkg.as_dict())
    return 0


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    from service.document import schema

    print(json.dumps(schema(), indent=2, ensure_ascii=False))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    try:
        from devtools import evaluate
    except ImportError:
        print(
            "newsingest eval: the evaluation tools come with a source checkout "
            "(pip install -e . there); this install has none",
            file=sys.stderr,
        )
        return 2
    return evaluate.report(
        args.kind,
        Path(args.corpus_dir),
        settings,
        limit=args.limit,
        as_json=args.json,
        prog="newsingest eval",
    )


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "process",
        help="run the whole pipeline in-process, no Redis",
        description="Run the whole pipeline in-process on each PATH or URL. A URL is fetched "
        "as a person asked for it: robots.txt and the per-host delay and concurrency limits "
        "are NOT consulted (workers always consult them); pass --polite to obey them.",
    )
    p.add_argument(
        "--polite",
        action="store_true",
        help="obey robots.txt, Retry-After and the per-host limits, as workers do (needs the "
        "configured or embedded Redis; exits 2 when none is reachable)",
    )
    p.add_argument("inputs", nargs="+", metavar="PATH|URL")
    p.add_argument("--no-translate", action="store_true")
    p.add_argument(
        "--lang", type=opt.language, help="language hint for the inputs (a prior for detection)"
    )
    p.set_defaults(func=cmd_process)

    p = sub.add_parser("detect", help="detect the language of each stdin line")
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("translate", help="translate each stdin line to English")
    p.add_argument("--from", dest="source_lang", required=True, choices=["zh", "ko"])
    p.set_defaults(func=cmd_translate)

    p = sub.add_parser("models", help="list, verify or install translation packages")
    msub = p.add_subparsers(dest="models_cmd", required=True)
    msub.add_parser("list")
    msub.add_parser("verify", help="translate a canary sentence with each package")
    mi = msub.add_parser("install")
    mi.add_argument("path", help="an .argosmodel file or a directory of them")
    md = msub.add_parser(
        "download",
        help="download ->en packages from the Argos package index (an operator action)",
        description="Download the newest LANG->en package of each LANG from the Argos package "
        "index, check it (announced size, sha256 when known, zip CRCs, metadata, model) and "
        "install it into the packages directory. Nothing is ever downloaded at run time.",
    )
    md.add_argument("languages", nargs="+", metavar="LANG", type=opt.language)
    md.add_argument(
        "--index", default=DEFAULT_INDEX_URL, help="the index URL (default: %(default)s)"
    )
    md.add_argument("--sha256", help="the expected sha256 of the package (one LANG)")
    mc = msub.add_parser("check", help="exit 1, saying how to get them, when packages are missing")
    mc.add_argument("languages", nargs="*", metavar="LANG", help="default: required_languages")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser(
        "eval",
        help="measure a stage on a corpus laid out like ../shared/corpus",
        description="Measure extraction, plain-text cleaning, metadata, language ID or "
        "translation on CORPUS_DIR and print the figures beside a baseline.",
    )
    p.add_argument("kind", choices=("extraction", "plaintext", "metadata", "langid", "translation"))
    p.add_argument("corpus_dir", metavar="CORPUS_DIR")
    p.add_argument("--limit", type=opt.count(1_000_000), help="only the first N items of each set")
    p.add_argument("--json", action="store_true", help="the numbers as JSON on stdout")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("schema", help="print the document JSON Schema")
    p.set_defaults(func=cmd_schema)
