"""`newsingest sources`: the source registry, managed while the service runs.

Every command first seeds the registry from sources.toml (new or changed entries only, see
service/sources/_registry.py), so the file and the registry agree before anything is shown
or changed. Beat sees a change within ``source_tick`` seconds (workers/schedule.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from service.errors import IngestError
from service.settings import Settings

from . import _options as opt
from ._common import app, client, emit, fail


def _registry(settings: Settings) -> Any:
    from service import sources as feeds

    registry = feeds.Registry(client(settings), settings)
    try:
        registry.seed(feeds.configured_sources(settings))
    except IngestError as exc:
        fail(f"sources file not read, the registry is used as it is: {exc.message}")
    return registry


def _listing(registry: Any) -> list[dict[str, Any]]:
    out = []
    for config in registry.all():
        health = registry.show(config.name)
        out.append(
            {
                **config.as_dict(),
                "paused": health["paused"],
                "consecutive_failures": health["consecutive_failures"],
                "last_success": health["last_success"],
                "next_poll": health["next_poll"],
            }
        )
    return out


def stats_line(source: dict[str, Any]) -> str:
    """One source's health in `newsingest stats`."""
    state = "PAUSED" if source["paused"] else "active"
    mean = source["poll_seconds_mean"]
    line = (
        f"source {source['name']} {state}: {source['polls']} polls ({source['failures']} failed, "
        f"{source['consecutive_failures']} in a row), {source['new']} items, "
        f"{source['documents']} documents, {source['expired']} expired polls"
        + (f", mean poll {mean * 1000:.0f} ms" if mean is not None else "")
    )
    if source["paused"]:
        line += f"\n  paused: {source['paused_reason']}"
    elif source["consecutive_failures"]:
        line += f"\n  failing: {source['last_reason']}: {source['last_error']}"
    return line


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from service import sources as feeds

    try:
        handler = _HANDLERS[args.sources_cmd]
        # Discovery only reads the web: it needs no Redis.
        registry = None if args.sources_cmd == "discover" else _registry(settings)
        return handler(args, settings, registry, feeds)
    except IngestError as exc:
        fail(exc.message)
        return 2


def _list(args: argparse.Namespace, settings: Settings, registry: Any, feeds: Any) -> int:
    for row in _listing(registry):
        emit(row)
    return 0


def _show(args: argparse.Namespace, settings: Settings, registry: Any, feeds: Any) -> int:
    print(json.dumps(registry.show(args.name), ensure_ascii=False, indent=2))
    return 0


def _add(args: argparse.Namespace, settings: Settings, registry: Any, feeds: Any) -> int:
    entry: dict[str, Any] = {
        "name": args.name,
        "url": args.url,
        "kind": args.kind,
        "interval": args.interval,
        "language": args.lang,
        "host_delay": args.host_delay,
        "max_age": args.max_age,
        "max_items": args.max_items,
        "include": args.include or [],
        "exclude": args.exclude or [],
        "headers": dict(h.split(":", 1) for h in args.header or []),
        "translate_scope": args.translate_scope,
    }
    config = feeds.SourceConfig.from_dict({k: v for k, v in entry.items() if v is not None})
    registry.add(config, replace=args.replace)
    emit({"added": config.name, **config.as_dict()})
    return 0


def _remove(args: argparse.Namespace, settings: Settings, registry: Any, feeds: Any) -> int:
    if not registry.remove(args.name):
        fail(f"no source named {args.name!r}")
        return 2
    emit({"removed": args.name})
    return 0


def _pause(args: argparse.Namespace, settings: Settings, registry: Any, feeds: Any) -> int:
    registry.pause(args.name, args.reason)
    emit({"paused": args.name, "reason": args.reason})
    return 0


def _resume(args: argparse.Namespace, settings: Settings, registry: Any, feeds: Any) -> int:
    registry.resume(args.name)
    emit({"resumed": args.name})
    return 0


def _import(args: argparse.Namespace, settings: Settings, registry: Any, feeds: Any) -> int:
    try:
        body = Path(args.file).read_bytes()
    except OSError as exc:
        fail(f"cannot read {args.file}: {exc.strerror or exc}")
        return 2
    existing = registry.all()
    known_urls = {c.url for c in existing}
    configs = feeds.parse_opml(body, [c.name for c in existing], args.interval)
    added, skipped = [], []
    for config in configs:
        if config.url in known_urls:
            skipped.append(config.url)
            continue
        registry.add(config)
        known_urls.add(config.url)
        added.append(config.name)
    emit({"imported": len(added), "added": added, "already_registered": skipped})
    return 0


