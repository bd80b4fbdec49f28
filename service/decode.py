"""Turn fetched bytes into text, defending against wrong or missing charset declarations.

Declarations are a hint, not the truth: many Chinese pages ship GB2312/GBK bytes with no
declaration or a wrong one, so every candidate decoding is checked for plausibility (errors,
mojibake, rare characters) before it is accepted. All scanning is bounded so huge bodies
cannot stall a worker.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import cache

from charset_normalizer import from_bytes

from service import scripts
from service.errors import DecodeError

__all__ = ["Decoded", "decode"]


@dataclass(frozen=True)
class Decoded:
    """Decoded text plus the codec used and why it was chosen (for logs and audits)."""

    text: str
    encoding: str
    reason: str


_META_SCAN_BYTES = 4096
_BINARY_SAMPLE_BYTES = 8192
_DETECT_SAMPLE_BYTES = 65536
_SCORE_MAX_CHARS = 2500
_SCORE_MAX_TEXT = 400_000
_UTF8_TRUST_NON_ASCII = 4
_MIN_MEAN_SCORE = 0.6
_FEW_NON_ASCII = 12

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_MAGIC: tuple[bytes, ...] = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"%PDF-",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"\x28\xb5\x2f\xfd",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\x7fELF",
    b"wOFF",
    b"wOF2",
    b"OggS",
    b"fLaC",
    b"ID3",
    b"\x00\x00\x01\x00",
    b"II*\x00",
    b"MM\x00*",
)

# Bytes that never occur in text (TAB, LF, FF, CR and ESC for ISO-2022 are allowed).
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 27), *range(28, 32)])

_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([a-z0-9][a-z0-9_.:+-]{0,40})""", re.IGNORECASE
)
_XML_ENCODING = re.compile(
    rb"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([a-z0-9][a-z0-9_.:+-]{0,40})""", re.IGNORECASE
)

# Browser (WHATWG) aliases: labels map to the superset codec that browsers actually use.
_ALIASES: dict[str, str] = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "gb_2312": "gb18030",
    "csgb2312": "gb18030",
    "chinese": "gb18030",
    "euc-cn": "gb18030",
    "cp936": "gb18030",
    "windows-936": "gb18030",
    "gb18030": "gb18030",
    "euc-kr": "cp949",
    "euc_kr": "cp949",
    "x-euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601-1989": "cp949",
    "ksc5601": "cp949",
    "ksc_5601": "cp949",
    "korean": "cp949",
    "windows-949": "cp949",
    "uhc": "cp949",
    "cp949": "cp949",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "cn-big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "cp950": "big5hkscs",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "l1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "windows-1252": "cp1252",
    "x-sjis": "shift_jis",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "unicode-1-1-utf-8": "utf-8",
    "utf8": "utf-8",
    "x-mac-roman": "mac-roman",
    "iso-8859-8-i": "iso8859-8",
}

# An ASCII-compatible page cannot really be UTF-16/32: browsers decode such pages as UTF-8.
_WIDE_UNICODE = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")

_ALTERNATIVES = ("utf-8", "gb18030", "cp949", "big5hkscs", "cp1252")

