"""Line rules of the plain-text cleaner: which boilerplate family a line belongs to.

The rule families (chrome, copyright, disclaimer, source, credit, byline, social, comment,
teaser, dateline) are language-aware line patterns; :mod:`service.cleanup` applies them
together with its position rules. Every pattern is anchored or uses bounded repeats and runs
on length-capped lines, so hostile input costs one pass (see that module's docstring).
"""

from __future__ import annotations

import re

from .scripts import display_width

# --- sizes ------------------------------------------------------------------------------
# Display widths (CJK and Hangul count double), so one cap works for all three languages.
CAP_CHROME = 50  # whole-line UI words
_CAP_META = 120  # date/time lines
_CAP_BYLINE = 150
_CAP_SOCIAL = 150
_CAP_CONTAINS = 250  # "contains a phrase" rules only look at short lines
_CAP_ANCHORED = 400  # rules anchored on a leading label ("©", "Source:", "原标题")
SHORT = 200  # a line up to this width without a full stop reads as a headline

CLOSERS = "\"'”’」』）)]】》>»"
_TERMINAL = ".!?。！？"


def fits(text: str, cap: int) -> bool:
    """Cheap first: a line longer than ``cap`` characters can never fit ``cap`` columns."""
    return len(text) <= cap and display_width(text) <= cap


def terminated(text: str) -> bool:
    """Ends like a sentence (a full stop, maybe inside quotes); an ellipsis is a cut."""
    core = text.rstrip(CLOSERS + " ")
    if not core or core[-1] not in _TERMINAL:
        return False
    return not (core.endswith("...") or core.endswith("…"))


# --- rule families ----------------------------------------------------------------------
_I = re.IGNORECASE

_CHROME_RE = re.compile(
    r"[\[(<]?\s*(?:skip\s+to\s+(?:main\s+)?(?:content|navigation)|본문\s*바로\s*가기"
    r"|(?:주\s*)?메뉴\s*바로\s*가기|跳(?:到|至)(?:主要)?(?:内容|正文)|text\s*size|font\s*size"
    r"|글자\s*크기|글씨\s*크기|字号|字體大小|close|닫기|关闭|關閉|menu|메뉴|菜单|search|검색"
    r"|搜索|top|back\s+to\s+top|맨\s*위로|위로\s*가기|返回顶部|回到顶部|print|인쇄|打印"
    r"|log\s*in|sign\s*in|log\s*out|sign\s*out|로그인|로그아웃|회원가입|登录|注册|登錄|home|홈"
    r"|首页|advertisement|광고|广告|sponsored|스크랩|bookmark|북마크|listen|듣기|translate"
    r"|번역|more|prev(?:ious)?|next|이전\s*기사|다음\s*기사|上一篇|下一篇|더\s*보기"
    r"|toggle\s+navigation|loading|(?:[大中小]\s*){2,3})\s*[\])>]?\s*[:：!.…>»]*",
    _I,
)
_UI_TOKEN_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+")
_BREADCRUMB_RE = re.compile(
    r"[^>›»|]{1,24}(?:[>›»][^>›»|]{1,24}){1,5}|[^|]{1,16}(?:\|[^|]{1,16}){2,6}"
)

