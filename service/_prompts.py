"""What a short block of page text is when it is not the article: a paywall gate or a
subscription offer, a newsletter or donation prompt, a teaser label ("Related stories",
"相关阅读", "관련기사"), a feed footer.

The vocabulary is the general vocabulary of these prompts in English, Chinese and Korean,
never one site's sentence. A paywall gate needs two things at once, an account word
(subscribe, log in, 订阅, 登录, 구독, 로그인, ...) and a phrase about the rest of this text
(continue reading, the full story, 全文, 剩余, 전문, 나머지, ...), so a news sentence about
subscribers is not one; an English prompt must also address the reader (you, please, an
imperative, "this article"). A gate says the text stops there; an offer ("get unlimited
access") sits on free pages too and says nothing about this one. Newsletter and donation
prompts must address the reader or name the publication's own work ("our newsletter",
"support independent journalism"): "You can donate to the fund at ..." in a story about a
fund is not one. Only short blocks are judged (``MAX_PROMPT_WEIGHT``): a long paragraph that
mentions subscribing is prose.

Every pattern is bounded (no nested repeats, gaps capped) and runs on short strings only.
"""

from __future__ import annotations

import re
from typing import Final

from .scripts import WIDE, text_weight

__all__ = [
    "DONATION",
    "FEED",
    "MAX_PROMPT_WEIGHT",
    "NEWSLETTER",
    "PAYWALL",
    "SUBSCRIPTION",
    "TEASER",
    "is_teaser_label",
    "prompt_kind",
]

PAYWALL: Final = "paywall"
SUBSCRIPTION: Final = "subscription"
NEWSLETTER: Final = "newsletter"
DONATION: Final = "donation"
TEASER: Final = "teaser"
FEED: Final = "feed"

# Text weight (CJK x3) of the longest block judged: about 70 English words or 130 CJK
# characters. Prompts are a sentence or two.
MAX_PROMPT_WEIGHT: Final = 420
# A label alone is at most this many characters.
_LABEL_CHARS = 80
# A label followed by one headline ("Related: Ten things ...") stays under this.
_MAX_LABELLED_WEIGHT = 240

_I = re.IGNORECASE

