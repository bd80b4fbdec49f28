"""The headline: what og:title, JSON-LD and <h1> agree on, without the site's name.

Pages decorate their titles differently in each place ("Headline | Site" in <title>,
"Section - Headline" in og:title, the bare headline in <h1>), so each candidate is cut at
its separators and the piece most sources share wins. With no agreement, the visible
headline (a single <h1>) is preferred, then JSON-LD, og:title and <title>, each with any
part naming the site removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from ._bylines import normal

# Separators between a headline and a site or section name. A hyphen or colon counts only
# with spaces around it (a headline has "COVID-19" and "A: B"); "_", "|" and the Hangul
# letter "ㅣ" that Korean sites use always count.
_SEP_RE = re.compile(r"\s+[|\-–—:·•»«<>/@]\s+|\s*[|｜ㅣ_]\s*|\s*[-–—]{2,}\s*|\s*::\s*|\s+[-–—]$")
# A trailing name that ends like a site or channel ("-新华网", "_凤凰网资讯", " - 中国日报网").
_SITE_WORD = (
    r"(?:网|網|报|報|新闻|新聞|频道|頻道|在线|在線|财经|財經|资讯|資訊|博客|论坛|論壇|社区|社區|官网|客户端"
    r"|电视台|电台|일보|신문|뉴스|방송|닷컴|미디어|타임스|투데이|Online|News|Times|Post|Daily|Weekly"
    r"|Magazine|Blog|TV|\.com|\.cn|\.net|\.org|\.co\.kr|\.kr)"
)
_SITE_TAIL_RE = re.compile(rf"\s*[-－—_|｜]\s*([^-－—_|｜]{{1,16}}{_SITE_WORD})\s*$", re.IGNORECASE)
_SITE_ONLY_RE = re.compile(
    rf"^[^\s]{{0,16}}{_SITE_WORD}$|^\S+\.(?:com|net|org|cn|kr)$", re.IGNORECASE
)
# "-정치" left between a headline and its site: a short section glued on with a hyphen.
_GLUED_SECTION_RE = re.compile(r"[-－_]\s*[^\W\d_]{1,6}$")
_TRUST = ("jsonld", "meta", "h1", "title")
_WEIGHT = {"jsonld": 1.0, "meta": 1.0, "h1": 1.0, "title": 0.5}
_MAX_SEGMENTS = 8
# A headline is far shorter; longer candidates are cut before they are compared.
_MAX_TITLE_CHARS = 500
# A shorter heading that <title> holds is more likely a section's name than the headline.
_MIN_HEADING_KEY = 8


@lru_cache(maxsize=1024)  # each candidate is cut again by every rule that compares it
def _segments(text: str) -> tuple[tuple[int, int], ...]:
    """The spans of ``text`` between separators."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SEP_RE.finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
        if len(spans) >= _MAX_SEGMENTS:
            break
    if start < len(text):
        spans.append((start, len(text)))
    return tuple(spans) or ((0, len(text)),)


def _runs(text: str) -> list[str]:
    """The text, and every run of its segments that keeps its beginning or its end."""
    spans = _segments(text)
    out = [text]
    last = len(spans) - 1
    for i in range(len(spans)):
        for j in range(i, len(spans)):
            if (i == 0 or j == last) and (i, j) != (0, last):
                out.append(text[spans[i][0] : spans[j][1]])
    return out


class _Sites:
    """The names a page calls its site by, for telling a site's name from a headline."""

    def __init__(self, names: Iterable[str], host: str | None) -> None:
        self.keys = {k for k in (normal(n) for n in names) if k}
        self.host = normal(host) if host else ""

    def add(self, name: str) -> None:
        key = normal(name)
        if key:
            self.keys.add(key)

    def matches(self, text: str) -> bool:
        key = normal(text)
        if not key:
            return True
        if key in self.keys or (self.host and len(self.host) >= 4 and key == self.host):
            return True
        if any(len(k) >= 4 and (k in key and len(key) <= 2 * len(k)) for k in self.keys):
            return True
        if (
            self.host
            and len(self.host) >= 5
            and self.host in key
            and len(key) <= len(self.host) + 6
        ):
            return True
        return _SITE_ONLY_RE.match(text.strip()) is not None


