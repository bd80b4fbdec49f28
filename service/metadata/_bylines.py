"""Bylines: the people who wrote an article, in Chinese, Korean and English.

A byline names people ("记者 王建宏 张文攀", "구현모 기자", "By Evan Halper"); it may name
an agency the story came from ("新华社北京2月13日电", "(서울=연합뉴스)", "(Reuters) -"),
which is kept apart from the people; and pages put their own name where a person's should be
("한국일보", "www.yunnan.cn", "cbsnews (hidden byline)"), which is never an author.

Editors (编辑, 责任编辑) are a fallback: they are the people a Chinese page names when it names
no writer, and they are reported only then.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from ._surnames import CHINESE_SURNAMES, COMPOUND_SURNAMES

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HANGUL = "\uac00-\ud7a3"

# Wire services, by every name pages write them with; the value is how ``agency`` spells it.
AGENCIES: dict[str, str] = {}
for _canonical, _names in (
    (
        "Xinhua",
        ("新华社", "新華社", "新华通讯社", "Xinhua", "Xinhua News Agency", "신화통신", "신화사"),
    ),
    ("China News Service", ("中新社", "中国新闻社", "中國新聞社", "China News Service")),
    ("Reuters", ("Reuters", "路透社", "路透", "로이터", "로이터통신", "Thomson Reuters")),
    ("AP", ("AP", "Associated Press", "The Associated Press", "美联社", "美聯社", "AP통신")),
    ("AFP", ("AFP", "Agence France-Presse", "Agence France Presse", "法新社", "AFP통신")),
    ("Yonhap", ("연합뉴스", "Yonhap", "Yonhap News Agency", "韩联社", "韓聯社", "聯合新聞")),
    ("Newsis", ("뉴시스", "Newsis")),
    ("News1", ("뉴스1", "News1")),
    ("Kyodo", ("Kyodo", "Kyodo News", "共同社", "교도통신")),
    ("Bloomberg", ("Bloomberg", "Bloomberg News", "彭博社", "블룸버그")),
    ("dpa", ("dpa", "DPA", "Deutsche Presse-Agentur")),
    ("EFE", ("EFE",)),
    ("ANSA", ("ANSA",)),
    ("UPI", ("UPI", "United Press International")),
    ("TASS", ("TASS", "塔斯社", "타스통신")),
    ("CNA", ("中央社", "中央通讯社", "中央通訊社")),
    ("Press Association", ("PA Media", "Press Association")),
    ("PTI", ("PTI", "Press Trust of India")),
    ("IANS", ("IANS",)),
    ("ANI", ("ANI", "Asian News International")),
):
    for _name in _names:
        AGENCIES[_name.casefold()] = _canonical

_AGENCY_ALT = "|".join(sorted((re.escape(n) for n in AGENCIES), key=len, reverse=True))
# Datelines that credit a wire: "新华社北京2月13日电", "据新华社拉萨电", "(서울=연합뉴스)",
# "[서울=뉴시스]", "WASHINGTON (Reuters) -", "(AP) —".
_DATELINE_AGENCY_RE = re.compile(
    rf"(?:^|据|據)\s*(?P<zh>新华社|新華社|中新社|中新网|中央社)[{_HAN}\d月日]{{0,14}}(?:电|電|讯|訊)"
    rf"|[(\[（【]\s*[{_HANGUL}A-Za-z ]{{1,12}}\s*=\s*"
    rf"(?P<ko>[{_HANGUL}A-Za-z0-9]{{2,12}})\s*[)\]）】]"
    r"|^[A-Z][A-Za-z .,'-]{0,40}\((?P<en>Reuters|AP|AFP|Xinhua|Yonhap|Kyodo|Bloomberg|UPI|dpa)\)"
    r"\s*[-–—]"
    r"|^\((?P<en2>Reuters|AP|AFP|Xinhua|Yonhap|Kyodo|Bloomberg|UPI|dpa)\)\s*[-–—]"
)
# "AP Auto Writer", "Associated Press Writer", "Reuters staff": an agency's desk, not a person.
_AGENCY_HEAD = re.compile(
    r"(ap|associated press|the associated press|reuters|afp|xinhua|yonhap|kyodo|bloomberg)"
    r"(?:\s+[a-z]+){0,3}\s+(?:writer|reporter|staff|correspondent|desk|report|news)$"
)
# "AP National Political", "Reuters Breakingviews": a desk named after its agency.
_AGENCY_DESK = re.compile(r"(AP|AFP|Reuters|Xinhua|Yonhap|Kyodo)(?:\s+[A-Z][a-z]+){1,3}$")
_SOURCE_LABELS = ("来源", "來源", "稿源", "출처", "Source")
_SOURCE_RE = re.compile(rf"(?:{'|'.join(_SOURCE_LABELS)})\s*[:：]\s*(?P<name>[^\s|｜/，,]{{2,24}})")

# Words that say a name is a place, a desk or the site itself, never a person.
_ORG_END = re.compile(
    r"(?:网|網|报|報|社|台|日报|日報|新闻|新聞|频道|頻道|在线|在線|集团|集團|中心|政府|委员会|公司"
    r"|编辑部|編輯部|工作室|杂志|雜誌|周刊|週刊|客户端|官网|官方|일보|신문|뉴스|방송|닷컴|미디어|신보"
    r"|타임스|저널|코리아|\.com|\.cn|\.net|\.org|\.kr)$"
    r"|^(?:the\s+)?(?:\w+\s+)*(?:news|times|post|press|media|daily|magazine|staff|desk|team"
    r"|editors?|editorial|network|agency|online|tv|radio|group|inc|ltd|llc|corp|services|reports"
    r"|ministries|ministry|department|government|office|bureau|business)\.?$",
    re.IGNORECASE,
)
_PLACEHOLDERS = frozenset({
    "未知", "佚名", "匿名", "不详", "无", "暂无", "本站", "本网", "网友", "编辑部", "管理员",
    "小编",
    "admin", "administrator", "unknown", "anonymous", "staff", "guest", "editor", "editors",
    "webmaster", "null", "none", "n/a", "기자", "관리자", "편집부", "디지털뉴스부", "name",
    "author", "authors", "作者", "记者", "編輯", "编辑", "your name", "by", "multiple sources",
    "staff reports", "staff report", "wire reports", "wire services", "news services",
    "staff and wire reports", "news desk", "web desk", "editorial staff", "editorial team",
})  # fmt: skip
# What precedes a name in English credits: "Analysis by", "Story by", "Reporting by".
_EN_LEAD = re.compile(r"^(?:[A-Z][a-z]+\s+){0,2}[Bb]y\s+(?=[A-Z])")
# "The Russian ...", "PMJS - Coordenadoria", "November 18": an organisation, a heading or a
# date, not a person's name.
_NOT_A_NAME = re.compile(
    r"^(?:The|A|An)\s|\s[-–—|]\s|\d.*\d|^(?:January|February|March|April|May|June|July|August"
    r"|September|October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday"
    r"|Sunday)\b"
)
# Degrees and other letters after a name ("Ilana Muhlstein, MS, RDN"), and other stubs.
_CREDENTIAL = re.compile(r"[A-Z]{1,4}|Ph\.?D\.?|M\.?D\.?|Jr\.?|Sr\.?|[A-Za-z]{1,2}")
_MAX_RAW_NAME = 200
_URL_OR_MAIL = re.compile(r"https?://|www\.|@[\w-]+\.[\w.]+|^@")
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,5}")
_SPACES = re.compile(r"\s+")

# --- patterns inside lines ------------------------------------------------------------------
_ORG_CHARS = re.compile(r"网|網|报|報|社|台|部|中心|专栏|專欄|频道|頻道|公司|集团|政府")
_ZH_NAME_RUN = re.compile(rf"[{_HAN}·•]{{2,12}}")
# Where a Chinese byline's name ends when nothing separates it from what follows.
_ZH_STOP = re.compile(
    r"发自|發自|报道|報道|报导|攝影|摄影|摄|攝|综合|綜合|编译|編譯|整理|电|電|讯|訊|消息|供图|供圖"
    r"|通讯员|通訊員|实习生|實習生|记者|記者|编辑|編輯|责编|責編|校对|审核|来源|來源|图|圖|文|北京|上海"
)
_ZH_WRITER = (
    r"(?:作者|撰文|撰稿|文字|图文|圖文|文\s*[/／]\s*[图圖]|[图圖]\s*[/／]\s*文|口述|记者|記者"
    r"|通讯员|通訊員|实习生|實習生|文)"
)
_ZH_REPORTER = frozenset({"记者", "記者", "通讯员", "通訊員", "实习生", "實習生"})
_ZH_EDITOR = r"(?:责任编辑|責任編輯|责编|責編|编辑|編輯|主编|主編|编审|編審|值班编辑|实习编辑)"
_ZH_BYLINE_RE = re.compile(
    rf"(?P<role>{_ZH_EDITOR}|{_ZH_WRITER})\s*(?P<mark>[:：/／|｜]?)\s*"
    rf"(?=(?P<names>[{_HAN}·•A-Za-z][{_HAN}·•A-Za-z0-9_.\- 、，,和及与]{{0,60}}))"
)
# Where the names after a role end: the next role, a date or source label, a photo credit.
_ZH_NAMES_END = re.compile(
    rf"{_ZH_EDITOR}|作者|撰文|撰稿|文字|图文|圖文|文\s*[/／:：]|记者|記者|通讯员|通訊員|实习生|實習生"
    r"|来源|來源|出自|发表|發表|发布|發布|时间|時間|日期|阅读|閱讀"
    r"|评论|評論|摄|攝|拍摄|点击|點擊|字号|字號"
)
_ZH_BLOG_RE = re.compile(
    rf"(?:本贴|本帖|本文)?由\s*(?P<name>[{_HAN}A-Za-z0-9_.\-]{{2,20}}?)\s*"
    r"(?:于|於|张贴|張貼|发表|發表|发布|發布)"
    rf"|(?:^|\s)by\s+(?P<name2>[{_HAN}][{_HAN}A-Za-z0-9_.\-]{{1,19}}|[a-z][\w.\-]{{1,30}})(?=\s|$)"
)
_HAS_HAN = re.compile(rf"[{_HAN}]")
_HAS_HANGUL = re.compile(rf"[{_HANGUL}]")
# What every byline of a kind holds: a line without any is not searched for that kind.
_ZH_ROLE_START = re.compile("[责責编編主值实實作撰文图圖口记記通]")  # a role's first character
_ZH_BLOG_MARKS = ("由", "by")
_EN_MARKS = ("by", "By", "BY", "Author:")
# Every dateline holds a bracket or a Chinese agency (新华社, 新華社, 中新社, 中新网, 中央社).
_DATELINE_MARKS = ("(", "[", "（", "【", "新", "央")
# Each set of marks as one pattern: a line is searched once (in C), not once per mark.
_ZH_BLOG_MARK = re.compile("|".join(map(re.escape, _ZH_BLOG_MARKS)))
_EN_MARK = re.compile("|".join(map(re.escape, _EN_MARKS)))
_DATELINE_MARK = re.compile("|".join(map(re.escape, _DATELINE_MARKS)))
_SOURCE_LABEL = re.compile("|".join(map(re.escape, _SOURCE_LABELS)))
_BRACKET_NAME_RE = re.compile(rf"[\[【]\s*(?P<name>[{_HAN}]{{2,4}})\s*[\]】]")
_KO_ROLE = (
    r"(?:선임|수석|전문|객원|인턴|견습|사진|영상|취재)?\s*"
    r"(?:기자|특파원|통신원|논설위원|선임기자|에디터)"
)
_KO_BYLINE_RE = re.compile(
    rf"(?<![{_HANGUL}])(?P<names>[{_HANGUL}]{{2,4}}(?:\s*[·,ㆍ]\s*[{_HANGUL}]{{2,4}}){{0,5}})\s*{_KO_ROLE}"
    rf"(?![{_HANGUL}])"
)
# "글·사진 홍길동", "기자명 홍길동": a bare "글" ("writing") only opens a line, and its name
# ends the line or comes before an e-mail ("작가의 글 솜씨를" is prose).
_KO_LEAD_RE = re.compile(
    rf"(?:(?:^|(?<=[\[(]))\s*(?:글\s*[·ㆍ/]\s*사진|글\s*[=:/]?|취재\s*[=:]?)|기자명|작성자\s*[:：]?)"
    rf"\s*(?P<names>[{_HANGUL}]{{2,4}}(?:\s*[·,ㆍ]\s*[{_HANGUL}]{{2,4}}){{0,5}})"
    rf"(?=\s*(?:$|[\])]|{_KO_ROLE}|[\w.+-]+@|\|))"
)
# Particles that end a Korean word in a sentence, never a name.
_KO_PARTICLE_END = re.compile(r"(?:를|을|의|에|와|과|로|께|에게|에서|부터|까지)$")
_EN_NAME = (
    r"[A-Z][\w'’.\-]*(?:\s+(?:[A-Z][\w'’.\-]*|de|del|der|van|von|da|di|la|le|al|bin|ibn|y)){0,4}"
)
# "By" starts a byline anywhere; a lower-case "by" only at the start of a line or after a
# date or a "posted" ("Posted on September 21, 2020 by Adi Tzlil"), not in a sentence.
_EN_BYLINE_RE = re.compile(
    r"(?:(?:^|(?<=[\s|•·(]))(?:By|BY|Written by|Posted by|Reporting by|Words by|Author:|Authors:)"
    r"|(?:^|(?<=\d)|(?<=\d,)|(?<=[Pp]osted)|(?<=[Ww]ritten)|(?<=[Pp]ublished)|(?<=\|))\s*by)"
    r"\s*:?\s+"
    rf"(?P<names>{_EN_NAME}(?:\s*(?:,|and|&)\s*{_EN_NAME}){{0,5}})"
)
# Words that end an English name run ("By Jane Doe Staff Writer", "by Adi Tzlil Updated").
_EN_STOP = re.compile(
    r"(?<=[a-z])(?:Staff|Senior|Contributing|Correspondent|Reporter|Writer|Editor|Updated"
    r"|Published|Posted)\b.*$"
    r"|\s+(?:Staff|Senior|Special|Contributing|Correspondent|Reporter|Writer|Editor|Published"
    r"|Updated|Posted|Photo|Photos|Video|Shares?|Comments?|Follow|Email|Twitter|On|In|For|At"
    r"|The|Of|From|With|January|February|March|April|May|June|July|August|September|October"
    r"|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Mon|Tue|Wed|Thu"
    r"|Fri|Sat|Sun|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b.*$"
)
_NAME_SPLIT = re.compile(r"\s*(?:[,，、;/&]|\band\b|和|及|与|·|ㆍ)\s*")


@dataclass(frozen=True)
class Byline:
    """People found in one place, and whether they wrote (else edited) the article."""

    names: tuple[str, ...]
    editor: bool = False
    start: int = 0
    end: int = 0


# --------------------------------------------------------------------------- names


_NOT_ALNUM = re.compile(r"[\W_]+")  # what str.isalnum() rejects, exactly


@lru_cache(maxsize=4096)  # sites and title variants are compared again and again
def normal(text: str) -> str:
    """A comparison key: NFKC, case folded, letters and digits only."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).casefold())