# --- paywall gates and subscription offers -----------------------------------------------
# A gate stands where the article stops: an account word and a phrase about the rest of
# this text ("to continue reading, subscribe"). An offer sells access in general ("get
# unlimited access") and sits on free pages too: it is dropped, but says nothing of access.
_ACCOUNT_EN = (
    r"(?:\bsubscri(?:be|bed|bing|ption|ptions|ber|bers)\b|\blog\s?-?in\b|\bsign\s?-?in\b"
    r"|\bregist(?:er|ration|ered)\b|\bcreate\s+an?\s+(?:free\s+)?account\b|\bpremium\b"
    r"|\bpaid\b|\bmembers?(?:hip)?\b)"
)
_REST_EN = (
    r"(?:\b(?:continue|keep)\s+reading\b|\bread\s+(?:the\s+)?(?:full|whole|entire|rest)\b"
    r"|\b(?:view|see|access|unlock|read|get)\s+(?:the\s+|this\s+)?(?:full|whole|entire|complete"
    r"|rest\s+of)\s+(?:the\s+|this\s+)?(?:story|article|text|post|piece|report|content)\b"
    r"|\bfull\s+(?:story|article|text)\b|\b(?:article|story)\s+limit\b"
    r"|\bto\s+(?:read|view|access|unlock|finish)\s+(?:this|the)\s+(?:story|article|post|piece"
    r"|content|report)\b)"
)
_GATE_EN_RE = re.compile(
    rf"{_ACCOUNT_EN}.{{0,80}}?{_REST_EN}|{_REST_EN}.{{0,80}}?{_ACCOUNT_EN}"
    r"|\bpreview\s+of\s+subscription\s+content\b"
    r"|\bthis\s+(?:article|story|content|post|piece|report)\s+is\s+(?:only\s+)?(?:for|available"
    r"|reserved|exclusive)\b.{0,40}?\b(?:subscribers|members|premium|paying)\b"
    r"|\b(?:reached|used\s+up|read)\s+(?:your|all\s+(?:of\s+)?your)\s+(?:\d+\s+)?(?:free\s+)?"
    r"(?:articles?|stories)\b",
    _I,
)
_OFFER_EN_RE = re.compile(
    rf"{_ACCOUNT_EN}.{{0,80}}?\b(?:unlimited|full\s+access|free\s+(?:articles?|stories|trial))\b"
    r"|\balready\s+(?:a|an)\s+(?:subscriber|member|registered\s+user)\b"
    r"|\b(?:subscribers?|members?)[-\s]only\b|\b(?:exclusive(?:ly)?|only)\s+(?:to|for)\s+"
    r"(?:subscribers|members|premium)\b|\bunlimited\s+(?:digital\s+)?access\b"
    r"|\bfree\s+(?:articles?|stories)\s+(?:left|remaining)\b|\b(?:articles?|stories)\s+"
    r"(?:left|remaining)\s+(?:this|per)\s+(?:month|week)\b",
    _I,
)
# English prompts address the reader; a news sentence about subscribers does not.
_READER_CUE_RE = re.compile(
    r"\b(?:you|your|you'(?:ve|re|ll)|please|now|today|already|here)\b|\?"
    r"|\bthis\s+(?:article|story|content|post|page|feature|piece)\b"
    r"|^\W*(?:subscribe|sign|log|register|create|get|join|read|continue|keep|unlock|start|try"
    r"|become|to\s+(?:view|read|continue|access|unlock|see|keep|finish))\b",
    _I,
)
# Chinese and Korean: an account action next to a phrase about the rest of the text.
_ACCOUNT_CJK = (
    r"(?:订阅|訂閱|付费|付費|登录|登錄|注册|註冊|购买|購買|充值|开通|開通|VIP|(?:成为|成為|加入)(?:会员|會員)"
    r"|구독|로그인|결제|유료\s?회원)"
)
_REST_CJK = (
    r"(?:(?:阅读|閱讀|查看|解锁|解鎖|可见|可見|继续阅读|繼續閱讀)全文|全文(?:阅读|閱讀|查看)"
    r"|继续(?:阅读|查看)|繼續(?:閱讀|查看)|剩余|剩餘|未读|未讀|(?:阅读|閱讀|查看)完整"
    r"|完整(?:内容|內容)|后(?:阅读|查看|可见)|後(?:閱讀|查看|可見)"
    r"|전문|전체\s?기사|기사\s?전체|계속\s?읽|이어\s?(?:보|읽)|나머지|잠금|열람|읽으실\s?수|후\s?(?:보기|읽))"
)
_GATE_CJK_RE = re.compile(
    rf"{_ACCOUNT_CJK}.{{0,40}}?{_REST_CJK}|{_REST_CJK}.{{0,40}}?{_ACCOUNT_CJK}"
    r"|付费(?:内容|文章|阅读)|付費(?:內容|文章|閱讀)"
    r"|유료\s?회원\s?전용|유료\s?(?:기사|콘텐츠)(?:입니다|이므로|로\s)",
    _I,
)
_OFFER_CJK_RE = re.compile(
    r"(?:会员|會員)(?:专享|專享|专属|專屬|独享|獨享)|회원\s?전용|구독자\s?전용"
    r"|(?:登录|登錄|로그인)\s?(?:后|後|한\s?후|후)\s?(?:使用|可用|이용|확인)",
    _I,
)