_COPYRIGHT_ANCHORED_RE = re.compile(
    r"^[\s<\[(（【]*(?:©|ⓒ|\(c\)\s|\(c\)\d|copyrights?\b|저작권자|저작권\s*[©ⓒ]|版权所有"
    r"|版權所有|版权声明|版權聲明)",
)
_COPYRIGHT_RE = re.compile(
    r"all\s+rights\s+reserved|版权所有|版權所有|保留所有权利|무단\s*(?:전재|복제|배포)"
    r"|재배포\s*금지|ai\s*학습\s*(?:및\s*)?활용\s*금지|未经[^。！？]{0,30}?(?:转载|轉載|转发|复制|摘编)"
    r"|(?:严禁|禁止|不得|谢绝|請勿|请勿)[^。！？]{0,8}?(?:转载|轉載|转发|复制|摘编)"
    r"|转载请(?:注明|联系)|如需转载|转载申请|(?:举报|报告)[^。！？]{0,8}?侵权"
    r"|(?:no\s+part|may\s+not|must\s+not|cannot|not\s+be|prohibited|forbidden)[^.]{0,60}?"
    r"(?:reprint|reproduc|republish|redistribut|cop(?:y|ied))\w{0,6}[^.]{0,60}?without"
    r"|(?:reprint|reproduc|republish|redistribut)\w{0,6}[^.]{0,60}?without\s+[^.]{0,40}?"
    r"(?:permission|authori[sz]ation|consent)[^.]{0,30}?(?:prohibited|forbidden|not\s+permitted)"
    r"|re(?:print|produc|publish|distribut|post)(?:ed|ing|tion)?\s+without\s+(?:\w+\s+){0,2}"
    r"(?:permission|authori[sz]ation|consent)"
    r"|(?:may|must|shall|cannot|can\s*not)\s+(?:not\s+)?be\s+"
    r"re(?:produced|published|distributed|written|printed|broadcast)"
    r"|may\s+not\s+be\s+published,\s*broadcast"
    r"|unauthori[sz]ed\s+(?:reproduction|redistribution|copying|republication)"
    r"|copyrights?\s+(?:belong|remain|are\s+(?:the\s+)?(?:property|owned))"
    r"|trademarks\s+and\s+copyrights",
)
_DISCLAIMER_RE = re.compile(
    r"for\s+illustrat(?:ive|ion)\s+purposes?\s+only"
    r"|do(?:es)?\s+not\s+(?:necessarily\s+)?(?:reflect|represent)\s+(?:the\s+)?"
    r"(?:views?|opinions?|position|policy)"
    r"|^[\s\[(（【]*(?:disclaimer|免责声明|免責聲明|声明|聲明|면책\s*조항|statement|note|注)\s*[:：]"
    r"[^\n]{0,200}?(?:view|opinion|author|illustrat|advice|观点|觀點|立场|立場|投资|作者)"
    r"|本文(?:仅|僅)?代表作者|不代表本(?:网|站|平台|报|號|号)|(?:本文|以上|文章)(?:内容)?仅供参考"
    r"|(?:not|nothing\s+in\s+this\s+article)\s+(?:intended\s+as|constitutes?)\s+"
    r"(?:financial|investment|legal)\s+advice"
    r"|^this\s+(?:article|story)\s+(?:was|has\s+been)\s+(?:machine[-\s])?"
    r"(?:translated|generated|produced\s+with)"
    r"|편집\s*방향과\s*(?:다를|무관|일치)|투자\s*판단의\s*(?:참고|책임)",
)
_SOURCE_RE = re.compile(
    r"^[\s\[(（【<]*(?:original(?:\s+(?:title|article|link|url|source|text))?|sources?|via"
    r"|원문(?:\s*보기)?|출처|기사\s*원문|原标题|原標題|原文(?:链接|鏈接|标题|標題|地址)?|来源|來源"
    r"|本文来源|本文來源|文章来源|稿源|信息来源|转自|转载自|摘自)\s*[:：]"
    r"|^[\s\[(（【]*(?:原标题|原標題)"
    r"|^(?:this\s+(?:article|story|post)\s+(?:was\s+|is\s+)?(?:originally|first)\s+"
    r"(?:published|appeared)|originally\s+published|first\s+published\s+(?:in|on|by))",
)
_CREDIT_ANCHORED_RE = re.compile(
    r"^[\s\[(（【<]*(?:photos?|images?|pictures?|pics?|graphics?|illustrations?|infographics?"
    r"|video|file\s+photo|cover\s+(?:photo|image)|featured\s+image|top\s+image|사진|그래픽"
    r"|영상|자료\s*사진|이미지|图片?|圖片?|图源|圖源|资料图|資料圖|题图|題圖|头图|配图|视频"
    r"|摄影|攝影)\s*(?:by\b|courtesy\b|credits?\b|sources?\b|来源|來源|출처|제공|=|:|：|/|｜|\|)",
)
# Credit markers that never occur in prose: "[사진=연합뉴스]", "新华社记者 张三 摄".
_CREDIT_MARK_RE = re.compile(
    r"[\[(（<]\s*사진\s*[=:]\s*[^\])）>]{1,40}[\])）>]|(?:^|[\s./])사진\s*(?:=|제공\s*[=:]?)"
    r"|(?:^|\s)(?:사진|이미지|그래픽)\s*[:：]\s*\S{1,30}\s*$"
    r"|(?:记者|記者|通讯员|摄影)\s*\S{1,12}\s*摄\s*$|\s摄\s*$|(?:图|圖)\s*[/／]\s*\S{1,20}\s*$"
    r"|[（(]\s*(?:图|圖|图片|圖片)\s*(?:来源|來源|源)?\s*[:：/][^）)]{1,30}[）)]\s*$",
)
# A photo caption as pages print it: the caption's sentences, then a credit label of an image
# word and at most a few words of source ("... Photo", "... Photo: Reuters", "... Image courtesy
# of NASA", "... 资料图"); or a "(Photographer/Agency)" credit closing the line.
_CAPTION_END_RE = re.compile(
    r"(?:[.!?。)\]”\"]|^)\s*(?:photo(?:graph)?s?|images?|pictures?|screenshots?|file\s+photo"
    r"|graphics?|illustrations?|资料图|資料圖|图|圖|截图|截圖|网页截图|视频截图)"
    r"(?:\s*(?:[:：]|by\b|courtesy(?:\s+of)?\b|credit\b|via\b|from\b|of\b)?"
    r"(?:\s+[^\s.!?。]{1,30}){0,6})?\s*$"
    r"|\(\s*[^()/.!?]{2,40}\s*/\s*[^()/.!?]{2,40}\)\s*$",
)
_AGENCY = (
    r"(?:AP|AFP|Reuters|EPA(?:-EFE)?|Getty\s+Images|Yonhap(?:\s+News)?|Xinhua|Bloomberg"
    r"|연합뉴스|뉴스1|뉴시스|新华社|中新社|视觉中国|IC\s*photo|Shutterstock|iStock)"
)
_AGENCY_LINE_RE = re.compile(rf"[\[(（]?{_AGENCY}(?:\s*[/|·,]\s*{_AGENCY}){{0,4}}[\])）]?", _I)