def agency_of(name: str) -> str | None:
    """The agency a credit names: "Reuters", "AP Sports Writer", "Associated Press Writer"."""
    key = _SPACES.sub(" ", name).strip().casefold()
    found = AGENCIES.get(key) or AGENCIES.get(key.removesuffix(" staff").strip())
    if found is None:
        head = _AGENCY_HEAD.match(key) or _AGENCY_DESK.match(name.strip())
        found = AGENCIES.get(head.group(1).casefold()) if head else None
    return found


def is_site_name(name: str, site_names: Iterable[str]) -> bool:
    """A site, desk or organisation, or the page's own name: never a person."""
    key = normal(name)
    if not key:
        return True
    for site in site_names:
        other = normal(site)
        # The site's name, or its name with a word or two around it ("PhillyVoice Staff");
        # a blogger named after the blog ("史蒂文的家_藍天 (stevenhgm)") stays a person.
        if other and (
            key == other or (len(other) >= 4 and other in key and len(key) <= len(other) + 5)
        ):
            return True
        if len(key) >= 5 and key in other and len(other) <= len(key) + 8:
            return True  # "Beachbody" for "The Beachbody Blog"
    return _ORG_END.search(name.strip()) is not None


def clean_name(raw: str) -> str | None:
    """One person's name from what a page writes around it, or None when it is not one."""
    if len(raw) > _MAX_RAW_NAME:
        return None
    text = _EMAIL.sub(" ", raw)
    text = (
        re.sub(r"\(.*?\)|（.*?）", " ", text)
        if not re.fullmatch(r"[^(（]*[(（][^)）]*[)）]", raw.strip())
        else text
    )
    text = re.sub(
        rf"^(?:[Bb]y|BY)\s+|\s*(?:{_KO_ROLE}|外\s*\d+\s*명|외\s*\d+\s*명)\s*$|^\s*(?:{_ZH_EDITOR}|{_ZH_WRITER})\s*[:：/／]?\s*",
        " ",
        text,
    )
    text = re.sub(r"\s*외\s*\d+\s*명.*$", "", text)
    text = re.sub(rf"\s*(?:{_KO_ROLE})\s*$", "", text)
    if re.search(r"[A-Za-z]", text):
        text = _EN_LEAD.sub("", text.strip())
        text = _EN_STOP.sub("", text)
    text = _balanced(_SPACES.sub(" ", text).strip(" \t|:：-–—·,，、/\"'“”"))
    if not text or len(text) > 60 or _URL_OR_MAIL.search(text):
        return None
    if _NOT_A_NAME.search(text):
        return None
    if text.casefold() in _PLACEHOLDERS or text.isdigit() or _CREDENTIAL.fullmatch(text):
        return None
    if _KO_PARTICLE_END.search(text) and re.fullmatch(rf"[{_HANGUL}]+", text):
        return None
    # A clause, not a name: sentence punctuation, or a lower-case word after a full stop.
    if re.search(r"[!?。！？]|\.\s+[a-z]", text) or len(text.split()) > 6:
        return None
    return text