_FREQUENT_HANS = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于"
    "着下自之年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还"
    "进好小部其些主样理心她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情"
    "明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政美相见被利什二等产或"
    "新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员"
    "解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太"
    "量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基"
    "眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北边死张该交"
    "规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济"
    "车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调"
    "深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越"
    "器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历"
    "首医局突专费号尽另周较注语仅考落青随选列武红响虽推势参希古众构房半节土投某案黑维"
    "革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴例防族供效续施留讲型料终答紧"
    "黄绝奇察母京段依批群项故按河米围江织害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值"
)
_FREQUENT_HANT = (
    "的一是不了在人有我他這個們中來上大為和國地到以說時要就出會可也你對生能而子那得於"
    "著下自之年過發後作裡用道行所然家種事成方多經麼去法學如都同現當沒動面起看定天分還"
    "進好小部其些主樣理心她本前開但因只從想實日軍者意無力它與長把機十民第公此已工使情"
    "明性知全三又關點正業外將兩高間由問很最重並物手應戰向頭文體政美相見被利什二等產或"
    "新己制身果加西斯月話合回特代內信表化老給世位次度門任常先海通教兒原東聲提立及比員"
    "解水名真論處走義各入幾口認條平系氣題活爾更別打女變四神總何電數安少報才結反受目太"
    "量再感建務做接必場件計管期市直德資命山金指克許統區保至隊形社便空決治展馬科司五基"
    "眼書非則聽白卻界達光放強即像難且權思王象完設式色路記南品住告類求據程北邊死張該交"
    "規萬取拉格望覺術領共確傳師觀清今切院讓識候帶導爭運笑飛風步改收根干造言聯持組每濟"
    "車親極林服快辦議往元英士證近失轉夫令準布始怎呢存未遠叫台單影具羅字愛擊流備兵連調"
    "深商算質團集百需價花黨華城石級整府離況亞請技際約示復病息究線似官火斷精滿支視消越"
    "器容照須九增研寫稱企八功嗎包片史委乎查輕易早曾除農找裝廣顯吧阿李標談吃圖念六引歷"
    "首醫局突專費號盡另周較注語僅考落青隨選列武紅響雖推勢參希古眾構房半節土投某案黑維"
    "革劃敵致陳律足態護七興派孩驗責營星夠章音跟志底站嚴巴例防族供效續施留講型料終答緊"
    "黃絕奇察母京段依批群項故按河米圍江織害鬥雙境客紀採舉殺攻父蘇密低朝友訴止細願千值"
)
_FREQUENT_HANGUL = (
    "이다의는에을하고가지기로한사서자리도수대인어나제정해들적부일시전상라국그를보아있거것할여게원"
    "주면우무위성회내요된과동말까만장연년구경중니소비신금방세조문실관분야었학저러물당발개통았던계업"
    "결공미선운행마터민남식목며단용영합간법교화명"
)

_WESTERN_LETTERS = frozenset("àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßœÀÁÂÄÇÈÉÊËÍÎÑÓÔÖØÚÜ")
_TEXT_SYMBOLS = frozenset("\u00a0£€©®°·«»‹›–—‘’“”…•¡¿§¶×")
_CP1252_SPECIALS = frozenset("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ")
_MOJIBAKE = re.compile("[ÃÂ][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]|â€|ã\u0080|ï¼|ã€|Ã©|Ã¨")
_NON_ASCII_RUN = re.compile("[^\x00-\x7f]+")
_NON_ASCII_BYTE = re.compile(rb"[\x80-\xff]")
# "<" and "\n" are never trail bytes in GBK, Big5, CP949 or Shift_JIS: safe places to cut.
_SAFE_CUT = re.compile(rb"[<\n]")

_LATIN, _HAN, _HANGUL, _OTHER, _ALPHA = 1, 2, 3, 0, 4
# Rare blocks that misdecoded bytes land in (and the planes from Han extension B up, which
# GB18030's four-byte codes reach).
_RARE_BLOCKS = (
    scripts.HALFWIDTH_KATAKANA,
    scripts.HAN_EXTENSION_A,
    scripts.HAN_COMPATIBILITY,
    scripts.HANGUL_JAMO,
)


def _c1_as_latin1(err: UnicodeError) -> tuple[str, int]:
    """Map the five bytes cp1252 leaves undefined to C1 controls, as browsers do."""
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return "".join(chr(b) for b in err.object[err.start : err.end]), err.end


codecs.register_error("newsingest-c1", _c1_as_latin1)


