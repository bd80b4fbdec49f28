"""Points in time as pages write them: ISO 8601 in markup, and the date lines people read.

A :class:`Stamp` keeps what the evidence says and no more: the precision it gives (a day, a
minute, a second), the zone when the page names one (an offset, "KST", "北京时间"), and no
zone at all when it does not. Choosing a zone for a local time is :mod:`._zones`' job, later,
when the language and the source are known.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from functools import lru_cache

from ._zones import zone_by_name

# "month": the page names only a month ("1996年3月号", "March 2020"), as a magazine issue does.
PRECISIONS = ("month", "day", "minute", "second")
# Evidence kinds, most trusted first (published_at_source in the document).
SOURCES = ("jsonld", "meta", "time", "text", "url", "feed", "fetch")
STRONG_SOURCES = frozenset({"jsonld", "meta", "time"})
# A date later than now by more than this is a guess (a countdown, an event, a typo); the
# skew also covers a local time read before its zone is known (UTC+14 is 14 hours ahead).
FUTURE_SKEW = timedelta(hours=14, minutes=10)
# Weak evidence (text, URL, feed, fetch) before this is more likely a date in the story
# ("founded 1954") than the day it was published; strong evidence may go further back.
WEAK_FLOOR = datetime(1994, 1, 1)
STRONG_FLOOR = datetime(1800, 1, 1)


@dataclass(frozen=True)
class Stamp:
    """A point in time from one piece of evidence.

    ``when`` is naive when the page gives no zone (a wall-clock time at the publisher), aware
    when it does. ``label`` says what the page called it: "published", "modified" or "" (no
    label). ``ambiguous`` marks a numeric date read month-first that could be day-first.
    """

    when: datetime
    precision: str
    source: str
    zone: str | None = None
    label: str = ""
    ambiguous: bool = False

    @property
    def day(self) -> date:
        return self.when.date()

    @property
    def timed(self) -> bool:
        """Whether the evidence gives a time of day, not only a day or a month."""
        return self.precision in ("minute", "second")

    def local_iso(self) -> str:
        """``2021-01-29`` for a day (``2021-01`` for a month), else ``2021-01-29T13:18:00``
        with the offset if known."""
        if self.precision == "month":
            return self.when.strftime("%Y-%m")
        if self.precision == "day":
            return self.day.isoformat()
        return self.when.replace(microsecond=0).isoformat()

    def minute_key(self) -> tuple[int, int, int, int, int]:
        w = self.when
        return (w.year, w.month, w.day, w.hour, w.minute)

    def with_source(self, source: str) -> Stamp:
        return replace(self, source=source)


def plausible(stamp: Stamp, now: datetime | None = None) -> bool:
    """Not in the future beyond clock skew, and not before the web unless strongly sourced."""
    now = now or datetime.now(UTC)
    when = stamp.when
    if not STRONG_FLOOR.year <= when.year <= now.year + 1:  # also keeps the arithmetic in range
        return False
    if when.tzinfo is not None:
        latest = when.astimezone(UTC).replace(tzinfo=None)
    else:  # the earliest instant a local time can be is in the zone furthest ahead
        latest = when - timedelta(hours=14)
    if not stamp.timed:
        latest = datetime.combine(stamp.day, datetime.min.time()) - timedelta(hours=14)
    if latest > now.astimezone(UTC).replace(tzinfo=None) + FUTURE_SKEW:
        return False
    floor = STRONG_FLOOR if stamp.source in STRONG_SOURCES else WEAK_FLOOR
    return when.replace(tzinfo=None) >= floor


# --------------------------------------------------------------------------- ISO 8601 in markup

_ISO_RE = re.compile(
    r"\s*(?P<y>\d{4})(?P<sep>[-/.]?)(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?:(?:[T\s]+|T?)(?P<H>\d{1,2}):?(?P<M>\d{2})(?::?(?P<S>\d{2})(?:[.,]\d{1,9})?)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*"
)


def _offset(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 14 or minutes >= 60:
        raise ValueError(text)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _zone_label(tz: tzinfo | None, when: datetime) -> str | None:
    if tz is None:
        return None
    if tz is UTC:
        return "UTC"
    offset = tz.utcoffset(when)
    if offset is None:
        return None
    total = int(offset.total_seconds() // 60)
    sign = "-" if total < 0 else "+"
    return f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


def parse_iso(text: str, source: str, label: str = "") -> Stamp | None:
    """A machine-readable date as markup carries it (ISO 8601 and its common relatives,
    RFC 2822); None when the string is not one or names an impossible day."""
    text = text.strip()[:64]
    if not text:
        return None
    match = _ISO_RE.fullmatch(text)
    if match is None:
        return _parse_rfc2822(text, source, label)
    g = match.groupdict()
    if not g["sep"] and (len(g["m"]) != 2 or len(g["d"]) != 2):
        return None  # "2019111905" is not 2019-11-01 09:05
    try:
        tz = _offset(g["tz"])
        if g["H"] is None:
            when = datetime(int(g["y"]), int(g["m"]), int(g["d"]))
            return Stamp(when, "day", source, label=label)
        hour, minute, second = int(g["H"]), int(g["M"]), int(g["S"] or 0)
        when = datetime(int(g["y"]), int(g["m"]), int(g["d"]), hour, minute, second, tzinfo=tz)
    except ValueError:
        return None
    # Midnight to the second is how CMSs write "a day, no time".
    if (hour, minute, second) == (0, 0, 0):
        return Stamp(when.replace(tzinfo=None), "day", source, label=label)
    precision = "second" if g["S"] is not None else "minute"
    return Stamp(when, precision, source, _zone_label(tz, when), label)


def _parse_rfc2822(text: str, source: str, label: str) -> Stamp | None:
    if not re.match(r"(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d", text):
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    zone = _zone_label(when.tzinfo, when) if when.tzinfo else None
    return Stamp(when, "second", source, zone, label)


# --------------------------------------------------------------------------- dates people read

_WEEKDAY = (
    r"(?:\s*[(（]?\s*(?:星期[一二三四五六日天]|周[一二三四五六日天]|禮拜[一二三四五六日天]"
    r"|[월화수목금토일](?:요일)?|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?)\s*[)）]?\s*,?)?"
)
_AMPM = r"오전|오후|上午|下午|凌晨|早上|中午|晚上|[AaPp]\.?[Mm]\.?(?![A-Za-z])"
_TIME = (
    rf"(?:\s*(?:,|at|-|–|\|)?\s*(?P<ap1>{_AMPM})?\s*(?P<H>\d{{1,2}})\s*(?::|时|時|시|点)\s*"
    r"(?P<M>\d{2})\s*(?:分|분)?(?:\s*:\s*(?P<S>\d{2})|\s*(?P<S2>\d{2})\s*(?:秒|초))?\s*(?:秒|초)?"
    rf"(?:\s*(?P<ap2>{_AMPM}))?)?"
)
_ZONE = (
    r"(?:\s*[(（]?\s*(?P<tzname>北京时间|北京時間|京港台时间|KST|JST|HKT|SGT|UTC|GMT|BJT|EST"
    r"|EDT|CST|CDT|MST|MDT|PST|PDT|ET|PT|CT|BST|CET|CEST|AEST|AEDT)(?![A-Za-z])"
    r"\s*(?P<tzoff>[+-]\d{1,2}(?::?\d{2})?)?\s*[)）]?)?"
)
_NUMERIC_RE = re.compile(
    r"(?<![\d.])(?P<y>(?:19|20)\d\d)\s*(?:[-/.]|年|년)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月|월)\s*"
    r"(?P<d>\d{1,2})(?!\d)\s*(?:日|일|号)?\.?" + _WEEKDAY + _TIME + _ZONE
)
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH_NAMES = (
    r"Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?"
)
_EN_TIME = (
    r"(?:\s*(?:,|at|-|–|—|\|)?\s*(?P<H>\d{1,2})(?:[:.](?P<M>\d{2}))?(?::(?P<S>\d{2}))?\s*"
    r"(?P<ap2>[AaPp]\.?[Mm]\.?)(?![a-z])"
    r"|\s*(?:,|at|-|–|—|\|)?\s*(?P<H24>\d{1,2}):(?P<M24>\d{2})(?::(?P<S24>\d{2}))?(?![\d:]))?"
)
_ENGLISH_RE = re.compile(
    rf"\b(?:(?P<mon>(?i:{_MONTH_NAMES}))\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d\d)"
    rf"|(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon2>(?i:{_MONTH_NAMES}))\.?,?\s+(?P<y2>(?:19|20)\d\d))"
    r"(?!\d)" + _EN_TIME + _ZONE
)
# 9/17/2004 5:54:13 AM: month first (ASP.NET's en-US default, and the US); day first when the
# first number cannot be a month. Both readings are possible when neither is over 12.
_SLASHED_RE = re.compile(
    r"(?<![\d/.])(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y>(?:19|20)\d\d)(?![\d/])" + _TIME + _ZONE
)

_NAMED_ZONES = {
    "北京时间": "Asia/Shanghai", "北京時間": "Asia/Shanghai", "京港台时间": "Asia/Shanghai",
    "BJT": "Asia/Shanghai", "KST": "Asia/Seoul", "JST": "Asia/Tokyo", "HKT": "Asia/Hong_Kong",
    "SGT": "Asia/Singapore", "UTC": "UTC", "GMT": "UTC", "EST": "-05:00", "EDT": "-04:00",
    "CST": "-06:00", "CDT": "-05:00", "MST": "-07:00", "MDT": "-06:00", "PST": "-08:00",
    "PDT": "-07:00", "ET": "America/New_York", "PT": "America/Los_Angeles",
    "CT": "America/Chicago", "BST": "+01:00", "CET": "+01:00", "CEST": "+02:00",
    "AEST": "+10:00", "AEDT": "+11:00",
}  # fmt: skip
# "北京时间2021年1月29日 13:18": the zone named before the date.
_BEIJING_BEFORE = re.compile(r"(?:北京时间|北京時間)\s*[:：]?\s*\Z")
_PM = frozenset({"오후", "下午", "晚上", "中午"})
_AM = frozenset({"오전", "上午", "凌晨", "早上"})


# A line with more dates than this is a list or a calendar; the first ones are enough.
_MAX_DATES_PER_TEXT = 32
# Every date and month pattern spells a year: a line without one is not searched further.
_YEAR = re.compile(r"(?:19|20)\d\d")


@dataclass(frozen=True)
class Found:
    """A date found in a line of text, with where it starts and ends."""

    stamp: Stamp
    start: int
    end: int


def _hour(hour: int, ampm: str | None) -> int:
    if not ampm:
        return hour
    word = ampm.replace(".", "").lower()
    if (word == "pm" or ampm in _PM) and hour < 12:
        return hour + 12
    if (word == "am" or ampm in _AM) and hour == 12:
        return 0
    return hour


def _zoned(when: datetime, name: str | None, offset: str | None) -> tuple[datetime, str | None]:
    """``when`` in the zone a date line names ("KST", "GMT+8", "北京时间"), if any."""
    if offset:
        try:
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            hours = int(digits[:-2] if len(digits) > 2 else digits)
            minutes = int(digits[-2:]) if len(digits) > 2 else 0
            tz: tzinfo = timezone(sign * timedelta(hours=hours, minutes=minutes))
        except (ValueError, IndexError):
            return when, None
        aware = when.replace(tzinfo=tz)
        return aware, _zone_label(tz, aware)
    if not name:
        return when, None
    label = _NAMED_ZONES.get(name.upper() if name.isascii() else name)
    if label is None:
        return when, None
    resolved = zone_by_name(label)
    if resolved is None:
        return when, None
    return resolved(when), label


def _build(
    y: int, m: int, d: int, groups: dict[str, str | None], hour_key: str = "H"
) -> tuple[datetime, str] | None:
    try:
        if groups.get(hour_key) is None:
            return datetime(y, m, d), "day"
        ampm = groups.get("ap1") or groups.get("ap2")
        hour = _hour(int(groups[hour_key] or 0), ampm)
        minute = int(groups.get("M") or 0)
        seconds = groups.get("S") or groups.get("S2")
        when = datetime(y, m, d, hour, minute, int(seconds or 0))
    except ValueError:
        return None
    return when, "second" if seconds else "minute"


def find_dates(text: str, source: str = "text") -> Iterator[Found]:
    """Every date in a line of text that a reader would take for one, in order."""
    return iter(_dates(text, source))


@lru_cache(maxsize=1024)  # the date rules read the lines around an article more than once
def _dates(text: str, source: str) -> tuple[Found, ...]:
    return tuple(_scan(text, source)) if _YEAR.search(text) else ()


def _scan(text: str, source: str) -> Iterator[Found]:
    seen: list[tuple[int, int]] = []
    for pattern in (_NUMERIC_RE, _ENGLISH_RE, _SLASHED_RE):
        for match in pattern.finditer(text):
            if len(seen) >= _MAX_DATES_PER_TEXT:
                return
            if any(s <= match.start() < e for s, e in seen):
                continue
            for found in _read(match, pattern, source):
                seen.append((found.start, found.end))
                yield found


def _read(match: re.Match[str], pattern: re.Pattern[str], source: str) -> Iterator[Found]:
    g = match.groupdict()
    readings: list[tuple[int, int, int]] = []
    ambiguous = False
    if pattern is _NUMERIC_RE:
        readings.append((int(g["y"]), int(g["m"]), int(g["d"])))
    elif pattern is _ENGLISH_RE:
        mon = (g["mon"] or g["mon2"] or "")[:3].lower()
        day, year = g["d"] or g["d2"], g["y"] or g["y2"]
        if mon in _MONTHS and day and year:
            readings.append((int(year), _MONTHS[mon], int(day)))
        if g.get("H24") is not None:
            g = {**g, "H": g["H24"], "M": g["M24"], "S": g["S24"]}
        elif g.get("H") is not None and g.get("M") is None:
            g = {**g, "M": "00"}
    else:
        a, b, y = int(g["a"]), int(g["b"]), int(g["y"])
        readings.append((y, a, b) if a <= 12 else (y, b, a))
        ambiguous = a <= 12 and b <= 12 and a != b
        if ambiguous:
            readings.append((y, b, a))
    for y, m, d in readings:
        built = _build(y, m, d, g)
        if built is None:
            continue
        when, precision = built
        zone = None
        if precision != "day":
            name = g.get("tzname")
            before = match.string[max(0, match.start() - 8) : match.start()]
            if not name and _BEIJING_BEFORE.search(before):
                name = "北京时间"
            when, zone = _zoned(when, name, g.get("tzoff"))
        stamp = Stamp(when, precision, source, zone, ambiguous=ambiguous)
        yield Found(stamp, match.start(), match.end())


# A month without a day: "1996年3月号" (an issue of a magazine), "2020년 3월", "March 2020".
# Not followed by a day, nor by a range's other end ("3月至5月", "March–May 2020").
_MONTH_ONLY_RE = re.compile(
    r"(?<![\d.])(?P<y>(?:19|20)\d\d)\s*(?:年|년)\s*(?P<m>\d{1,2})\s*(?:月|월)(?!\s*\d)"
    rf"|(?<![\d\w])(?P<mon>{_MONTH_NAMES})\.?,?\s+(?P<y2>(?:19|20)\d\d)(?![\d/.-])"
)
_RANGE_AFTER = re.compile(r"\s*(?:[-–—~〜至到]|to\b|until\b)", re.IGNORECASE)


def find_months(text: str, source: str = "text") -> Iterator[Found]:
    """Every month that a line names without a day, in order (precision "month")."""
    if not _YEAR.search(text):
        return
    taken = [(f.start, f.end) for f in find_dates(text, source)]
    for match in _MONTH_ONLY_RE.finditer(text):
        if any(s <= match.start() < e or s < match.end() <= e for s, e in taken):
            continue
        if _RANGE_AFTER.match(text, match.end()) or _RANGE_AFTER.search(text[: match.start()][-3:]):
            continue
        if match["y"]:
            year, month = int(match["y"]), int(match["m"])
        else:
            year, month = int(match["y2"]), _MONTHS[match["mon"][:3].lower()]
        if not 1 <= month <= 12:
            continue
        stamp = Stamp(datetime(year, month, 1), "month", source)
        yield Found(stamp, match.start(), match.end())


# --------------------------------------------------------------------------- dates in URLs

_URL_DATE_RE = re.compile(
    r"(?<![\d])(?P<y>(?:19|20)\d\d)(?P<s1>[-_/]?)(?P<m>0[1-9]|1[0-2])(?P<s2>[-_/]?)"
    r"(?P<d>0[1-9]|[12]\d|3[01])(?![\d])"
)


def url_date(url: str | None) -> Stamp | None:
    """The day a URL's path spells (``/2020-02-19/``, ``/2020-02/19/``, ``/20220206-``,
    ``/202311/17/``); None when there is none or the path names two different days."""
    if not url:
        return None
    path = re.sub(r"^[a-z]+://[^/]+", "", url, flags=re.IGNORECASE).split("?", 1)[0]
    days = set()
    for match in _URL_DATE_RE.finditer(path):
        s1, s2 = match.group("s1"), match.group("s2")
        if (s1 == "" and s2 == "" and not _bounded(path, match)) or (s1 == "_" or s2 == "_"):
            continue
        try:
            days.add(date(int(match["y"]), int(match["m"]), int(match["d"])))
        except ValueError:
            continue
    if len(days) != 1:
        return None
    day = days.pop()
    return Stamp(datetime(day.year, day.month, day.day), "day", "url")


def _bounded(path: str, match: re.Match[str]) -> bool:
    """Eight digits in a row count only as a whole path segment or a name's start."""
    before = path[match.start() - 1] if match.start() else "/"
    after = path[match.end()] if match.end() < len(path) else "/"
    return before in "/-_" and after in "/-_."