def clean_title(text: str, sites: _Sites) -> str:
    """``text`` without the site (and a section glued to it) at either end."""
    text = " ".join(text.split())
    for _ in range(4):
        spans = _segments(text)
        if len(spans) < 2:
            break
        cut = None
        for i in range(1, len(spans)):  # the longest tail that is a site's name
            if sites.matches(text[spans[i][0] : spans[-1][1]]):
                cut = text[: spans[i - 1][1]]
                break
        if cut is None:
            for j in range(len(spans) - 2, -1, -1):  # the longest head
                if sites.matches(text[spans[0][0] : spans[j][1]]):
                    cut = text[spans[j + 1][0] :]
                    break
        if cut is None or not cut.strip():
            break
        glued = _GLUED_SECTION_RE.search(cut)
        if glued and cut is not None and text.startswith(cut) and glued.start() >= 4:
            cut = cut[: glued.start()]
        text = cut.strip()
    while (tail := _SITE_TAIL_RE.search(text)) and tail.start() >= 4:
        text = text[: tail.start()].rstrip()
    return text


def _is_logo(h1: str, titles: Sequence[str]) -> bool:
    """An <h1> that one of ``titles`` has at one end, beside a longer rest."""
    key = normal(h1)
    for title in titles:
        runs = _runs(title)
        whole = normal(title)
        if key != whole and key in {normal(r) for r in runs[1:]} and len(whole) > 2 * len(key):
            return True
    return False


def choose_title(
    candidates: Mapping[str, Sequence[str]], site_names: Iterable[str], host: str | None
) -> tuple[str | None, str | None]:
    """The headline and the source it was taken from (jsonld, meta, h1 or title)."""
    sites = _Sites(site_names, host)
    raw = {
        src: [" ".join(t[:_MAX_TITLE_CHARS].split()) for t in candidates.get(src, ())[:20] if t]
        for src in _TRUST
    }
    raw = {src: [t for t in texts if t] for src, texts in raw.items()}
    # An <h1> that is the short end of the <title> or og:title is the site's logo ("松花江网").
    h1s = []
    for h1 in raw["h1"]:
        if _is_logo(h1, raw["meta"] + raw["title"]):
            sites.add(h1)
        elif not sites.matches(h1):
            h1s.append(h1)
    raw["h1"] = h1s
    variants = {src: {normal(r) for t in texts for r in _runs(t)} for src, texts in raw.items()}
    best: tuple[tuple[float, int, int, int], str, str] | None = None
    single_h1 = len({normal(h) for h in h1s}) == 1
    for rank, src in enumerate(_TRUST):
        for text in raw[src]:
            cleaned = clean_title(text, sites)
            key = normal(cleaned)
            if len(key) < 2 or sites.matches(cleaned):
                continue
            # og:title, JSON-LD and <h1> vote; <title> only breaks a tie, and so do <h1>s
            # when a page has several that disagree (a blog's "导航", "公告", ...).
            weights = {**_WEIGHT, "h1": _WEIGHT["h1"] if single_h1 else 0.4}
            support = sum(weights[name] for name, vs in variants.items() if key in vs)
            preferred = 1 if (src == "h1" and single_h1 and support < 2) else 0
            score = (support, preferred, -rank, len(key))
            if best is None or score > best[0]:
                best = (score, cleaned, src)
    if best is None:
        return None, None
    return best[1], best[2]


def subhead_headline(
    self_linked: Sequence[str], headings: Sequence[str], title: str | None
) -> list[str]:
    """For a page without <h1>: the <h2>/<h3> that links to the page itself (a post's own
    permalink), else the one that <title> gives whole between its separators ("Headline |
    Site"). Either stands for the visible headline; a short one ("News") is a section's."""
    own = [h for h in self_linked if len(normal(h)) >= _MIN_HEADING_KEY]
    if own or not title:
        return own[:1]
    runs = {normal(r) for r in _runs(" ".join(title.split()))}
    like = [h for h in headings if len(normal(h)) >= _MIN_HEADING_KEY and normal(h) in runs]
    return like[:1]