@cache
def _common_sets() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """Build reference character sets once: frequent Han, common Han, KS X 1001 Hangul."""
    common_han: set[str] = set()
    for lead in range(0xB0, 0xD8):  # GB2312 level 1: the 3755 most common simplified
        for trail in range(0xA1, 0xFF):
            common_han.update(bytes([lead, trail]).decode("gb2312", errors="ignore"))
    for lead in range(0xA4, 0xC7):  # Big5 level 1: the 5401 common traditional
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            common_han.update(bytes([lead, trail]).decode("big5", errors="ignore"))
    ksx_hangul: set[str] = set()
    for lead in range(0xB0, 0xC9):  # KS X 1001: the 2350 Hangul syllables in real use
        for trail in range(0xA1, 0xFF):
            ksx_hangul.update(bytes([lead, trail]).decode("euc_kr", errors="ignore"))
    frequent_han = frozenset(_FREQUENT_HANS + _FREQUENT_HANT)
    return frequent_han, frozenset(common_han), frozenset(ksx_hangul), frozenset(_FREQUENT_HANGUL)


@cache
def _char_info(ch: str) -> tuple[float, int]:
    """Plausibility weight of one non-ASCII character and its class."""
    frequent_han, common_han, ksx_hangul, frequent_hangul = _common_sets()
    o = ord(ch)
    if ch == "\ufffd":
        return -20.0, _OTHER
    if o < 0xA0:
        return -6.0, _OTHER
    if o < 0x250 or ch in _CP1252_SPECIALS:
        if ch in _WESTERN_LETTERS or ch in _TEXT_SYMBOLS:
            return 0.5, _LATIN
        return (0.2 if ch.isalpha() else 0.1), _LATIN
    if o in scripts.HAN_UNIFIED:
        if ch in frequent_han:
            return 2.0, _HAN
        return (0.5 if ch in common_han else -0.5), _HAN
    if o in scripts.HANGUL_SYLLABLES:
        if ch in frequent_hangul:
            return 2.0, _HANGUL
        return (1.0 if ch in ksx_hangul else -1.0), _HANGUL
    if o in scripts.HIRAGANA_KATAKANA:
        return 1.5, _OTHER
    if 0x3000 <= o <= 0x303F or 0xFF01 <= o <= 0xFF5E or 0xFFE0 <= o <= 0xFFEE:
        return 0.5, _OTHER
    if 0x2000 <= o <= 0x206F:
        return 0.3, _OTHER
    if 0x0370 <= o <= 0x10FF:  # Greek, Cyrillic, Hebrew, Arabic, Indic, Thai, ...
        return 0.6, _ALPHA
    if 0xE000 <= o <= 0xF8FF:  # private use: GB18030/Big5 user-defined areas
        return -4.0, _OTHER
    if any(o in block for block in _RARE_BLOCKS) or o >= scripts.HAN_SUPPLEMENTARY.start:
        return -1.0, _OTHER
    return 0.0, _OTHER


def _score(text: str) -> tuple[float, int]:
    """Sum plausibility over a bounded sample; returns (score, non-ASCII chars seen)."""
    sample = text[:_SCORE_MAX_TEXT]
    total = 0.0
    seen = han = hangul = 0
    for match in _NON_ASCII_RUN.finditer(sample):
        run = match.group()
        latin_len = alpha_len = run_han = 0
        for ch in run:
            weight, kind = _char_info(ch)
            total += weight
            if kind == _LATIN:
                latin_len += 1
                continue
            total += _latin_run_penalty(latin_len)
            latin_len = 0
            if kind == _ALPHA:
                alpha_len += 1
            elif kind == _HAN:
                run_han += 1
            elif kind == _HANGUL:
                hangul += 1
        total += _latin_run_penalty(latin_len)
        if alpha_len > 20:  # no alphabet has words this long: Chinese bytes as a code page
            total -= alpha_len
        elif alpha_len == 1 and len(run) == 1:
            total -= 0.5
        han += run_han
        end = match.end()
        spaced = (
            sample[end : end + 1] == " " and end + 1 < len(sample) and sample[end + 1] >= "\x80"
        )
        if spaced and run_han * 2 > len(run):  # Chinese does not put spaces between words
            total -= 1.5
        seen += len(run)
        if seen >= _SCORE_MAX_CHARS:
            break
    if han and hangul:  # Korean uses little Hanja; a Han/Hangul mix is misdecoded Chinese
        total -= 1.5 * min(han, hangul)
    total -= 4.0 * len(_MOJIBAKE.findall(sample, 0, min(len(sample), 4 * _SCORE_MAX_CHARS)))
    return total, seen