def _balanced(text: str) -> str:
    """``text`` without brackets at its ends that close or open nothing."""
    pairs = {"(": ")", "（": "）", "[": "]", "【": "】"}
    while text and text[0] in pairs and pairs[text[0]] not in text:
        text = text[1:].strip()
    while text and text[-1] in pairs.values():
        opener = next(k for k, v in pairs.items() if v == text[-1])
        if opener in text:
            break
        text = text[:-1].strip()
    while text and text[-1] in pairs:
        text = text[:-1].strip()
    return text


def split_names(raw: str) -> list[str]:
    """Several names written as one ("王建宏 张文攀", "Jane Doe and John Roe", "김·이")."""
    text = _SPACES.sub(" ", raw).strip()
    parts = [p for p in _NAME_SPLIT.split(text) if p.strip()]
    out: list[str] = []
    for part in parts:
        tokens = part.split(" ")
        # Han names are written without spaces inside them, so spaces separate people.
        if len(tokens) > 1 and all(re.fullmatch(rf"[{_HAN}·]{{2,5}}", t) for t in tokens):
            out.extend(tokens)
        else:
            out.append(part)
    return out


# --------------------------------------------------------------------------- lines


def _zh_name(run: str, *, strict: bool, whole: bool = False) -> str | None:
    """The name at the start of a run of Han characters ("罗科苏盈发自北京" -> 罗科苏盈).

    ``whole``: the run is all there is between an explicit label and the next separator
    ("责任编辑：棒棒不是糖"), so a pen name of up to eight characters is taken whole.
    """
    stop = _ZH_STOP.search(run, 2)
    if stop is not None and stop.start() <= 5:
        run = run[: stop.start()]
        whole = False
    if len(run) <= 4 or (len(run) == 5 and "·" in run):
        return run if len(run) >= 2 else None
    if "·" in run or "•" in run:  # transliterated names: 阿卜杜拉·买买提
        return run if len(run) <= 12 else None
    if whole and len(run) <= 8 and not _ORG_CHARS.search(run):
        return run
    return None


