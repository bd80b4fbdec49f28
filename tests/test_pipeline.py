"""The whole pipeline in-process, on real pages from ../shared/corpus and the seeds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from service.document import validate
from service.errors import DecodeError, SourceError
from service.fetch import Source
from service.pipeline import Pipeline
from service.settings import Settings

from .conftest import (
    ENGLISH_SEED,
    EXTRACTION,
    GB2312_SMALL_PAGE,
    GBK_PAGE,
    KOREAN_PAGE,
    SEEDS,
    gold,
)


def char_f1(got: str, want: str) -> float:
    """Character-level F1 ignoring whitespace: one token per character, as for CJK."""
    a = Counter(c for c in got if not c.isspace())
    b = Counter(c for c in want if not c.isspace())
    overlap = sum((a & b).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(a.values()), overlap / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def file_source(path: Path) -> Source:
    return Source("file", str(path))


@pytest.fixture
def pipeline(settings: Settings) -> Pipeline:
    return Pipeline(settings)


def test_gbk_chinese_page_decodes_and_extracts_the_article(pipeline: Pipeline) -> None:
    article = pipeline.ingest(file_source(EXTRACTION / GBK_PAGE))
    text = "\n".join(article.extracted.paragraphs)
    assert article.language == "zh"
    assert article.encoding["name"] == "gb18030"
    assert "\ufffd" not in text
    assert char_f1(text, gold(GBK_PAGE)["body"]) > 0.85


def test_korean_page_gives_title_body_author_and_date(pipeline: Pipeline) -> None:
    record = gold(KOREAN_PAGE)
    article = pipeline.ingest(file_source(EXTRACTION / KOREAN_PAGE))
    ex = article.extracted
    assert article.language == "ko"
    assert ex.title is not None and ex.title.endswith("외친 이재명")  # no "| 한국일보"
    assert char_f1(ex.title, record["title"]) > 0.9
    assert char_f1("\n".join(ex.paragraphs), record["body"]) > 0.85
    assert ex.date is not None and ex.date.startswith("2025-05-15")
    assert any("구현모" in a for a in ex.authors)


def test_english_seed_comes_out_english_without_page_chrome(pipeline: Pipeline) -> None:
    article = pipeline.ingest(file_source(SEEDS / "001_62f779f4f7687a43.txt"))
    text = "\n".join(article.extracted.paragraphs)
    assert article.language == "en"
    assert article.extracted.title is not None
    assert article.extracted.title.startswith("U.S. Treasury Hints at Software Export Controls")
    for chrome in ("본문 바로가기", "bar_progress", "All rights reserved", "Join us on social"):
        assert chrome not in text
    assert "Everything is on the table" in text


def test_chinese_document_is_translated_and_schema_valid(pipeline: Pipeline) -> None:
    doc = pipeline.process(file_source(EXTRACTION / GB2312_SMALL_PAGE))
    data = doc.as_dict()
    validate(data)
    assert data["language"] == "zh"
    assert data["translation"]["status"] == "translated"
    assert data["translation"]["model"] == "translate-zh_en-1_9@1.9"
    assert data["text_en"].count("\n\n") == data["text"].count("\n\n")
    assert "Xi Jinping" in data["text_en"]


def test_a_source_scope_overrides_the_setting_and_travels_in_the_document(
    pipeline: Pipeline,
) -> None:
    source = Source("file", str(EXTRACTION / GB2312_SMALL_PAGE), translate_scope="title")
    data = pipeline.process(source).as_dict()
    validate(data)
    assert pipeline.settings.translate_scope == "full"
    assert data["source"]["translate_scope"] == "title"
    assert data["translation"]["scope"] == "title"
    assert data["translation"]["paragraphs_translated"] == 0
    assert data["title_en"]
    # Through the queue's JSON and back, as a feed item's input travels.
    assert Source.from_dict(source.as_dict()) == source


def test_korean_document_without_a_package_is_published_untranslated(pipeline: Pipeline) -> None:
    doc = pipeline.process(file_source(EXTRACTION / KOREAN_PAGE))
    validate(doc.as_dict())
    assert doc.translation["status"] == "missing_model"
    assert doc.title_en is None and doc.text_en is None
    assert doc.text


def test_english_document_carries_its_original_as_english(pipeline: Pipeline) -> None:
    doc = pipeline.process(file_source(SEEDS / ENGLISH_SEED))
    assert doc.translation["status"] == "not_needed"
    assert doc.text_en == doc.text and doc.title_en == doc.title


def test_paragraphs_are_separated_by_exactly_one_blank_line(pipeline: Pipeline) -> None:
    doc = pipeline.process(file_source(SEEDS / ENGLISH_SEED), translate=False)
    assert "\n\n\n" not in doc.text
    assert all(p.strip() == p and p for p in doc.text.split("\n\n"))


def test_the_same_input_gets_the_same_id_and_hash(pipeline: Pipeline) -> None:
    first = pipeline.process(file_source(EXTRACTION / KOREAN_PAGE), translate=False)
    second = pipeline.process(file_source(EXTRACTION / KOREAN_PAGE), translate=False)
    assert (first.id, first.content_hash) == (second.id, second.content_hash)


def test_a_binary_file_is_a_typed_decode_error(pipeline: Pipeline, tmp_path: Path) -> None:
    blob = tmp_path / "image.html"
    blob.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64)
    with pytest.raises(DecodeError):
        pipeline.ingest(file_source(blob))


def test_a_missing_file_is_a_source_error(pipeline: Pipeline, tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        pipeline.ingest(file_source(tmp_path / "nope.html"))
    assert info.value.reason == "file_not_found"