_EMAIL = r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,5}"
_KO_NAMES = r"[가-힣]{2,4}(?:\s*[·,]\s*[가-힣]{2,4}){0,4}"
_KO_ROLE = r"(?:선임|수석|객원|인턴|전문)?\s*(?:기자|특파원|통신원|논설위원)"
_BYLINE_RE = re.compile(
    r"^\s*[\[【(（〔〖]\s*(?:by\s|文\s*[/／|｜]|记者|記者|作者|编译|撰文|撰稿|글\s*[=:]|기자)"
    r"[^\]】)）〕〗]{0,60}[\]】)）〕〗]\s*$"
    r"|^\s*\(?\s*(?:reporting|writing|editing|additional\s+reporting|compiled|written|edited)"
    r"\s+by\b"
    rf"|^{_KO_NAMES}\s*{_KO_ROLE}\s*(?:{_EMAIL})?\s*$"
    rf"|^[<(]?\s*{_EMAIL}\s*[>)]?$"
    r"|^[\s\[(（【]*(?:责任编辑|責任編輯|责编|責編|编辑|編輯|校对|校對|审核|審核|审校|监制|实习编辑"
    r"|實習編輯|作者|记者|記者|撰稿|编审|值班编辑|通讯员|供稿)\s*[:：|｜/]\s*[^。！？]{0,40}$"
    r"|^(?:editor|editors)\s*[:：]\s*[^.]{0,40}$",
)
# Case matters here: "By Jane Doe", not "by the numbers".
_BY_NAME_RE = re.compile(r"^(?:By|BY)\s+[A-Z\u00c0-\u024f][^.!?。]{0,70}$")