def _zh_names(text: str, *, strict: bool, explicit: bool = False) -> list[str]:
    """Names after a byline role. ``explicit``: a colon or slash follows the role; else
    ``strict`` names (glued to the role, or after a role that is also a common word) must
    start with a family name."""
    names: list[str] = []
    for chunk in split_names(text):
        chunk = chunk.strip()
        latin = re.match(r"[A-Za-z][\w.\-]{1,30}", chunk)
        if latin and not re.match(rf"[{_HAN}]", chunk):
            names.append(latin.group(0))
            continue
        run = _ZH_NAME_RUN.match(chunk)
        if run is None:
            break
        whole = explicit and run.end() == len(chunk)
        name = _zh_name(run.group(0), strict=strict, whole=whole)
        if name is None:
            break
        if strict and name[0] not in CHINESE_SURNAMES and name[:2] not in COMPOUND_SURNAMES:
            break
        names.append(name)
        if run.end() < len(chunk) or len(name) < len(run.group(0)):
            break  # the run went on past the name: what follows is not another name
    return names


def find_bylines(text: str) -> Iterator[Byline]:
    """Bylines in one line of text, in the order they stand."""
    # Each pattern needs its script (or "by"): most lines are searched with one or none.
    wide = not text.isascii()
    han = wide and _HAS_HAN.search(text) is not None
    hangul = wide and _HAS_HANGUL.search(text) is not None
    roles = han and _ZH_ROLE_START.search(text) is not None
    for match in _ZH_BYLINE_RE.finditer(text) if roles else ():
        role, names_text = match.group("role"), match.group("names")
        editor = re.fullmatch(_ZH_EDITOR, role) is not None
        # "文" alone is a byline only as "文/" or "文：" ("文化", "本文" are words).
        if role in ("文", "文字") and not match.group("mark"):
            continue
        before = text[match.start() - 1] if match.start() > 0 else ""
        if role == "文" and re.match(rf"[{_HAN}]", before) and before not in "图圖/":
            continue
        cut = _ZH_NAMES_END.search(names_text)
        if cut is not None:
            if re.match(r"\s*(?:摄|攝|拍摄)", names_text[cut.start() :]):
                continue  # "新华社记者 才扬 摄": a photo credit
            names_text = names_text[: cut.start()]
        explicit = bool(match.group("mark"))
        spaced = match.group(0)[len(role) :] != "" and not match.group(0)[len(role) :].strip()
        if not explicit and not spaced and role not in _ZH_REPORTER:
            continue  # "该作者文章", "编辑推荐": the word, not a byline
        strict = not explicit and (not spaced or role not in _ZH_REPORTER)
        names = _zh_names(names_text, strict=strict, explicit=explicit)
        if names:
            end = match.end() + len(names_text)
            yield Byline(tuple(names), editor, match.start(), end)
    blog = han and _ZH_BLOG_MARK.search(text) is not None
    for match in _ZH_BLOG_RE.finditer(text) if blog else ():
        name = clean_name(match.group("name") or match.group("name2") or "")
        if name:
            yield Byline((name,), False, match.start(), match.end())
    for match in _KO_BYLINE_RE.finditer(text) if hangul else ():
        names = [n for n in re.split(r"\s*[·,ㆍ]\s*", match.group("names")) if n]
        yield Byline(tuple(names), False, match.start(), match.end())
    for match in _KO_LEAD_RE.finditer(text) if hangul else ():
        names = [n for n in re.split(r"\s*[·,ㆍ]\s*", match.group("names")) if n]
        yield Byline(tuple(names), False, match.start(), match.end())
    english = _EN_MARK.search(text) is not None
    for match in _EN_BYLINE_RE.finditer(text) if english else ():
        raw = _EN_STOP.sub("", match.group("names"))
        names = [n for n in (clean_name(p) for p in split_names(raw)) if n]
        if names:
            yield Byline(tuple(names), False, match.start(), match.end())


