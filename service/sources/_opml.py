"""OPML 2.0 in and out: the format feed readers and newsroom tools exchange subscriptions in.

Import reads every ``<outline>`` with an ``xmlUrl`` (nested folders included); the name comes
from ``text``/``title`` (made safe and unique), the interval from our own ``interval``
attribute or the default. Export writes the registry with ``kind``, ``interval`` and
``language`` as extra outline attributes, which OPML allows, so export -> import round-trips.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from lxml import etree

from ..errors import SourceError
from ._config import SourceConfig

DEFAULT_INTERVAL = 900.0


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.strip().lower()).strip("-._")
    return slug[:100]


def parse_opml(
    body: bytes, taken: Iterable[str] = (), interval: float = DEFAULT_INTERVAL
) -> list[SourceConfig]:
    """The feeds an OPML file subscribes to; names unique among themselves and ``taken``."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"not a readable OPML file: {exc}", reason="bad_opml") from exc
    if root is None or etree.QName(root).localname.lower() != "opml":
        raise SourceError("not an OPML file (no <opml> root)", reason="bad_opml")
    names = set(taken)
    out: list[SourceConfig] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            continue
        label = outline.get("text") or outline.get("title") or ""
        base = _slug(label) or _slug(urlsplit(url).netloc + urlsplit(url).path) or "source"
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base[:95]}-{n}"
        names.add(name)
        kind = (outline.get("kind") or "").lower()
        if kind not in ("rss", "atom", "feed", "sitemap"):
            kind = "sitemap" if (outline.get("type") or "").lower() == "sitemap" else "feed"
        entry: dict[str, object] = {
            "name": name,
            "url": url,
            "kind": kind,
            "interval": _number(outline.get("interval")) or interval,
        }
        if outline.get("language"):
            entry["language"] = outline.get("language")
        out.append(SourceConfig.from_dict(entry, f"OPML outline {label or url!r}"))
    return out


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number and number > 0 else None


def to_opml(configs: Iterable[SourceConfig], title: str = "newsingest sources") -> bytes:
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(root, "body")
    for config in configs:
        attrs = {
            "text": config.name,
            "title": config.name,
            "type": "sitemap" if config.is_sitemap else "rss",
            "xmlUrl": config.url,
            "kind": config.kind,
            "interval": f"{config.interval:g}",
        }
        if config.language:
            attrs["language"] = config.language
        etree.SubElement(body, "outline", attrs)
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return out
