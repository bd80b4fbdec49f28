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
from service._charsets import (
    ALTERNATIVES,
    BOMS,
    CONTROL_BYTES,
    CP1252_SPECIALS,
    FREQUENT_HANGUL,
    FREQUENT_HANS,
    FREQUENT_HANT,
    MAGIC,
    TEXT_SYMBOLS,
    WESTERN_LETTERS,
    codec_for,
)
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
# Invalid UTF-8 declared as UTF-8 stays UTF-8 (with replacement characters) when at least this
# many characters decode validly per invalid sequence: a few bad bytes in a UTF-8 page, not
# another charset mislabelled (GBK bytes read as UTF-8 give more errors than valid characters).
_UTF8_VALID_PER_ERROR = 4

_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([a-z0-9][a-z0-9_.:+-]{0,40})""", re.IGNORECASE
)
_XML_ENCODING = re.compile(
    rb"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([a-z0-9][a-z0-9_.:+-]{0,40})""", re.IGNORECASE
)
_MOJIBAKE = re.compile("[ÃÂ][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]|â€|ã\u0080|ï¼|ã€|Ã©|Ã¨")
_NON_ASCII_RUN = re.compile("[^\x00-\x7f]+")
_NON_ASCII_BYTE = re.compile(rb"[\x80-\xff]")

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
    frequent_han = frozenset(FREQUENT_HANS + FREQUENT_HANT)
    return frequent_han, frozenset(common_han), frozenset(ksx_hangul), frozenset(FREQUENT_HANGUL)


@cache
def _char_info(ch: str) -> tuple[float, int]:
    """Plausibility weight of one non-ASCII character and its class."""
    frequent_han, common_han, ksx_hangul, frequent_hangul = _common_sets()
    o = ord(ch)
    if ch == "\ufffd":
        return -20.0, _OTHER
    if o < 0xA0:
        return -6.0, _OTHER
    if o < 0x250 or ch in CP1252_SPECIALS:
        if ch in WESTERN_LETTERS or ch in TEXT_SYMBOLS:
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


def _display(codec: str) -> str:
    """Name the codec the way HTTP and HTML do for the Windows code pages."""
    if re.fullmatch(r"cp125\d", codec):
        return "windows-" + codec[2:]
    return codec


def _bom(body: bytes) -> tuple[str, int] | None:
    for mark, codec in BOMS:
        if body.startswith(mark):
            return codec, len(mark)
    return None


def _looks_binary(body: bytes) -> bool:
    """Magic numbers, NUL bytes or control characters mean this is not text."""
    if body.startswith(MAGIC) or body[4:12] in (b"ftypisom", b"ftypmp42", b"ftypavif"):
        return True
    if body.startswith(b"RIFF") and body[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return True
    sample = body[:_BINARY_SAMPLE_BYTES]
    nuls = sample.count(0)
    if nuls > max(1, len(sample) // 100):
        return True
    controls = len(sample) - len(sample.translate(None, CONTROL_BYTES))
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
    return codec_for(best.encoding) if best is not None else None


def _best_candidate(
    body: bytes, declared: str | None, window: bytes, *, use_detector: bool
) -> tuple[str, str]:
    """Score every plausible codec on the same bytes and keep the most plausible one."""
    candidates = list(ALTERNATIVES)
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
    declared = codec_for(label)
    if declared is None and is_html:
        label, source = _declared_in_markup(body), "meta-charset"
        declared = codec_for(label)
    label = (label or "").strip().lower()
    try:
        utf8: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    if utf8 is not None:
        if body.isascii():
            return _ascii(body, utf8, declared, label, source)
        if declared is None:
            return _finish(utf8, "utf-8", "detected")
        if declared == "utf-8":
            return _finish(utf8, "utf-8", source)
        if _count_non_ascii(body, _UTF8_TRUST_NON_ASCII) >= _UTF8_TRUST_NON_ASCII:
            return _finish(utf8, "utf-8", f"detected (declared {label} rejected: valid UTF-8)")
    if declared is None and utf8 is None:
        text, errors = _decode_with(body, "utf-8")
        if _mostly_utf8(text, errors):
            return _finish(text, "utf-8", "detected")
    window = _window(body)
    why = "undeclared"
    if declared is not None:
        text, errors = _decode_with(body, declared)
        if errors == 0:
            score, seen = _score(_decode_with(window, declared)[0])
            if seen < _FEW_NON_ASCII or score >= _MIN_MEAN_SCORE * seen:
                return _finish(text, declared, source)
            why = f"implausible text, score {score / seen:.2f}/char"
        elif declared == "utf-8" and _mostly_utf8(text, errors):
            return _finish(text, declared, source)
        else:
            why = f"{errors} replacement chars"
    codec, origin = _best_candidate(body, declared, window, use_detector=utf8 is None)
    if origin == "declared" and declared is not None:
        return _finish(_decode_with(body, codec)[0], codec, source)
    text = utf8 if codec == "utf-8" and utf8 is not None else _decode_with(body, codec)[0]
    reason = "detected" if declared is None else f"detected (declared {label} rejected: {why})"
    return _finish(text, codec, reason)


def _ascii(body: bytes, utf8: str, declared: str | None, label: str, source: str) -> Decoded:
    """A 7-bit body: decoded with the declared codec (the same text for ASCII-based codecs,
    not for ISO-2022 or HZ), so the codec recorded is the one used."""
    if declared is None or declared == "utf-8":
        return _finish(utf8, "utf-8", "default" if declared is None else source)
    if not _is_ascii_compatible(declared):
        why = "not ASCII-compatible"
    else:
        text, errors = _decode_with(body, declared)
        if errors == 0:
            return _finish(text, declared, source)
        why = f"{errors} replacement chars"
    return _finish(utf8, "utf-8", f"detected (declared {label} rejected: {why})")


def _mostly_utf8(text: str, errors: int) -> bool:
    """A UTF-8 page with a few bad bytes: many more valid non-ASCII characters than errors."""
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return non_ascii - errors >= _UTF8_VALID_PER_ERROR * errors


def _is_ascii_compatible(codec: str) -> bool:
    try:
        return b"<a>".decode(codec) == "<a>"
    except (UnicodeError, LookupError):
        return False
