"""What a source's items must pass before they are fetched: tracker links unwrapped,
advertisements skipped, and the source's own rules (``max_age``, ``include``/``exclude``,
``max_items``). Plain data in and out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from ._config import SourceConfig
from ._parse import Entry

# Click trackers and redirectors that name their target in a query parameter.
_TRACKER_PARAMS: dict[str, tuple[str, ...]] = {
    "www.google.com/url": ("url", "q"),
    "google.com/url": ("url", "q"),
    "news.url.google.com/url": ("url", "q"),
    "l.facebook.com/l.php": ("u",),
    "lm.facebook.com/l.php": ("u",),
    "www.bing.com/news/apiclick.aspx": ("url",),
    "out.reddit.com/": ("url",),
    "t.umblr.com/redirect": ("z",),
    "slack-redir.net/link": ("url",),
    "click.linksynergy.com/deeplink": ("murl",),
    "www.youtube.com/redirect": ("q",),
    "link.zhihu.com/": ("target",),
    "www.jianshu.com/go-wild": ("url",),
}
# Redirectors whose path, not a parameter, is the target ("/https://...").
_PATH_TRACKERS = ("r.sm.com/", "vertexaisearch.cloud.google.com/grounding-api-redirect/")

_AD_TERMS = frozenset(
    {"ad", "ads", "advert", "advertisement", "advertorial", "sponsored", "sponsored content",
     "paid content", "paid post", "partner content", "promoted",
     "광고", "애드버토리얼", "협찬", "广告", "廣告", "推广", "推廣", "赞助", "贊助"}
)  # fmt: skip
_AD_TITLE = re.compile(
    r"^\s*(?:[\[【(（]\s*(?:ad|ads|pr|sponsored|광고|广告|廣告|推广|推廣|赞助)\s*[\]】)）]"
    r"|(?:ad|sponsored|advertisement|pr)\s*[:：|])",
    re.IGNORECASE,
)
_AD_HOSTS = ("doubleclick.net", "googleadservices.com", "googlesyndication.com", "adnxs.com",
             "taboola.com", "outbrain.com", "feedads.g.doubleclick.net")  # fmt: skip


def unwrap(url: str) -> str:
    """The target of a known click tracker, else ``url``; a few levels deep at most."""
    for _ in range(3):
        parts = urlsplit(url)
        where = f"{parts.netloc.lower()}{parts.path}"
        target = None
        names = _TRACKER_PARAMS.get(where)
        if names:
            query = parse_qs(parts.query)
            target = next((query[n][0] for n in names if query.get(n)), None)
        elif where.startswith(_PATH_TRACKERS):
            rest = url.split(parts.netloc, 1)[1].split("/", 2)[-1]
            target = rest if rest.startswith(("http://", "https://")) else None
        if not target or not target.startswith(("http://", "https://")):
            return url
        url = target
    return url


def is_advertisement(entry: Entry) -> bool:
    """An item the publisher marks as an advertisement, or that links to an ad server."""
    if any(c.strip().lower() in _AD_TERMS for c in entry.categories):
        return True
    if entry.title and _AD_TITLE.match(entry.title):
        return True
    host = urlsplit(entry.url).hostname or ""
    return any(host == h or host.endswith("." + h) for h in _AD_HOSTS)


@dataclass
class Skipped:
    """How many items each rule held back in one poll."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, rule: str) -> None:
        self.counts[rule] = self.counts.get(rule, 0) + 1


def _age_seconds(entry: Entry, now: float) -> float | None:
    if not entry.published:
        return None
    try:
        when = datetime.strptime(entry.published, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return now - when.timestamp()


def apply_rules(
    config: SourceConfig, entries: list[Entry], now: float, skipped: Skipped
) -> list[Entry]:
    """Unwrap, then drop advertisements, items older than ``max_age`` and URLs outside the
    include/exclude patterns. ``max_items`` is applied later, to the new items only."""
    include = [re.compile(p) for p in config.include]
    exclude = [re.compile(p) for p in config.exclude]
    out = []
    for entry in entries:
        target = unwrap(entry.url)
        if target != entry.url:
            entry = replace(entry, url=target)
        if is_advertisement(entry):
            skipped.add("advertisement")
            continue
        age = _age_seconds(entry, now)
        if config.max_age and age is not None and age > config.max_age:
            skipped.add("max_age")
            continue
        if include and not any(p.search(entry.url) for p in include):
            skipped.add("include")
            continue
        if any(p.search(entry.url) for p in exclude):
            skipped.add("exclude")
            continue
        out.append(entry)
    return out
