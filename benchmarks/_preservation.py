"""Do the numbers and Latin-script tokens of a zh source appear unchanged in a translation?

An independent check of issue #16's goal, written apart from service/_protect.py so that
the service is not graded by its own definition of a span:

- a Latin-script token (letters, digits inside: GDP, iPhone7, Queensferry, Efimova) must
  appear as it is, with a plural ``s`` allowed (MVPs);
- a number must appear as the same number (``16000`` = ``16,000``), with an ordinal or
  plural allowed (10th, 1990s);
- except where Chinese grammar rules out the digits in English: a month (``8月`` = August)
  may appear as its name; a number with a magnitude (``6.4万``, ``220亿``, ``3300余万``) as
  its value in any usual form (64,000; 22 billion; 22bn); a century or decade
  (``20世纪70年代``) as the 1970s or 20th.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_L = "A-Za-zÀ-ÖØ-öø-ɏ"
_LATIN = re.compile(rf"[{_L}](?:[{_L}]|\d(?![\d.]*[%％]))*(?:['’.&-][{_L}0-9]+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MONTHS = [
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
]
_MAGNITUDE = {"万亿": 1e12, "亿": 1e8, "万": 1e4}

Token = tuple[str, str, float]  # kind, text, magnitude (or 0)


def tokens(source: str) -> list[Token]:
    text = unicodedata.normalize("NFKC", source)
    out: list[Token] = [("latin", m.group(), 0.0) for m in _LATIN.finditer(text)]
    for m in _NUMBER.finditer(text):
        if m.start() and re.match(rf"[{_L}]", text[m.start() - 1]):
            continue  # the digits of a Latin token (iPhone7)
        after = text[m.end() : m.end() + 4]
        if after[:1] in "余多":
            after = after[1:]
        magnitude = next((v for k, v in _MAGNITUDE.items() if after.startswith(k)), 0.0)
        if magnitude:
            out.append(("magnitude", m.group(), magnitude))
        elif after[:1] == "月" and m.group().isdigit() and 1 <= int(m.group()) <= 12:
            out.append(("month", m.group(), 0.0))
        elif after[:2] in ("世纪", "年代"):
            out.append(("era", m.group(), 0.0))
        else:
            out.append(("number", m.group(), 0.0))
    return out


def _value_forms(value: float) -> set[str]:
    forms = {f"{round(value):,}", str(round(value))} if value == round(value) else set()
    for size, words in ((1e12, ("trillion", "tn")), (1e9, ("billion", "bn")),
                        (1e6, ("million", "m", "mn")), (1e3, ("thousand", "k"))):  # fmt: skip
        if value >= size:
            short = f"{round(value / size, 6):g}"
            forms.add(f"{short} {words[0]}")
            forms.update(f"{short}{w}" for w in words[1:])
    return forms


def kept(token: Token, output: str) -> bool:
    kind, text, magnitude = token
    out = unicodedata.normalize("NFKC", output)
    if kind == "latin":
        return re.search(rf"(?<![{_L}]){re.escape(text)}(?:s|'s)?(?![{_L}])", out) is not None
    numbers = {n.replace(",", "") for n in _NUMBER.findall(out)}
    if kind == "month":
        return text in numbers or _MONTHS[int(text) - 1] in out
    if kind == "era":
        n = int(text)
        pattern = rf"(?<!\d){n}(?:th|st|nd|rd|s)|\d\d{n}s|(?<!\d){n - 1}\d\ds"
        return re.search(pattern, out) is not None
    if kind == "magnitude":
        flat = out.replace(",", "")
        value = float(text.replace(",", "")) * magnitude
        return any(f.replace(",", "") in flat for f in _value_forms(value))
    return text.replace(",", "") in numbers


def preservation(sources: Sequence[str], outputs: Sequence[str]) -> tuple[float, int, float, int]:
    """(share of tokens kept, tokens, share of pairs with every token kept, such pairs),
    over the pairs whose source holds a number or a Latin-script token."""
    total = good = pairs = whole = 0
    for source, output in zip(sources, outputs, strict=True):
        found = tokens(source)
        if not found:
            continue
        pairs += 1
        ok = [kept(t, output) for t in found]
        total += len(ok)
        good += sum(ok)
        whole += all(ok)
    return (good / total if total else 1.0), total, (whole / pairs if pairs else 1.0), pairs
