"""When an article was published and last modified, from the most trusted evidence on its page.

Evidence, most trusted first: JSON-LD (``datePublished``), meta tags
(``article:published_time`` and their relatives, microdata), a ``<time datetime>`` at the
article's head, a date line next to the headline or the byline ("2021-1-29 13:18",
"입력 2025.05.28 01:05", "Posted on September 21, 2020"), the URL, and last htmldate's guess.
The most trusted plausible one wins, then three cross-checks refine it with what the visible
date line says: a structured date that the page itself labels "last updated" gives way to the
publication line; a day is given the time the date line shows for that day; and a UTC time
the page shows in local time ("06/02/2022 - 13:48" beside 12:48Z) is given that offset.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

from lxml.html import HtmlElement

from ._lines import PageLines, Span
from ._markup import Markup
from ._stamps import Stamp, find_dates, find_months, parse_iso, plausible, url_date

_JSONLD_PUBLISHED = ("datePublished", "pubDate", "publishDate", "dateCreated", "uploadDate")
_JSONLD_MODIFIED = ("dateModified", "upDate")
_META_PUBLISHED = (
    "article:published_time", "og:published_time", "og:article:published_time",
    "article:published", "datepublished", "publishdate", "publish-date", "publish_date",
    "pubdate", "publication_date", "publishtime", "pubtime", "og:release_date", "release_date",
    "sailthru.date", "parsely-pub-date", "article.published", "article_date_original",
    "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date", "dc.date.created",
    "dcterms.created", "citation_online_date", "citation_publication_date",
    "prism.publicationdate", "og:time", "date", "createdate", "weibo:article:create_at",
    "itemprop:datepublished",
)  # fmt: skip
_META_MODIFIED = (
    "article:modified_time", "og:updated_time", "datemodified", "article:modified",
    "dc.date.modified", "dcterms.modified", "last-modified", "lastmod", "updated_time",
    "modified", "itemprop:datemodified",
)  # fmt: skip
_TIME_MARK = re.compile(r"publish|posted|entry-date|dateline|article-date|pubdate|post-date", re.I)

_MODIFIED_LABEL = re.compile(
    r"(?:最后更新|最後更新|更新时间|更新時間|更新于|更新於|修改时间|修改於|最终修改|수정|업데이트|최종\s*수정"
    r"|updated|last\s+updated|modified|last\s+modified|edited)\s*(?:时间|日期|시간|일시|일자|일|on|at)?"
    r"\s*[:：]?\s*$",
    re.IGNORECASE,
)
_PUBLISHED_LABEL = re.compile(
    r"(?:发布|發佈|發布|发表|發表|刊登|出版|上线|日期|时间|時間|입력|기사\s*입력|최초\s*입력|등록|승인"
    r"|게재|발행|작성|송고|posted|published|publication\s+date|written|date|created|released"
    r"|issued|first\s+published)\s*(?:时间|時間|日期|시간|일시|일자|일|於|于|on|at)?\s*[:：]?\s*$",
    re.IGNORECASE,
)
_COMMENT = re.compile(
    r"回复|回覆|留言|引用|投诉|网友|網友|评论于|評論於|楼主|沙发|댓글|답글|reply|replied|says:|wrote:",
    re.IGNORECASE,
)
_LABEL_WINDOW = 16
_PROSE_CHARS = 60
# A month alone is a date line only when little else stands on its line ("《北京之春》1996年3月号").
_MONTH_LINE_REST = 24
# A data-* time whose name says it is a later edit ("data-re-deploy-dt", "data-updated-at").
_DATA_MODIFIED = re.compile(r"modif|updat|re-?deploy|edit|revis", re.IGNORECASE)
_DATA_ANCESTORS = 2
_DATA_VALUE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_DATA_DESCENDANTS = 60
_NON_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Candidate:
    stamp: Stamp
    line: int
    place: str  # head, foot, body, other
    score: float


@dataclass(frozen=True)
class Dating:
    published: Stamp | None
    modified: Stamp | None


def _first(values: list[str], source: str, label: str, now: datetime) -> Stamp | None:
    for value in values:
        stamp = parse_iso(value, source, label)
        if stamp is None:
            found = next(iter(find_dates(value[:80], source)), None)
            stamp = found.stamp if found and not found.stamp.ambiguous else None
            stamp = replace(stamp, label=label) if stamp else None
        if stamp is not None and plausible(stamp, now):
            return stamp
    return None


def _jsonld(markup: Markup, keys: tuple[str, ...], label: str, now: datetime) -> Stamp | None:
    node = markup.article
    if node is None:
        return None
    values = [v for v in (node.text(k) for k in keys) if v]
    return _first(values, "jsonld", label, now)


def _microdata(markup: Markup, prop: str) -> list[str]:
    values = []
    for el in markup.itemprops.get(prop, ())[:5]:
        value = el.get("content") or el.get("datetime") or el.text_content()
        if value and value.strip():
            values.append(value.strip()[:80])
    return values


def _place(index: int, span: Span) -> str:
    if index in span.header():
        return "head"
    if index in span.footer():
        return "foot"
    if span.first <= index <= span.last:
        return "body"
    return "other"


def text_candidates(lines: PageLines, span: Span, now: datetime) -> list[Candidate]:
    """Dates on visible lines, scored by where they stand and what labels them."""
    out: list[Candidate] = []
    spots = list(span.header()) + list(span.footer())
    if span.first < 0:
        spots = list(range(min(len(lines.lines), 400)))
    seen = set()
    for index in spots:
        if index in seen or index >= len(lines.lines):
            continue
        seen.add(index)
        line = lines.lines[index]
        previous_end = 0
        for found in find_dates(line.text):
            window = line.text[max(previous_end, found.start - _LABEL_WINDOW) : found.start]
            previous_end = found.end
            label = ""
            if _MODIFIED_LABEL.search(window):
                label = "modified"
            elif _PUBLISHED_LABEL.search(window):
                label = "published"
            stamp = replace(found.stamp, label=label)
            if not plausible(stamp, now):
                continue
            place = _place(index, span)
            score = {"head": 30.0, "foot": 20.0, "body": 0.0, "other": 5.0}[place]
            if label == "published":
                score += 6
            if stamp.timed:
                score += 2
            if label != "published" and _COMMENT.search(line.text):
                score -= 12
            if line.linked:
                score -= 8
            if len(line.text) > _PROSE_CHARS and not label and found.start > 10:
                score -= 15  # a date mentioned in a sentence, not a date line
            if place == "head":
                score -= 0.2 * abs(index - span.anchor)
            elif place == "foot":
                score -= 0.5 * (index - span.last)
            out.append(Candidate(stamp, index, place, score))
    return out


def _month_line(lines: PageLines, span: Span, now: datetime) -> Stamp | None:
    """A month named without a day on a short line at the article's head or foot: the issue
    of a magazine the text appeared in. Weaker than any day, so it is the last resort."""
    best: tuple[float, Stamp] | None = None
    for index in list(span.header()) + list(span.footer()):
        if index >= len(lines.lines):
            continue
        line = lines.lines[index]
        months = list(find_months(line.text))  # most lines name none: asked first
        if not months or line.linked or _COMMENT.search(line.text):
            continue
        for found in months:
            window = line.text[max(0, found.start - _LABEL_WINDOW) : found.start]
            labelled = _PUBLISHED_LABEL.search(window) is not None
            rest = len(line.text) - (found.end - found.start)
            if not (labelled or rest <= _MONTH_LINE_REST) or not plausible(found.stamp, now):
                continue
            place = _place(index, span)
            score = (30.0 if place == "head" else 20.0) - 0.2 * abs(index - span.anchor)
            if best is None or score > best[0]:
                best = (score, replace(found.stamp, label="published" if labelled else ""))
    return best[1] if best else None


def _key(text: str) -> str:
    return _NON_WORD.sub("", text).casefold()


def _near_header(el: HtmlElement, lines: PageLines, span: Span) -> bool:
    """``el`` holds a line of the article's header, or sits in one's block."""
    blocks = {id(lines.lines[i].element) for i in span.header() if i < len(lines.lines)}
    if not blocks:
        return False
    node: HtmlElement | None = el
    for _ in range(_DATA_ANCESTORS + 1):
        if node is None:
            break
        if id(node) in blocks:
            return True
        node = node.getparent()
    for count, inner in enumerate(el.iterdescendants()):
        if count >= _DATA_DESCENDANTS:
            break
        if id(inner) in blocks:
            return True
    return False


def _names_article(el: HtmlElement, headline: str | None, url: str | None) -> bool:
    """Another data-* attribute of ``el`` gives the headline or the id in the page's URL: the
    element describes this article (an analytics data layer), not a teaser of another."""
    title = _key(headline or "")
    path = re.sub(r"^[a-z]+://[^/]+", "", url or "", flags=re.IGNORECASE).split("?", 1)[0]
    segments = {seg.rsplit(".", 1)[0] for seg in path.split("/") if seg}
    for name, value in el.attrib.items():
        if not name.startswith("data-"):
            continue
        value = value.strip()
        if len(title) >= 8 and _key(value) == title:
            return True
        if len(value) >= 6 and value in segments:
            return True
    return False


def data_times(
    markup: Markup,
    lines: PageLines,
    span: Span,
    headline: str | None,
    url: str | None,
    now: datetime,
) -> tuple[Stamp | None, Stamp | None]:
    """Publication and modification times from data-* attributes ("data-deploy-dt") on an
    element at the article's header or one that names the article itself."""
    published: Stamp | None = None
    modified: Stamp | None = None
    trusted: dict[int, bool] = {}
    for el, name, value in markup.data_times:
        later = _DATA_MODIFIED.search(name) is not None
        if (modified if later else published) is not None:
            continue
        if not _DATA_VALUE.match(value):
            continue  # "2019111905" and epoch seconds: too many readings
        stamp = parse_iso(value, "meta", "modified" if later else "published")
        if stamp is None or not plausible(stamp, now):
            continue
        if id(el) not in trusted:
            trusted[id(el)] = _near_header(el, lines, span) or _names_article(el, headline, url)
        if not trusted[id(el)]:
            continue
        if later:
            modified = stamp
        else:
            published = stamp
    return published, modified