# --- newsletter and other follow prompts -------------------------------------------------
_NEWSLETTER_RE = re.compile(
    r"\b(?:sign\s?-?up|subscribe|join|get|receive|register)\b.{0,60}?\bnewsletters?\b"
    r"|\bnewsletters?\b.{0,60}?\b(?:sign\s?-?up|subscribe|inbox|e-?mail\s+address)\b"
    r"|\b(?:our|free|daily|weekly)\s+(?:\w+\s+)?newsletters?\b"
    r"|\b(?:delivered|sent|straight|direct(?:ly)?)\s+(?:right\s+|straight\s+|directly\s+)?to\s+"
    r"your\s+inbox\b|\bin\s+your\s+inbox\b|\benter\s+your\s+e-?mail\b"
    r"|\bsubscribe\s+to\s+(?:our|the)\s+(?:\w+\s+){0,2}(?:channel|podcast|feed|list)\b"
    r"|\bsign\s?-?up\s+(?:for|to)\s+(?:our|the|free)\b"
    r"|订阅(?:我们的|本站|邮件|电子报|简报|推送)|訂閱(?:我們的|本站|郵件|電子報|推送)"
    r"|(?:邮件|郵件|电子|電子)(?:订阅|訂閱)|关注(?:我们的?|本站)?(?:官方)?(?:微信|公众号|微博|头条号)"
    r"|關注(?:我們的?|本站)?(?:官方)?(?:微信|公眾號|微博)"
    r"|扫(?:一扫|码|描二维码)(?:关注|订阅)|掃(?:一掃|碼|描二維碼)(?:關注|訂閱)"
    r"|뉴스레터|구독\s?신청|구독하기|구독\s?버튼|메일로\s?받아\s?보|채널\s?추가|알림\s?(?:신청|받기)"
    r"|^\W*subscribe\s+(?:to|now|today|for|here|via)\b|\bunsubscribe\s+at\s+any\s+time\b"
    r"|\bjoin\s+[\d,]+\s+(?:other\s+)?(?:subscribers|readers)\b"
    r"|\bsign\s?-?up\s+for\s+(?:\w+\s+){0,2}(?:e-?mails?|alerts|updates)\b"
    r"|(?:订阅|訂閱)(?:此|本)(?:blog|博客|部落格)|(?:免费|免費|短信|简讯|簡訊)(?:订阅|訂閱)",
    _I,
)
# A block that is nothing but subscription chrome: "Subscribe", "CNN Newsletters", "구독+".
_SUBSCRIBE_ONLY_RE = re.compile(
    r"\W*(?:[\w'&.-]+\s+){0,3}(?:e-?mail\s+)?newsletters?(?:\s+sign\s?-?up)?\W*"
    r"|\W*(?:subscribe|subscriptions?|sign\s?-?up)(?:\s+(?:now|today|here))?\W*"
    r"|\W*(?:免费|免費|短信|邮件|郵件|RSS)?(?:订阅|訂閱)\W*|\W*구독\s?(?:하기|안내|신청)?\W*",
    _I,
)

# --- donation and membership asks that name the publication's own work ---------------------
_DONATION_RE = re.compile(
    r"\bsupport\s+(?:our|us|independent|quality|local|public[-\s]service|nonprofit|non-profit"
    r"|this)\s+(?:\w+\s+)?(?:journalism|reporting|newsroom|work|site|website|blog|mission)\b"
    r"|\bdonat(?:e|ion|ions|ing)\b.{0,40}?\b(?:(?-i:us)|our|this\s+(?:site|website|blog|podcast))\b"
    r"|\b(?:(?-i:us)|our)\b.{0,40}?\bdonat(?:e|ion|ions|ing)\b"
    r"|\b(?:become|join)\s+(?:a|as\s+a|our)\s+(?:\w+\s+)?(?:member|patron|supporter|friend)s?\b"
    r"|\bmake\s+a\s+(?:\w+\s+)?(?:contribution|donation|gift)\s+(?:to\s+(?:us|our)|today|now)\b"
    r"|\byour\s+(?:support|contribution|donation|gift)\s+(?:\w+\s+){0,3}(?:helps|makes|keeps|allows"
    r"|enables|means|matters)\b|\bpatreon\b|\bbuy\s+(?:me|us)\s+a\s+coffee\b|\bchip\s+in\b"
    r"|打赏|打賞|赞赏(?:作者|一下|支持|码|二维码)|讚賞(?:作者|一下|支持)|请(?:作者|我)喝|請(?:作者|我)喝"
    r"|(?:给|為|为)作者(?:充电|打气)"
    r"|(?:기사|언론|저널리즘|독립\s?언론)\s?후원|후원하기|후원\s?회원|후원\s?계좌|후원\s?해\s?주|응원하기"
    r"|자발적\s?구독|^\W*(?:support\s+us|donate(?:\s+(?:now|today|here))?)\W*$",
    _I,
)