_KO_DATELINE_RE = re.compile(
    r"(?:[\[(【<]\s*[가-힣A-Za-z]{1,12}(?:\s+[가-힣A-Za-z]{1,12})?\s*=\s*"
    r"[가-힣A-Za-z0-9]{1,15}(?:\s+[가-힣A-Za-z0-9]{1,15})?\s*[\])】>]\s*"
    rf"(?:{_KO_NAMES}\s*{_KO_ROLE}\s*=?\s*)?"
    rf"|[\[【]\s*[가-힣A-Za-z]{{1,15}}\s+{_KO_NAMES}\s*{_KO_ROLE}\s*[\]】]\s*"
    rf"|{_KO_NAMES}\s*{_KO_ROLE}\s*=\s*)"
)
_ZH_BYLINE_PREFIX_RE = re.compile(
    r"【[^】]{0,30}?(?:记者|記者|报道|報道|讯|訊|By\s|文\s*[/／])[^】]{0,30}】\s*"
)

_SOCIAL_RE = re.compile(
    r"follow\s+us\b"
    r"|(?:like|follow)\s+(?:us\s+)?on\s+(?:facebook|twitter|instagram|x\b|linkedin|youtube"
    r"|telegram|weibo|wechat)"
    r"|^\s*share\s+(?:this|on|via|to|the\s+(?:story|article)|article|story|link)\b"
    r"|sign\s+up\s+for\s+(?:our|the)\b[^\n]{0,40}?newsletter"
    r"|subscribe\s+to\s+(?:our|the)\b[^\n]{0,40}?(?:newsletter|channel|podcast)"
    r"|^\s*(?:subscribe|구독하기|订阅|訂閱)\s*[:：!]?\s*$"
    r"|关注我们|扫码关注|扫一扫|點擊關注|点击关注|长按(?:二维码|识别)"
    r"|(?:关注|订阅)[^。]{0,10}(?:公众号|微信号|视频号)"
    r"|카카오톡\s*(?:채널|친구|에서|으로)|(?:네이버|다음)\s*(?:채널|뉴스스탠드)[^.]{0,10}(?:구독|추가)"
    r"|기사\s*공유|공유하기|제보는?\s*(?:카카오톡|이메일|전화)|^\s*제보\s*[:：]|좋아요\s*\d*\s*$"
    r"|(?:click|tap)\s+(?:here\s+)?to\s+(?:share|follow|subscribe)",
)
_SOCIAL_TOKENS = frozenset({
    "facebook", "twitter", "x", "linkedin", "whatsapp", "telegram", "email", "e-mail",
    "mail", "print", "copy", "link", "url", "reddit", "pinterest", "kakaotalk", "kakao",
    "line", "band", "share", "tweet", "messenger", "instagram", "youtube", "threads",
    "카카오톡", "카카오스토리", "페이스북", "트위터", "밴드", "네이버", "링크",
    "복사", "url복사", "링크복사", "공유", "微信", "微博", "qq", "qq空间", "朋友圈",
    "分享", "分享到"
})  # fmt: skip
_SOCIAL_SPLIT_RE = re.compile(r"[\s|/·,:：]+")