def _time_element(markup: Markup, lines: PageLines, span: Span, now: datetime) -> Stamp | None:
    head = span.header()
    heads = {lines.compact(i) for i in head if i < len(lines.lines)}
    marked: list[Stamp] = []
    placed: list[Stamp] = []
    for el in markup.times[:200]:
        value = el.get("datetime") or ""
        stamp = parse_iso(value, "time") if value else None
        if stamp is None or not plausible(stamp, now):
            continue
        text = "".join(el.text_content().split())
        classes = " ".join(filter(None, (el.get("class"), _parent_class(el))))
        declared = el.get("pubdate") is not None or el.get("itemprop") == "datePublished"
        named = _TIME_MARK.search(classes) and not re.search(r"updat|modif", classes, re.I)
        if declared or named:
            marked.append(stamp)
        if text and any(text in line for line in heads):
            placed.append(stamp)
    for group in (
        [s for s in marked if s in placed],
        placed,
        marked,
    ):
        if group:
            return group[0]
    return None


def _parent_class(el: HtmlElement) -> str:
    parent = el.getparent()
    return (parent.get("class") or "") if parent is not None else ""


def _same_minute(a: Stamp, b: Stamp) -> bool:
    return a.timed and b.timed and a.minute_key() == b.minute_key()


def _local_offset(chosen: Stamp, shown: Stamp) -> Stamp | None:
    """``chosen`` (aware) in the offset at which the page shows the same instant."""
    if chosen.when.tzinfo is None or shown.when.tzinfo is not None or not shown.timed:
        return None
    wall = chosen.when.astimezone(UTC).replace(tzinfo=None)
    delta = shown.when.replace(second=0) - wall.replace(second=0)
    if abs(delta) > timedelta(hours=14) or delta.total_seconds() % 900:
        return None
    if delta == chosen.when.utcoffset():
        return None
    zone = timezone(delta)
    when = chosen.when.astimezone(zone)
    total = int(delta.total_seconds() // 60)
    label = f"{'-' if total < 0 else '+'}{abs(total) // 60:02d}:{abs(total) % 60:02d}"
    return replace(chosen, when=when, zone=label)


def find_dating(
    markup: Markup,
    lines: PageLines,
    span: Span,
    url: str | None,
    guess: str | Callable[[], str | None] | None,
    now: datetime | None = None,
    headline: str | None = None,
) -> Dating:
    """The publication and modification time of a page (either may be None); ``guess`` is
    htmldate's date, or a function that finds it, called only when no other evidence holds."""
    now = now or datetime.now(UTC)
    data_published, data_modified = data_times(markup, lines, span, headline, url, now)
    texts = text_candidates(lines, span, now)
    shown = sorted(
        (c for c in texts if c.place in ("head", "foot") and c.stamp.label != "modified"),
        key=lambda c: c.score,
        reverse=True,
    )
    labelled_modified = [c.stamp for c in texts if c.stamp.label == "modified"]
    structured = [
        _jsonld(markup, _JSONLD_PUBLISHED, "published", now),
        _first(markup.meta(*_META_PUBLISHED) + _microdata(markup, "datePublished"), "meta",
               "published", now),
        _time_element(markup, lines, span, now),
    ]  # fmt: skip
    best_text = next((c.stamp for c in sorted(texts, key=lambda c: c.score, reverse=True)
                      if c.stamp.label != "modified" and c.score > 0), None)  # fmt: skip
    # A month alone ("1996年3月号") only when nothing names a day; htmldate's guess comes
    # after it, as htmldate reads such a month as its first day.
    tiers = [*structured, best_text, data_published, url_date(url), _month_line(lines, span, now)]
    chosen = next((s for s in tiers if s is not None and plausible(s, now)), None)
    if chosen is None:  # htmldate's guess, the last resort: only now asked for (it is costly)
        guessed = _guessed(guess() if callable(guess) else guess)
        chosen = guessed if guessed is not None and plausible(guessed, now) else None
    modified = _jsonld(markup, _JSONLD_MODIFIED, "modified", now) or _first(
        markup.meta(*_META_MODIFIED) + _microdata(markup, "dateModified"), "meta", "modified", now
    )
    modified = modified or data_modified
    if modified is None:  # an "updated"/"수정" line beside the publication line
        modified = next((c.stamp for c in texts if c.stamp.label == "modified"
                         and c.place in ("head", "foot")), None)  # fmt: skip
    if chosen is None:
        return Dating(None, modified)
    # 1. A structured date the page labels "last updated" is the modification time.
    if chosen.source in ("jsonld", "meta") and any(
        _same_minute(chosen, m) for m in labelled_modified
    ):
        wall = chosen.when.replace(tzinfo=None)
        earlier = [
            c.stamp
            for c in shown
            if c.stamp.when.replace(tzinfo=None) <= wall
            and c.stamp.day == chosen.day
            and not _same_minute(c.stamp, chosen)
        ]
        if earlier:
            modified, chosen = chosen, earlier[0]
    # 2. A naive time confirmed by an aware one from other markup takes its zone.
    if chosen.when.tzinfo is None and chosen.timed:
        for other in structured:
            if (
                other is not None
                and other.when.tzinfo is not None
                and _same_minute(replace(other, when=other.when.replace(tzinfo=None)), chosen)
            ):
                chosen = replace(chosen, when=other.when, zone=other.zone)
                break
    # 3. A day gets the time the date line gives for it.
    if chosen.precision == "day":
        finer = [c.stamp for c in shown if c.stamp.timed and c.stamp.day == chosen.day]
        if data_published is not None and data_published.timed:
            finer += [data_published] if data_published.day == chosen.day else []
        if finer:
            chosen = finer[0]
    # 4. An instant in UTC (or any offset) that the page shows in its local time.
    elif chosen.when.tzinfo is not None:
        for candidate in shown[:3]:
            local = _local_offset(chosen, candidate.stamp)
            if local is not None and abs(
                local.when.replace(tzinfo=None) - candidate.stamp.when
            ) < timedelta(minutes=1):
                chosen = local
                break
    if modified is not None and _before(modified, chosen):
        modified = None
    return Dating(chosen, modified)


def _guessed(guess: str | None) -> Stamp | None:
    """htmldate's date as a day, unless it is a bare year's reading."""
    guessed = parse_iso(guess, "text") if guess else None
    if guessed is None or (guessed.when.month, guessed.when.day) == (1, 1):
        return None  # htmldate's reading of a bare year ("1996年3月号" -> 1996-01-01)
    return replace(guessed, when=guessed.when.replace(tzinfo=None), precision="day")


def _before(a: Stamp, b: Stamp) -> bool:
    """``a`` earlier than ``b`` (compared as wall times when either has no zone)."""
    if a.when.tzinfo is not None and b.when.tzinfo is not None:
        return a.when < b.when - timedelta(minutes=1)
    return a.when.replace(tzinfo=None) < b.when.replace(tzinfo=None) - timedelta(days=1)