def _export(args: argparse.Namespace, settings: Settings, registry: Any, feeds: Any) -> int:
    sys.stdout.write(feeds.to_opml(registry.all()).decode("utf-8"))
    return 0


def _poll(args: argparse.Namespace, settings: Settings, registry: Any, feeds: Any) -> int:
    """Poll one source now, outside the schedule and its health (a look, or a nudge)."""
    config = registry.require(args.name)
    enqueue = None
    if not args.dry_run:
        producer = app(settings).producer

        def enqueue(source: Any) -> None:
            producer.ingest(source.as_dict())

    try:
        result = feeds.poll(
            config, registry.client, settings, enqueue=enqueue, dry_run=args.dry_run
        )
    except IngestError as exc:
        fail(f"{config.name}: {exc.message} ({exc.reason})")
        return 1
    emit(result.as_dict())
    return 0


def _discover(args: argparse.Namespace, settings: Settings, registry: Any, feeds: Any) -> int:
    from service.fetch import FetchPolicy

    found = feeds.discover(args.url, FetchPolicy.from_settings(settings))
    for proposal in found:
        emit(proposal)
    if not found:
        fail(f"no feed or sitemap found for {args.url}")
        return 1
    return 0


def _header(text: str) -> str:
    if ":" not in text or not text.split(":", 1)[0].strip():
        raise argparse.ArgumentTypeError(f"a header is 'Name: value', not {text!r}")
    return text


_HANDLERS = {
    "list": _list,
    "show": _show,
    "add": _add,
    "remove": _remove,
    "pause": _pause,
    "resume": _resume,
    "import": _import,
    "export": _export,
    "poll": _poll,
    "discover": _discover,
}


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sources", help="the feeds and sitemaps: list, add, pause, import, poll")
    ssub = p.add_subparsers(dest="sources_cmd", required=True)
    ssub.add_parser("list", help="one JSON line per source")
    sp = ssub.add_parser("show", help="a source's config and health, as JSON")
    sp.add_argument("name")
    sp = ssub.add_parser("add", help="register a source; polled within --interval seconds")
    sp.add_argument("name")
    sp.add_argument("url")
    sp.add_argument("--kind", choices=["feed", "rss", "atom", "sitemap"], default="feed")
    sp.add_argument("--interval", type=opt.seconds(7 * 86400, zero=False), default=900.0)
    sp.add_argument("--lang", type=opt.language, help="a prior for detection, never a verdict")
    sp.add_argument("--host-delay", type=opt.seconds(3600, zero=False))
    sp.add_argument("--max-age", type=opt.seconds(10 * 365 * 86400, zero=False),
                    help="skip items dated more than this many seconds ago")  # fmt: skip
    sp.add_argument(
        "--max-items", type=opt.count(100_000), help="at most this many new items a poll"
    )
    sp.add_argument(
        "--translate-scope",
        choices=("full", "lead", "title"),
        help="translate the whole text, the title and first paragraphs, or the title only "
        "(default: the translate_scope setting)",
    )
    sp.add_argument("--include", action="append", help="regex an item URL must match (repeatable)")
    sp.add_argument("--exclude", action="append", help="regex of item URLs to skip (repeatable)")
    sp.add_argument(
        "--header", action="append", type=_header, help="'Name: value' sent with each poll"
    )
    sp.add_argument("--replace", action="store_true", help="replace a source of the same name")
    for command, text in (("remove", "forget a source and its health"),
                          ("resume", "poll a paused source again, now")):  # fmt: skip
        sp = ssub.add_parser(command, help=text)
        sp.add_argument("name")
    sp = ssub.add_parser("pause", help="stop polling a source until `resume`")
    sp.add_argument("name")
    sp.add_argument("--reason", default="paused by an operator")
    sp = ssub.add_parser("import", help="add the feeds of an OPML file")
    sp.add_argument("file")
    sp.add_argument("--interval", type=opt.seconds(7 * 86400, zero=False), default=900.0)
    ssub.add_parser("export", help="the registry as OPML 2.0, on stdout")
    sp = ssub.add_parser("poll", help="poll one source now")
    sp.add_argument("name")
    sp.add_argument(
        "--dry-run", action="store_true", help="show what is new; enqueue and remember nothing"
    )
    sp = ssub.add_parser("discover", help="find the feeds and sitemaps of a site")
    sp.add_argument("url")
    p.set_defaults(func=cmd_sources)