_COMMENT_RE = re.compile(
    r"^\s*(?:leave|post|add|write|submit|join)\s+(?:a|the|your)\s+"
    r"(?:reply|comment|response|conversation|discussion)"
    r"|your\s+email\s+address\s+will\s+not\s+be\s+published|required\s+fields\s+are\s+marked"
    r"|^[\s\[(]*\d+\s+(?:comments?|replies|responses)[\s\])]*$"
    r"|^\s*(?:(?:top|most\s+recent|latest|reader|user)\s+)?(?:comments?|replies|reply|댓글|评论"
    r"|評論|网友评论|網友評論|发表评论|發表評論|我要评论|댓글\s*쓰기|댓글\s*달기)"
    r"\s*[:：(（]?\s*\d*\s*[)）]?\s*$"
    r"|^[^。！？，,]{0,40}\d+\s*(?:件|条|條|篇|则|則|个|個)\s*(?:评论|評論|留言|回复|回覆)[^。！？，,]{0,20}$"
    r"|^[^\s。！？，,]{1,20}的(?:评论|評論|留言|回复)\s*$"
    r"|^\s*(?:top\s+rated|most\s+liked)\s+comments\s*$"
    r"|^\s*(?:you\s+must\s+be\s+logged\s+in|log\s+in\s+to\s+(?:comment|reply)"
    r"|sign\s+in\s+to\s+(?:comment|reply)|cancel\s+reply)"
    r"|save\s+my\s+name,?\s+email|comments\s+are\s+closed|^\s*\d+\s*개의\s*댓글"
    r"|댓글을?\s*(?:남겨|입력|작성)|评论区|留言区|^\s*(?:热门|最新)评论",
)
_TEASER_LINE_RE = re.compile(
    r"^\s*(?:read\s+more|read\s+also|also\s+read|see\s+also|read\s+next"
    r"|related(?:\s+(?:article|story|news|coverage|link))?s?"
    r"|recommended(?:\s+(?:article|story|reading))?s?|more\s+(?:on\s+this|from|stories|news)"
    r"|관련\s*기사|추천\s*기사|함께\s*(?:보면|읽으면)\s*좋은\s*기사|相关(?:阅读|新闻|文章|链接|报道)"
    r"|相關(?:閱讀|新聞|文章)|延伸阅读|推荐阅读|猜你喜欢|더\s*보기)\s*[:：>»▶|]\s*\S"
    r"|^\s*[▶▷►☞]\s*[^\n]{0,80}?(?:기사|뉴스|바로\s*가기|구독|클릭|더\s*보기|링크|채널)\s*[▶◀]?\s*$",
)
RELATED_HEADER_RE = re.compile(
    r"[\[【<(]?\s*(?:related(?:\s+(?:articles?|stories|story|news|posts?|coverage|content"
    r"|topics|links?|reading))?|read\s+more|read\s+next|more\s+(?:stories|news|articles"
    r"|from\s+[^\n]{1,30}|on\s+this(?:\s+story)?)"
    r"|recommended(?:\s+(?:for\s+you|articles?|stories|reading))?"
    r"|you\s+(?:may|might)\s+also\s+(?:like|enjoy|be\s+interested(?:\s+in)?)"
    r"|most\s+(?:read|popular|viewed)|trending(?:\s+now)?|popular\s+(?:now|stories|articles)"
    r"|see\s+also|further\s+reading|references|also\s+read|don'?t\s+miss|top\s+stories"
    r"|latest\s+news|관련\s*기사|추천\s*기사|많이\s*본\s*(?:뉴스|기사)|인기\s*기사|주요\s*뉴스"
    r"|이\s*시각\s*(?:주요\s*)?(?:뉴스|기사)|함께\s*(?:보면\s*좋은|읽으면\s*좋은|볼만한)\s*(?:기사|뉴스)"
    r"|최신\s*기사|相关(?:阅读|新闻|文章|链接|报道|推荐)|相關(?:閱讀|新聞|文章)|延伸阅读|推荐阅读"
    r"|热门(?:推荐|文章|新闻)|猜你喜欢|更多(?:精彩|新闻|阅读)?|热点新闻|精彩推荐|编辑推荐)"
    r"\s*[\]】>)]?\s*[:：>»▶▼]*",
    _I,
)
# "AI BOOST: ..." -- the upper-case kicker that teaser blurbs open with.
KICKER_RE = re.compile(r"[A-Z][A-Z0-9'’&.\-]{1,20}(?: [A-Z0-9'’&.\-]{1,20}){0,4}: ")

_META_LATIN_RE = re.compile(
    r"\b(?:published|updated|posted|last\s+updated|modified|created|date|time|am|pm|a\.m\.|p\.m\."
    r"|kst|est|edt|cst|cdt|pst|pdt|gmt|utc|bst|cet|jst|hkt|sgt|et|pt|bjt"
    r"|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|mon(?:day)?"
    r"|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?|fri(?:day)?|sat(?:urday)?"
    r"|sun(?:day)?)\b\.?",
    _I,
)
_META_CJK_RE = re.compile(
    r"최종\s*수정|기사\s*입력|입력|수정|업데이트|등록|승인|발행|송고|오전|오후"
    r"|[월화수목금토일]요일|发布时间|發佈時間|发布日期|发布|更新时间|更新|时间|日期|上午|下午"
    r"|星期[一二三四五六日天]|周[一二三四五六日]"
)
_META_REST_RE = re.compile(r"[\d\s:./\-|·,()\[\]：年月日时分秒点년월일시분+]*")
_DIGIT_RE = re.compile(r"\d")

