"""Sentence splitting on real news sentences from the translation corpus."""

from __future__ import annotations

from pathlib import Path

from service.segment import split_sentences

from .conftest import CORPUS


def _lines(path: Path, limit: int = 400) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [line.strip() for _, line in zip(range(limit), fh, strict=False) if line.strip()]


def _single(sentences: list[str], lang: str) -> list[str]:
    """Corpus sentences that end in a terminator and that our splitter keeps whole."""
    ends = tuple('。！？.!?"”')
    return [s for s in sentences if s.endswith(ends) and split_sentences(s, lang) == [s]]


def test_chinese_news_paragraph_splits_back_into_its_sentences() -> None:
    sentences = _single(_lines(CORPUS / "translation/wmt19_newstest_zh-en/src.zh"), "zh")
    assert len(sentences) >= 100
    for start in range(0, 90, 3):
        group = sentences[start : start + 3]
        assert split_sentences("".join(group), "zh") == group


def test_korean_news_paragraph_splits_back_into_its_sentences() -> None:
    sentences = _single(_lines(CORPUS / "translation/korean_english_news_v1_ko-en/src.ko"), "ko")
    assert len(sentences) >= 100
    for start in range(0, 90, 3):
        group = sentences[start : start + 3]
        assert split_sentences(" ".join(group), "ko") == group


def test_most_corpus_sentences_stay_whole() -> None:
    zh = _lines(CORPUS / "translation/wmt19_newstest_zh-en/src.zh")
    ko = _lines(CORPUS / "translation/korean_english_news_v1_ko-en/src.ko")
    assert len(_single(zh, "zh")) / len(zh) > 0.8
    assert len(_single(ko, "ko")) / len(ko) > 0.8


def test_english_abbreviations_do_not_end_a_sentence() -> None:
    text = "The U.S. Treasury said so on Oct. 22. Mr. Bessent agreed. Markets rose 3.5 percent."
    assert split_sentences(text, "en") == [
        "The U.S. Treasury said so on Oct. 22.",
        "Mr. Bessent agreed.",
        "Markets rose 3.5 percent.",
    ]


def test_chinese_closing_quote_stays_with_its_sentence() -> None:
    assert split_sentences("他说：“我们会继续努力。”大家鼓掌。", "zh") == [
        "他说：“我们会继续努力。”",
        "大家鼓掌。",
    ]


def test_empty_text_has_no_sentences() -> None:
    assert split_sentences("   ", "zh") == []


def test_chinese_sentences_join_back_into_their_paragraph() -> None:
    lines = _lines(CORPUS / "translation/wmt19_newstest_zh-en/src.zh")
    for start in range(0, 200, 5):
        paragraph = "".join(lines[start : start + 5])
        assert "".join(split_sentences(paragraph, "zh")) == paragraph


def test_korean_sentences_join_back_into_their_paragraph() -> None:
    lines = _lines(CORPUS / "translation/korean_english_news_v1_ko-en/src.ko")
    for start in range(0, 200, 5):
        paragraph = " ".join(lines[start : start + 5])
        assert " ".join(split_sentences(paragraph, "ko")) == " ".join(paragraph.split())


def test_korean_quotation_before_its_reporting_verb_is_not_split() -> None:
    assert split_sentences('그는 "좋다."라고 말했다. 오늘 3.5% 올랐다.', "ko") == [
        '그는 "좋다."라고 말했다.',
        "오늘 3.5% 올랐다.",
    ]