def bracket_name(text: str) -> str | None:
    """A name in brackets on a date line: "2004年7月16日08:19 [ 黄宇 ]"."""
    match = _BRACKET_NAME_RE.search(text)
    if match is None:
        return None
    name = match.group("name")
    if name[0] not in CHINESE_SURNAMES and name[:2] not in COMPOUND_SURNAMES:
        return None  # "[整理]", "[组图]": a label, not a person
    return name


def lone_name(text: str) -> str | None:
    """A line that is only a Chinese name (a family name and one to three characters)."""
    text = text.strip()
    if not re.fullmatch(rf"[{_HAN}]{{2,4}}", text):
        return None
    if text[0] not in CHINESE_SURNAMES and text[:2] not in COMPOUND_SURNAMES:
        return None
    return None if _ORG_CHARS.search(text) or text in _PLACEHOLDERS else text


def agencies_in(text: str) -> list[str]:
    """Agencies a dateline or a source line credits ("新华社北京2月13日电", "来源：新华社")."""
    out: list[str] = []
    head = text[:200]
    dated = _DATELINE_MARK.search(head) is not None
    for match in _DATELINE_AGENCY_RE.finditer(head) if dated else ():
        name = next((g for g in match.groups() if g), None)
        found = agency_of(name) if name else None
        if found and found not in out:
            out.append(found)
    labelled = _SOURCE_LABEL.search(text) is not None
    for match in _SOURCE_RE.finditer(text) if labelled else ():
        found = agency_of(match.group("name"))
        if found and found not in out:
            out.append(found)
    return out