# --- teaser labels: the whole block, or the label, a colon and one headline --------------
_EN_LABEL = (
    r"related(?:\s+(?:stories|articles|content|posts|coverage|news|reading|links|topics|videos))?"
    r"|read\s+(?:more|next|also)|also\s+read|see\s+also|more\s+like\s+this"
    r"|more\s+(?:stories|news|articles|coverage|headlines|videos|to\s+read)"
    r"(?:\s+(?:like\s+this(?:\s+one)?|(?:from|on|about|in)\s+[^:\n]{1,40}))?"
    r"|more\s+(?:from|on|in)\s+[^:\n]{1,40}"
    r"|recommended(?:\s+(?:for\s+you|stories|reading|articles|videos|posts))?"
    r"|you\s+(?:may|might)\s+(?:also\s+)?(?:like|enjoy|be\s+interested(?:\s+in)?|have\s+missed)"
    r"|further\s+reading|most\s+(?:read|popular|viewed|shared|emailed|commented)(?:\s+\w+)?"
    r"|trending(?:\s+(?:now|stories|news|articles))?|top\s+(?:stories|news|headlines)"
    r"|popular\s+(?:stories|posts|articles|now|news)|editor'?s'?\s+picks?"
    r"|what\s+to\s+read\s+next|up\s+next|watch\s+next|don'?t\s+miss|in\s+case\s+you\s+missed\s+it"
    r"|around\s+the\s+web|(?:sponsored|promoted|partner)\s+(?:stories|links|content|posts)"
    r"|(?:latest|recent)\s+(?:news|stories|articles|posts|headlines)|keep\s+reading"
    r"|continue\s+reading|read\s+this\s+next|next\s+up|more\s+to\s+(?:explore|read)"
    r"|(?:also|elsewhere)\s+on\s+[^:\n]{1,30}"
    r"|read\s+(?:the\s+)?(?:full|whole|original)\s+(?:story|article|post)"
)
_ZH_LABEL = (
    r"相关(?:阅读|文章|新闻|报道|推荐|内容|专题|链接|资讯|热门文章|视频|图集|话题)"
    r"|相關(?:閱讀|文章|新聞|報導|報道|推薦|內容|專題|連結|鏈接|資訊|影片)"
    r"|延伸阅读|延伸閱讀|推荐(?:阅读|文章|新闻|内容|视频)|推薦(?:閱讀|文章|新聞|內容|影片)"
    r"|热门(?:推荐|文章|新闻|阅读|资讯)|熱門(?:推薦|文章|新聞|閱讀|資訊)"
    r"|更多(?:精彩|新闻|新聞|阅读|閱讀|内容|內容|文章|推荐|推薦|资讯|資訊|相关|相關)(?:内容|內容)?"
    r"|猜你喜欢|猜你喜歡|你(?:可能)?(?:也)?(?:会|會)?(?:喜欢|喜歡|感兴趣|感興趣)"
    r"|大家都在看|热点推荐|熱點推薦|精彩推荐|精彩推薦|编辑推荐|編輯推薦|阅读排行|閱讀排行|点击排行|點擊排行"
    r"|今日推荐|今日推薦|查看更多|加载更多|載入更多|往期(?:回顾|回顧|推荐|推薦|精彩)|阅读原文|閱讀原文"
    r"|(?:最新|近期)(?:文章|资讯|資訊|新闻|新聞)|热门标签|熱門標籤"
    r"|点击(?:查看|阅读)(?:更多|全文)|點擊(?:查看|閱讀)(?:更多|全文)|(?:展开|展開|余下|餘下|阅读|閱讀|查看)全文"
    r"|相关(?:事件|搜索|评论)|排行榜|\S{0,6}推[荐薦]"
)
_KO_LABEL = (
    r"관련\s?(?:기사|뉴스|글|콘텐츠|포스트|영상|링크)"
    r"|함께\s?(?:보면\s?좋은|볼만한|읽으면\s?좋은|읽을\s?만한)(?:\s?(?:기사|뉴스|글))?"
    r"|추천\s?(?:기사|뉴스|콘텐츠|영상)|많이\s?(?:본|읽은|보는)(?:\s?(?:기사|뉴스|칼럼|포토|영상))?"
    r"|(?:이\s?기사와\s?)?관련된\s?(?:기사|뉴스)"
    r"|인기\s?(?:기사|뉴스|포스트)|이\s?시각\s?(?:주요|인기|추천)?\s?뉴스|더\s?보기|다른\s?기사"
    r"|주요\s?뉴스|최신\s?(?:기사|뉴스)|실시간\s?(?:인기|주요)?\s?(?:뉴스|기사)"
    r"|(?:이\s?)?기자의\s?(?:다른\s?)?기사|기사\s?더\s?보기|오늘의\s?(?:주요|인기)?\s?뉴스"
    r"|최근\s?(?:기사|뉴스|글)|포토\s?뉴스|핫\s?이슈"
)
_LABEL = rf"(?:{_EN_LABEL}|{_ZH_LABEL}|{_KO_LABEL})"
# Bullets, brackets and arrows that decorate a label.
_DECOR = r"[\s\[\](){}【】〔〕《》<>«»|•·▶►▸→>…*#\-:：.!。■□◆◇●○★☆+]*"
# A section word may precede a label: "정치 많이 본 뉴스", "APP精彩推荐".
_LABEL_ONLY_RE = re.compile(
    rf"{_DECOR}(?:(?:[{WIDE}]{{1,6}}|(?-i:[A-Z0-9]{{2,6}}))\s?)?{_LABEL}{_DECOR}", _I
)
_LABELLED_RE = re.compile(rf"[\s\[(【]*(?:{_LABEL})\s*[:：|»>→]", _I)

