"""Sentence splitting for zh, ko and en, done by us rather than by stanza.

The argos packages ship a stanza splitter that tries to download at run time and needs
torch; these rules are enough for news prose and cost microseconds. Over-long sentences
are cut further by the translation engine, which knows the model's token limit.
"""

from __future__ import annotations

import re

# Closing quotes and brackets that belong to the sentence they end.
_CLOSERS = "\"'”’」』）)】》〉"
# zh/ja full-width terminators, including the semicolon and the ellipsis as DESIGN asks.
_CJK_END = "。！？；!?…"
_CJK_SPLIT = re.compile(rf"(?<=[{_CJK_END}])(?![{_CJK_END}])([{_CLOSERS}]*)")

# Latin/Korean: a terminator, optional closers, then whitespace.
_LATIN_SPLIT = re.compile(rf"([.!?…]+[{_CLOSERS}]*)(\s+)")
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "col", "lt", "sgt",
        "st", "jr", "sr", "inc", "ltd", "co", "corp", "vs", "etc", "no", "vol", "fig",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m",
    }
)  # fmt: skip


# An over-long sentence is preferably cut after one of these pieces (clause punctuation)
# when one lies in the second half of the allowed window.
_CUT_AFTER = ("，", "、", "；", ",", ";", "：", ":")

# Longer than any abbreviation, so the word before a full stop is seen whole when it matters.
_LOOK_BACK = 64


def split_sentences(text: str, lang: str) -> list[str]:
    """Split one paragraph into sentences; joining them with spaces gives the text back."""
    text = text.strip()
    if not text:
        return []
    if lang in {"zh", "ja"}:
        return _split_cjk(text)
    return _split_latin(text)


def _split_cjk(text: str) -> list[str]:
    out: list[str] = []
    start = 0
    for match in _CJK_SPLIT.finditer(text):
        end = match.end()
        if end >= len(text):
            break
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        start = end
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    # A Latin sentence quoted inside Chinese text still splits on ". ".
    return [s for piece in out for s in _split_latin(piece)]


def _split_latin(text: str) -> list[str]:
    out: list[str] = []
    start = 0
    for match in _LATIN_SPLIT.finditer(text):
        # Only the word before the terminator matters; a bounded look-back keeps a huge
        # paragraph that never splits (no abbreviation, no capital after ". ") linear.
        before = text[max(start, match.start() - _LOOK_BACK) : match.start()]
        word = before.rsplit(None, 1)[-1].lower() if before.split() else ""
        nxt = text[match.end() : match.end() + 1]
        terminator = match.group(1)
        if terminator.startswith(".") and len(terminator) == 1:
            if word.rstrip(".") in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
            if nxt and nxt.islower():
                continue
        out.append(text[start : match.end(1)].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


def cut_tokens(tokens: list[str], limit: int) -> list[list[str]]:
    """Cut a token list into chunks of at most ``limit`` tokens for a model with a length cap.

    A cut goes after clause punctuation when there is some in the second half of the window,
    so that each chunk is a clause the model can translate on its own; else it is hard.
    """
    limit = max(1, limit)
    chunks: list[list[str]] = []
    while len(tokens) > limit:
        cut = limit
        for pos in range(limit, limit // 2, -1):
            if tokens[pos - 1].endswith(_CUT_AFTER):
                cut = pos
                break
        chunks.append(tokens[:cut])
        tokens = tokens[cut:]
    chunks.append(tokens)
    return chunks