# --------------------------------------------------------------------------- line removal

_LEFTOVER_RE = re.compile(
    r"[\s\W_\d]|(?:本报|本報|本刊|本台|本网|特约|特約|实习|實習|首席|驻|駐|专栏|專欄|报道|報道|发自|發自"
    r"|综合|整理|编译|供图|受访者|来源|來源|기자|특파원|선임|사진|영상|취재|기자명|Staff|Writer|Reporter"
    r"|Correspondent|Senior|Contributing|Photos?|Updated|Published)"
)
_SENTENCE_END = re.compile(r"[。！？!?]|\.\s+\S")
# Agency names a byline line may hold, each taken out in turn (not short Latin ones: "AP").
_AGENCY_WORDS = [
    re.compile(re.escape(agency), re.IGNORECASE)
    for agency in AGENCIES
    if not (agency.isascii() and len(agency) <= 3)
]


def is_byline_line(text: str, names: Iterable[str]) -> bool:
    """A paragraph that is only a byline ("光明日报记者 王建宏 张文攀", "By Evan Halper",
    "구현모 기자 ninek@hankookilbo.com", "责任编辑：孙重远"): nothing of the story in it."""
    if len(text) > 120 or _SENTENCE_END.search(text.rstrip(".。")):
        return False
    found = list(find_bylines(text))
    if not found:
        return False
    rest = text
    for byline in sorted(found, key=lambda b: b.start, reverse=True):
        rest = rest[: byline.start] + " " + rest[byline.end :]
    rest = _EMAIL.sub(" ", rest)
    for name in names:
        rest = rest.replace(name, " ")
    for pattern in _AGENCY_WORDS:
        rest = pattern.sub(" ", rest)
    left = _LEFTOVER_RE.sub("", rest)
    # An outlet and a place may stay ("新京报 ... 山东冠县"); a clause may not.
    limit = 10 if re.search(rf"[{_HAN}{_HANGUL}]", text) else 24
    return len(left) <= limit