# WordPress and other feeds end each item with this footer.
_FEED_RE = re.compile(r"\bthe\s+post\s+.{1,300}?\s+appeared\s+first\s+on\s+", _I)


def is_teaser_label(text: str) -> bool:
    """A block that is only a teaser label: "Related stories", "相关阅读：", "관련기사"."""
    return len(text) <= _LABEL_CHARS and _LABEL_ONLY_RE.fullmatch(text.strip()) is not None


# Words one of the prompt rules needs: a block without any is no prompt (most are not). Plain
# substring tests: a regex alternation of them costs a hundred times more per block.
_ASCII_STEMS = (
    "subscri", "log", "sign", "regist", "account", "premium", "paid", "member", "newsletter",
    "inbox", "mail", "donat", "support", "patreon", "coffee", "chip in", "contribut",
    "appeared first", "unlimited", "left", "remaining", "limit", "free", "vip",
)  # fmt: skip
_WIDE_STEMS = (
    "订阅", "訂閱", "付费", "付費", "登录", "登錄", "注册", "註冊", "购买", "購買",
    "充值", "开通", "開通", "会员", "會員", "关注", "關注", "扫", "掃", "邮件", "郵件",
    "电子", "電子", "打赏", "打賞", "赞赏", "讚賞", "请", "請", "作者", "短信", "简讯",
    "簡訊", "全文", "剩余", "剩餘", "未读", "未讀", "구독", "로그인", "결제", "유료",
    "회원", "뉴스레터", "알림", "채널", "메일", "후원", "응원", "전문", "기사",
)  # fmt: skip


def _has_keyword(text: str) -> bool:
    lower = text.lower()
    if any(stem in lower for stem in _ASCII_STEMS):
        return True
    return not text.isascii() and any(stem in text for stem in _WIDE_STEMS)


def prompt_kind(text: str) -> str | None:
    """The kind of prompt or label a short block is (:data:`PAYWALL`, ...), or None."""
    text = text.strip()
    if not text or len(text) > MAX_PROMPT_WEIGHT:  # a weight is never below the length
        return None
    weight = text_weight(text)
    if weight > MAX_PROMPT_WEIGHT:
        return None
    keyed = _has_keyword(text)
    if keyed:
        cue = _READER_CUE_RE.search(text) is not None
        if _GATE_CJK_RE.search(text) or (cue and _GATE_EN_RE.search(text)):
            return PAYWALL
        if _OFFER_CJK_RE.search(text) or (cue and _OFFER_EN_RE.search(text)):
            return SUBSCRIPTION
    if is_teaser_label(text):
        return TEASER
    if weight <= _MAX_LABELLED_WEIGHT and _LABELLED_RE.match(text):
        return TEASER
    if not keyed:
        return None
    if _SUBSCRIBE_ONLY_RE.fullmatch(text):
        return SUBSCRIPTION
    if _NEWSLETTER_RE.search(text):
        return NEWSLETTER
    if _DONATION_RE.search(text):
        return DONATION
    return FEED if _FEED_RE.search(text) else None
