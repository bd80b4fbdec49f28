"""Protected spans: what a zh/ko sentence carries that the translation must carry unchanged.

Latin-script names and codes, numbers with their units, URLs, e-mail addresses, hashtags
and glossary terms are found in the source sentence (:func:`find_spans`), each with the
English it must come out as: itself for most, the value in English for a number with a
Chinese or Korean magnitude (``6.4万`` -> ``64,000``, ``220亿`` -> ``22 billion``), the
deployment's term for a glossary entry.

The engine translates the sentence as it is first and checks the output (:func:`missing`).
Only a sentence that lost a span is translated again with the lost spans masked
(:func:`mask`): a Latin-like span becomes a placeholder the model copies (``#1``), a number
becomes a two-digit *surrogate* number of its own (``3个小时`` -> ``47个小时``), which the
model treats as the number it is (plural, ordinal, ``岁``), and :func:`unmask` puts the
spans back. docs/choices.md (#16) has the measurements behind each choice.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

_L = "A-Za-zÀ-ÖØ-öø-ɏ"  # Latin letters, accented ones included
# A Latin word; its digits stop before a percentage (GDP10% is GDP + 10%).
_WORD = rf"[{_L}](?:[{_L}]|\d(?![\d.]*[%％]))*(?:['’.\-&+·][{_L}0-9]+)*"
_CODE = rf"\d+[{_L}][{_L}0-9]*(?:[\-.][{_L}0-9]+)*"  # 3D, 5G, 51Talk
_RUN = rf"(?:{_WORD}|{_CODE})(?:(?: ?& ?| |-)(?:{_WORD}|{_CODE})| ?\d+(?:\.\d+)?(?![\d.%％]))*"
_URL = r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*[A-Za-z0-9/#=_\-]"
_EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
_TAG = r"(?<![\w])[#@][A-Za-z0-9_]+"
_NUM_CORE = r"\d+(?:[.,:]\d+)*"
_NUMBER = rf"(?:US\$|[$€£¥￥])?{_NUM_CORE}(?:(?: |-|~|～|–|—){_NUM_CORE})*(?:%|％|‰)?"
_SPANS = re.compile(
    rf"(?P<url>{_URL})|(?P<email>{_EMAIL})|(?P<tag>{_TAG})|(?P<latin>{_RUN})|(?P<number>{_NUMBER})"
)
# A number's magnitude written after it: 6.4万, 3300余万, 3억.
_MAGNITUDES = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "조": 1e12, "억": 1e8, "만": 1e4}
_MAGNITUDE = re.compile(r"(余|多)?(万亿|亿|万|조|억|만)")
_MONTH = re.compile(r"月")
_ERA = re.compile(r"世纪|年代")
_YEAR = re.compile(r"(?:19|20)\d\d")
_DIGITS = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")

LATIN_KINDS = frozenset({"latin", "url", "email", "tag", "glossary"})


@dataclass(frozen=True)
class Span:
    """One protected piece of a source sentence and the English it must come out as."""

    start: int
    end: int
    kind: str  # latin | url | email | tag | number | magnitude | glossary
    text: str
    english: str


def english_number(value: float) -> str:
    """A value as English news writes it: 64,000; 1.2 million; 22 billion; 13.21 trillion."""
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if value >= size:
            return f"{round(value / size, 6):g} {word}"
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def find_spans(sentence: str, glossary: Mapping[str, str] | None = None) -> list[Span]:
    """The protected spans of one sentence, in order, never overlapping."""
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []
    if glossary:
        for match in _glossary_pattern(tuple(glossary)).finditer(sentence):
            term = match.group()
            spans.append(Span(match.start(), match.end(), "glossary", term, glossary[term]))
            taken.append((match.start(), match.end()))
    for match in _SPANS.finditer(sentence):
        start, end = match.start(), match.end()
        if any(a < end and start < b for a, b in taken):
            continue
        span = _span(sentence, match)
        if span is not None:
            spans.append(span)
    return sorted(spans, key=lambda s: s.start)


def _span(sentence: str, match: re.Match[str]) -> Span | None:
    kind = match.lastgroup or ""
    text = match.group()
    start, end = match.start(), match.end()
    if kind != "number":
        return Span(start, end, kind, text, text)
    after = sentence[end : end + 3]
    if _MONTH.match(after) and text.isdigit() and 1 <= int(text) <= 12:
        return None  # 8月 is August: the model writes the month's name
    if _ERA.match(after):
        return None  # 20世纪, 70年代: the 20th century, the 1970s
    english = unicodedata.normalize("NFKC", text)
    magnitude = _MAGNITUDE.match(after)
    if magnitude is not None and _DIGITS.fullmatch(text):
        value = float(text.replace(",", "")) * _MAGNITUDES[magnitude.group(2)]
        return Span(start, end + magnitude.end(), "magnitude", text + magnitude.group(),
                    english_number(value))  # fmt: skip
    return Span(start, end, kind, text, english)


_GLOSSARY_CACHE: dict[tuple[str, ...], re.Pattern[str]] = {}


def _glossary_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    """Longest term first, so 中美关系 wins over 中美 when both are listed."""
    pattern = _GLOSSARY_CACHE.get(terms)
    if pattern is None:
        ordered = sorted(terms, key=lambda t: (-len(t), t))
        pattern = re.compile("|".join(re.escape(t) for t in ordered if t))
        if len(_GLOSSARY_CACHE) > 8:
            _GLOSSARY_CACHE.clear()
        _GLOSSARY_CACHE[terms] = pattern
    return pattern


# ---- is a span in the translation? ---------------------------------------------------------


def _number_forms(span: Span) -> set[str]:
    """How the span's number may be written in English and still be the same number."""
    english = span.english
    forms = {english}
    if span.kind == "magnitude":
        value = _magnitude_value(span)
        forms.add(f"{round(value):,}" if value == round(value) else english)
        forms.add(str(round(value)) if value == round(value) else english)
        for size, words in ((1e12, ("trillion", "tn")), (1e9, ("billion", "bn")),
                            (1e6, ("million", "m", "mn")), (1e3, ("thousand", "k"))):  # fmt: skip
            if value >= size:
                short = f"{round(value / size, 6):g}"
                forms.update(f"{short} {words[0]}" if w == words[0] else f"{short}{w}"
                             for w in words)  # fmt: skip
    elif re.fullmatch(r"\d+", english):
        forms.add(f"{int(english):,}")
    elif re.fullmatch(r"\d{1,3}(?:,\d{3})+", english):
        forms.add(english.replace(",", ""))
    return forms