def _latin_run_penalty(length: int) -> float:
    """Accented letters come alone; long runs of Latin-1 symbols are mojibake."""
    if length <= 1:
        return 0.0
    if length == 2:
        return -1.0
    return -2.5 * length


def _normalise(label: str | None) -> str | None:
    """Map a charset label to the Python codec browsers would use, or None if unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError):  # ValueError: a label with a NUL in it
        return None
    codec = _ALIASES.get(codec, codec)
    if codec in _WIDE_UNICODE:
        return "utf-8"
    return codec


def _display(codec: str) -> str:
    """Name the codec the way HTTP and HTML do for the Windows code pages."""
    if re.fullmatch(r"cp125\d", codec):
        return "windows-" + codec[2:]
    return codec


def _bom(body: bytes) -> tuple[str, int] | None:
    for mark, codec in _BOMS:
        if body.startswith(mark):
            return codec, len(mark)
    return None


def _looks_binary(body: bytes) -> bool:
    """Magic numbers, NUL bytes or control characters mean this is not text."""
    if body.startswith(_MAGIC) or body[4:12] in (b"ftypisom", b"ftypmp42", b"ftypavif"):
        return True
    if body.startswith(b"RIFF") and body[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return True
    sample = body[:_BINARY_SAMPLE_BYTES]
    nuls = sample.count(0)
    if nuls > max(1, len(sample) // 100):
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > max(2, len(sample) // 20)


def _declared_in_markup(body: bytes) -> str | None:
    head = body[:_META_SCAN_BYTES]
    match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return match.group(1).decode("ascii") if match else None


def _decode_with(data: bytes, codec: str) -> tuple[str, int]:
    """Decode, never failing; returns the text and how many bytes had to be replaced."""
    handler = "newsingest-c1" if codec == "cp1252" else "replace"
    try:
        text, errors = data.decode(codec), 0
    except UnicodeDecodeError:
        text = data.decode(codec, errors=handler)
        errors = text.count("\ufffd")
    if codec == "gb18030":  # browsers decode 0xA3A0 as an ideographic space, Python as PUA
        text = text.replace("\ue5e5", "\u3000")
    return text, errors


def _count_non_ascii(body: bytes, limit: int) -> int:
    """Count non-ASCII bytes, stopping at limit so huge bodies cost nothing extra."""
    seen = 0
    for _ in _NON_ASCII_BYTE.finditer(body):
        seen += 1
        if seen >= limit:
            break
    return seen


def _window(body: bytes) -> bytes:
    """A bounded slice around the first non-ASCII byte, cut where no codec splits a char."""
    first = _NON_ASCII_BYTE.search(body)
    if first is None:
        return body[:_DETECT_SAMPLE_BYTES]
    start = max(body.rfind(b"<", 0, first.start()), body.rfind(b"\n", 0, first.start()), 0)
    end = start + _DETECT_SAMPLE_BYTES // 4
    if end >= len(body):
        return body[start:]
    cut = max(body.rfind(b"<", start, end), body.rfind(b"\n", start, end))
    return body[start : cut if cut > start else end]


def _detected(window: bytes) -> str | None:
    best = from_bytes(window).best()
    return _normalise(best.encoding) if best is not None else None


def _best_candidate(
    body: bytes, declared: str | None, window: bytes, *, use_detector: bool
) -> tuple[str, str]:
    """Score every plausible codec on the same bytes and keep the most plausible one."""
    candidates = list(_ALTERNATIVES)
    if declared and declared not in candidates:
        candidates.append(declared)
    detected = _detected(window) if use_detector else None
    if detected and detected not in candidates:
        candidates.append(detected)
    best_codec, best_score = "utf-8", float("-inf")
    for codec in candidates:
        try:
            text, window_errors = _decode_with(window, codec)
        except LookupError:
            continue
        score, _ = _score(text)
        # Bytes outside the window count too: a codec that breaks on them is wrong.
        score -= 20.0 * max(0, _decode_with(body, codec)[1] - window_errors)
        if codec == declared:
            score += 2.0
        if codec == "cp1252":  # the web's de-facto default for undeclared Latin pages
            score += 1.5
        if codec == detected:
            score += 1.0
        if score > best_score:
            best_codec, best_score = codec, score
    origin = "detected" if best_codec != declared else "declared"
    return best_codec, origin


def _finish(text: str, codec: str, reason: str) -> Decoded:
    if not text.strip():
        raise DecodeError("the body holds only whitespace", reason="empty_body")
    return Decoded(text=text, encoding=_display(codec), reason=reason)


def decode(body: bytes, http_charset: str | None = None, *, is_html: bool = True) -> Decoded:
    """Decode a fetched body: BOM, then declarations, each checked, then detection.

    Raises DecodeError(reason="empty_body") for empty or blank bodies and
    DecodeError(reason="binary_body") for bytes that are not text at all.
    """
    if not body.strip():
        raise DecodeError("the body is empty", reason="empty_body")
    bom = _bom(body)
    if bom is not None:
        codec, skip = bom
        return _finish(body[skip:].decode(codec, errors="replace"), codec, "bom")
    if _looks_binary(body):
        raise DecodeError(
            "the body is binary (magic number or control bytes), not text", reason="binary_body"
        )
    label, source = http_charset, "http-charset"
    declared = _normalise(label)
    if declared is None and is_html:
        label, source = _declared_in_markup(body), "meta-charset"
        declared = _normalise(label)
    label = (label or "").strip().lower()
    try:
        utf8: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    if utf8 is not None:
        if body.isascii():
            if declared is None:
                return _finish(utf8, "utf-8", "default")
            return _finish(utf8, declared if _is_ascii_compatible(declared) else "utf-8", source)
        if declared is None:
            return _finish(utf8, "utf-8", "detected")
        if declared == "utf-8":
            return _finish(utf8, "utf-8", source)
        if _count_non_ascii(body, _UTF8_TRUST_NON_ASCII) >= _UTF8_TRUST_NON_ASCII:
            return _finish(utf8, "utf-8", f"detected (declared {label} rejected: valid UTF-8)")
    window = _window(body)
    why = "undeclared"
    if declared is not None:
        text, errors = _decode_with(body, declared)
        if errors == 0:
            score, seen = _score(_decode_with(window, declared)[0])
            if seen < _FEW_NON_ASCII or score >= _MIN_MEAN_SCORE * seen:
                return _finish(text, declared, source)
            why = f"implausible text, score {score / seen:.2f}/char"
        else:
            why = f"{errors} replacement chars"
    codec, origin = _best_candidate(body, declared, window, use_detector=utf8 is None)
    if origin == "declared" and declared is not None:
        return _finish(_decode_with(body, codec)[0], codec, source)
    text = utf8 if codec == "utf-8" and utf8 is not None else _decode_with(body, codec)[0]
    reason = "detected" if declared is None else f"detected (declared {label} rejected: {why})"
    return _finish(text, codec, reason)


def _is_ascii_compatible(codec: str) -> bool:
    try:
        return b"<a>".decode(codec) == "<a>"
    except (UnicodeDecodeError, LookupError):
        return False