# These are written in lower case and run on the lower-cased line: long case-insensitive
# alternations are several times slower in ``re``.
_RULES: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("copyright", _COPYRIGHT_ANCHORED_RE, _CAP_ANCHORED),
    ("copyright", _COPYRIGHT_RE, _CAP_CONTAINS),
    ("disclaimer", _DISCLAIMER_RE, _CAP_CONTAINS),
    ("source", _SOURCE_RE, _CAP_ANCHORED),
    ("credit", _CREDIT_ANCHORED_RE, _CAP_CONTAINS),
    ("credit", _CREDIT_MARK_RE, _CAP_ANCHORED),
    ("credit", _CAPTION_END_RE, SHORT),
    ("byline", _BYLINE_RE, _CAP_BYLINE),
    ("social", _SOCIAL_RE, _CAP_SOCIAL),
    ("comment", _COMMENT_RE, _CAP_CONTAINS),
    ("teaser", _TEASER_LINE_RE, _CAP_CONTAINS),
)


def _is_meta(text: str) -> bool:
    """A line of only dates, times and their labels ("입력 2025.10.23 10:15", "Updated ...")."""
    if len(_DIGIT_RE.findall(text)) < 4:
        return False
    rest = _META_CJK_RE.sub(" ", _META_LATIN_RE.sub(" ", text))
    return _META_REST_RE.fullmatch(rest) is not None and len(_DIGIT_RE.findall(rest)) >= 4


def _is_social_tokens(text: str) -> bool:
    """A row of share buttons: "Facebook Twitter LinkedIn Email"."""
    tokens = [t for t in _SOCIAL_SPLIT_RE.split(text.casefold()) if t]
    return bool(tokens) and all(t in _SOCIAL_TOKENS for t in tokens)


def line_rule(text: str) -> str | None:
    """The rule family a line belongs to, or None for a line that may be article text."""
    # Width is at least the length, so a line too long for every cap skips the count.
    width = display_width(text) if len(text) <= _CAP_ANCHORED else len(text)
    if width > _CAP_ANCHORED:
        return None
    if width <= CAP_CHROME and (
        _CHROME_RE.fullmatch(text)
        or _UI_TOKEN_RE.fullmatch(text)
        or (_BREADCRUMB_RE.fullmatch(text) and not terminated(text))
    ):
        return "chrome"
    if width <= 60 and _AGENCY_LINE_RE.fullmatch(text):
        return "credit"
    if width <= _CAP_META and _is_meta(text):
        return "dateline"
    if width <= 100 and _is_social_tokens(text):
        return "social"
    if width <= 90 and _BY_NAME_RE.match(text):
        return "byline"
    lower = text.lower()
    for name, pattern, cap in _RULES:
        if width <= cap and pattern.search(lower):
            return name
    return None


# Rule families that mark a paragraph as page furniture wherever it stands, used by the HTML
# extractor on the edges of trafilatura's output (chrome and datelines are left to trafilatura).
FURNITURE_RULES = frozenset({"copyright", "disclaimer", "source", "credit", "byline", "social",
                             "comment"})  # fmt: skip


def boilerplate_rule(text: str) -> str | None:
    """The rule family of one line or paragraph (e.g. "copyright"), or None for article text."""
    return line_rule(text.strip())


def strip_dateline(text: str) -> tuple[str, str]:
    """Split a leading wire dateline/byline ("(서울=연합뉴스) 김철수 기자 = ") off a paragraph."""
    match = _KO_DATELINE_RE.match(text) or _ZH_BYLINE_PREFIX_RE.match(text)
    if match is None or match.end() == 0:
        return "", text
    return match.group(0).strip(), text[match.end() :].strip()