def _magnitude_value(span: Span) -> float:
    digits = _DIGITS.match(span.text)
    magnitude = _MAGNITUDE.search(span.text)
    if digits is None or magnitude is None:
        return 0.0
    return float(digits.group().replace(",", "")) * _MAGNITUDES[magnitude.group(2)]


def _bounded(text: str) -> str:
    """``text`` as a pattern that does not match inside a longer word or number."""
    head = rf"(?<![{_L}0-9.,])" if text[:1].isalnum() else ""
    tail = rf"(?:s|'s|’s)?(?![{_L}0-9]|[.,]\d)" if text[-1:].isalnum() else ""
    return head + re.escape(text) + tail


def kept(span: Span, output: str) -> bool:
    """Whether the span's English is in ``output`` (a number in any of its forms)."""
    if span.kind in ("number", "magnitude"):
        return any(re.search(_bounded_number(form), output) for form in _number_forms(span))
    return re.search(_bounded(span.english), output) is not None


def _bounded_number(text: str) -> str:
    """A number may follow a letter (£11bn) and take an ordinal (10th) or plural (1990s)."""
    head = r"(?<![\d.,])" if text[:1].isdigit() else ""
    tail = r"(?:st|nd|rd|th|s)?(?!\d|[.,]\d)" if text[-1:].isdigit() else r"(?![\d])"
    return head + re.escape(text) + tail


def missing(spans: Sequence[Span], output: str) -> list[Span]:
    return [span for span in spans if not kept(span, output)]


# ---- masking -----------------------------------------------------------------------------

# Two-digit surrogates: read by the model as the numbers they are, rare in news, no teens.
_SURROGATES = (
    (47, 58, 69, 74, 86, 97, 38, 49, 56, 67, 78, 89, 94, 36, 45, 54, 63, 72, 83, 92),
    (83, 72, 96, 37, 64, 59, 48, 76, 87, 93, 34, 57, 68, 79, 95, 46, 39, 53, 62, 84),
)
_PLACEHOLDER = ("#{}", "X{}")
_CURRENCY = re.compile(r"^(?:US\$|[$€£¥￥])")
_UNIT = re.compile(r"(?:%|％|‰)$")
_CURRENCY_OUT = r"(?:US\$|\$|USD ?|€|EUR ?|£|GBP ?|¥|RMB ?|CNY ?)?"
_PERCENT_OUT = r"(?: ?%| per ?cent| percent)?"
_ORDINAL = re.compile(r"(?:st|nd|rd|th)\b")


@dataclass(frozen=True)
class Slot:
    """One masked span: what the model saw instead of it."""

    span: Span
    stand_in: str
    number: bool


@dataclass(frozen=True)
class Masked:
    text: str
    slots: tuple[Slot, ...]


def mask(sentence: str, spans: Sequence[Span], style: int = 0) -> Masked:
    """The sentence with ``spans`` replaced by placeholders (style 0 or 1)."""
    style %= 2
    used = set(_DIGITS.findall(sentence))
    surrogates = (str(n) for n in _SURROGATES[style] if str(n) not in used)
    out: list[str] = []
    slots: list[Slot] = []
    last = 0
    index = 0
    for span in sorted(spans, key=lambda s: s.start):
        out.append(sentence[last : span.start])
        if out[-1][-1:].isdigit() or (out[-1] == "" and slots and not slots[-1].number):
            out.append(" ")  # a stand-in must not run into a digit or another stand-in
        if span.kind in ("number", "magnitude"):
            stand_in = next(surrogates, None)
            if stand_in is None:
                out.append(span.text)
                last = span.end
                continue
            shown = _number_stand_in(span, stand_in)
            slots.append(Slot(span, stand_in if span.kind == "magnitude" else shown, True))
            out.append(shown)
        else:
            index += 1
            while _PLACEHOLDER[style].format(index) in sentence:
                index += 1
            stand_in = _PLACEHOLDER[style].format(index)
            slots.append(Slot(span, stand_in, False))
            out.append(stand_in)
        last = span.end
    tail = sentence[last:]
    out.append((" " if slots and tail[:1].isdigit() else "") + tail)
    return Masked("".join(out), tuple(slots))


def _number_stand_in(span: Span, surrogate: str) -> str:
    """The surrogate shaped like the number: as many digits, its currency and unit kept."""
    if span.kind == "magnitude":
        about = _MAGNITUDE.search(span.text)
        return surrogate + (about.group(1) or "" if about else "")
    text = span.text
    currency = _CURRENCY.match(text)
    unit = _UNIT.search(text)
    core = text[currency.end() if currency else 0 : unit.start() if unit else len(text)]
    shaped = surrogate
    if _DIGITS.fullmatch(core):
        whole, _, decimals = core.replace(",", "").partition(".")
        shaped = surrogate + "0" * max(0, len(whole) - len(surrogate))
        shaped += ".5" if decimals else ""
    return (currency.group() if currency else "") + shaped + (unit.group() if unit else "")


def unmask(output: str, masked: Masked) -> str | None:
    """The output with every span back in place; None when a stand-in was lost or doubled."""
    for slot in masked.slots:
        pattern = _slot_pattern(slot)
        found = list(pattern.finditer(output))
        if len(found) != 1:
            return None
        match = found[0]
        english = slot.span.english
        if slot.number and match.group("ordinal") and re.fullmatch(r"\d+", english):
            english += _ordinal_suffix(int(english))
        output = output[: match.start()] + english + output[match.end() :]
    return output


def _slot_pattern(slot: Slot) -> re.Pattern[str]:
    if not slot.number:
        return re.compile(rf"(?<![\w#]){re.escape(slot.stand_in)}(?!\d)")
    digits = _DIGITS.search(slot.stand_in)
    core = digits.group() if digits else slot.stand_in
    whole, _, decimals = core.partition(".")
    grouped = ",?".join(_groups(whole)) + (rf"\.{decimals}" if decimals else "")
    text = slot.span.text
    prefix = _CURRENCY_OUT if _CURRENCY.match(text) else ""
    suffix = _PERCENT_OUT if _UNIT.search(text) else ""
    return re.compile(
        rf"(?<![\d.,]){prefix}{grouped}(?![\d]|[.,]\d){suffix}(?P<ordinal>(?:st|nd|rd|th)\b)?"
    )


def _groups(digits: str) -> list[str]:
    head = len(digits) % 3 or 3
    return [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]


def _ordinal_suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


# ---- the last resort: a near miss put right ------------------------------------------------

_OUT_WORD = re.compile(rf"[{_L}0-9][{_L}0-9'’.\-]*")


def repair(output: str, spans: Sequence[Span]) -> str:
    """Put a Latin span back where the output has a near miss of it (Russell for Russel,
    Queensfrey for Queensferry): same first letter, as many words, similarity >= 0.75."""
    for span in spans:
        if span.kind not in LATIN_KINDS or kept(span, output):
            continue
        want = span.english
        n = len(want.split())
        words = list(_OUT_WORD.finditer(output))
        best: tuple[float, int, int] | None = None
        for i in range(0, len(words) - n + 1):
            start, end = words[i].start(), words[i + n - 1].end()
            got = output[start:end]
            if got[:1].lower() != want[:1].lower():
                continue
            ratio = SequenceMatcher(None, got.lower(), want.lower()).ratio()
            if ratio >= 0.75 and (best is None or ratio > best[0]):
                best = (ratio, start, end)
        if best is not None:
            output = output[: best[1]] + want + output[best[2] :]
    return output
