"""extract.py's choices, each on a real page from ../shared/corpus (docs/choices.md has the
measurements behind them)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from devtools.evaluate import prf, tokens
from service._trafilatura import INTERNALS
from service.decode import decode
from service.extract import Extracted, extract_html
from service.fetch import Source
from service.pipeline import Pipeline
from service.settings import load_settings

from .conftest import EXTRACTION, GBK_PAGE, gold

NEXTJS_PAGE = "fundus_fixtures/pages/kr_HankookIlbo_2026_01_29.html"
# TechCrunch: its embedded state holds the full text of several *other* articles.
EMBEDS_OTHER_ARTICLES = "scrapinghub_aeb/pages/1ace8c85aaee21b9.html"
FORUM_IN_LAYOUT_TABLES = "cwced_zh/pages/c2d9f85c-f454-4bd5-8f4e-986580c1113a.html"
RUSSIAN_PAGE = "scrapinghub_aeb/pages/ff0f958ade714ebf.html"
PORTUGUESE_PAGE = "scrapinghub_aeb/pages/f6ac15a4d9851139.html"
GB_BYTES_DECLARED_UTF8 = "trafilatura_eval/pages/archive.org.he.xinhuanet.com.25340717.html"


def extracted(page: str) -> Extracted:
    return extract_html(decode((EXTRACTION / page).read_bytes()).text)


def f1(page: str, ex: Extracted) -> float:
    return prf(tokens("\n".join(ex.paragraphs)), tokens(gold(page)["body"])).f1


def test_layout_tables_come_out_as_paragraphs_not_table_rows() -> None:
    ex = extracted(GBK_PAGE)
    assert not any(p.startswith("|") for p in ex.paragraphs)
    assert f1(GBK_PAGE, ex) > 0.95


def test_navigation_rows_of_a_layout_table_are_dropped() -> None:
    ex = extracted(FORUM_IN_LAYOUT_TABLES)
    text = "\n".join(ex.paragraphs)
    assert "← 返回" not in text and "申请版主" not in text
    assert f1(FORUM_IN_LAYOUT_TABLES, ex) > 0.95


def test_a_data_table_stays_a_table() -> None:
    html = (
        "<html><body><article><p>" + "Results were announced today by the board. " * 8 + "</p>"
        "<table><tr><th>Party</th><th>Seats</th></tr><tr><td>Blue</td><td>41</td></tr>"
        "<tr><td>Green</td><td>17</td></tr></table></article></body></html>"
    )
    text = "\n".join(extract_html(html).paragraphs)
    assert "Green" in text and "17" in text


def test_an_article_rendered_from_embedded_json_is_recovered() -> None:
    ex = extracted(NEXTJS_PAGE)
    assert ex.paragraphs[0].startswith("장동혁 국민의힘 대표가 당권을 위협하던")
    assert f1(NEXTJS_PAGE, ex) > 0.95


def test_other_articles_embedded_in_the_page_are_not_taken_for_this_one() -> None:
    ex = extracted(EMBEDS_OTHER_ARTICLES)
    assert ex.paragraphs[0].startswith("WeWork is reportedly being investigated")
    assert f1(EMBEDS_OTHER_ARTICLES, ex) > 0.95


def test_metadata_title_date_site_canonical_and_description() -> None:
    ex = extracted(NEXTJS_PAGE)
    assert ex.title is not None and ex.title.startswith("장동혁, 한동훈 제명했지만")
    assert ex.date == "2026-01-29T18:40:00"
    assert ex.site_name == "한국일보"
    assert ex.canonical_url == "https://www.hankookilbo.com/news/article/A2026012914320005196"
    assert ex.description and "장동혁" in ex.description
    assert any("신현주" in author for author in ex.authors)


def test_pages_in_other_languages_get_their_own_language(tmp_path: Path) -> None:
    pipeline = Pipeline(load_settings({"NEWSINGEST_DATA_DIR": str(tmp_path)}))
    for page, language in ((RUSSIAN_PAGE, "ru"), (PORTUGUESE_PAGE, "pt")):
        article = pipeline.ingest(Source("file", str(EXTRACTION / page)))
        assert article.language == language


def test_gb_bytes_declared_utf8_pass_their_snippets_without_mojibake() -> None:
    record = gold(GB_BYTES_DECLARED_UTF8)
    text = "\n".join(extracted(GB_BYTES_DECLARED_UTF8).paragraphs)
    assert "\ufffd" not in text
    assert all(snippet in text for snippet in record["with"])
    assert not any(snippet in text for snippet in record["without"])


def test_copyright_and_reprint_lines_after_a_chinese_article_are_dropped() -> None:

    page = EXTRACTION / "cwced_zh/pages/f70d9c97-9d64-415e-a7e4-840c9258eaf5.html"
    extracted = extract_html(decode(page.read_bytes()).text)
    tail = "\n".join(extracted.paragraphs[-3:])
    assert "原创版权禁止商业转载" not in tail and "侵权" not in tail and "编辑:李楠" not in tail
    assert extracted.paragraphs[-1].endswith("完善了紧贴实战、策略灵活、敏捷高效的工作制度。")
    assert extracted.title == "中央军委主席习近平签署命令 发布《军队装备试验鉴定规定》"


def test_a_sentence_about_copyright_inside_the_story_is_kept() -> None:
    from service.extract import trim_furniture

    body = ["The court ruled on Monday.", "All rights reserved, the label said of its catalogue.",
            "The case now goes to appeal."]  # fmt: skip
    assert trim_furniture(body) == body


def test_a_json_ld_block_that_trafilatura_cannot_read_is_logged_with_the_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A JSON-LD array of numbers makes trafilatura 2.3's reader raise AttributeError.
    html = (
        '<html><head><title>Budget vote</title><script type="application/ld+json">[5]</script>'
        "</head><body><article><p>"
        + "The council approved the budget on Monday after a long debate. " * 5
        + "</p></article></body></html>"
    )
    with caplog.at_level(logging.WARNING, logger="newsingest.extract"):
        ex = extract_html(html, "https://example.org/budget", engine=INTERNALS)
    assert ex.title == "Budget vote" and ex.paragraphs
    [record] = [r for r in caplog.records if "JSON-LD" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert "https://example.org/budget" in record.getMessage()


def test_json_ld_that_is_not_json_is_logged_at_debug_with_the_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = '{"@type": "NewsArticle", "articleBody": "' + "Half a story, " * 40  # no closing
    html = (
        f'<html><head><script type="application/ld+json">{broken}</script></head><body>'
        "<article><p>" + "Officials said the bridge would reopen next week. " * 5 + "</p>"
        "</article></body></html>"
    )
    with caplog.at_level(logging.DEBUG, logger="newsingest.extract"):
        ex = extract_html(html, "https://example.org/bridge")
    assert ex.paragraphs[0].startswith("Officials said the bridge")
    assert any(
        r.levelno == logging.DEBUG
        and "JSON-LD" in r.getMessage()
        and "https://example.org/bridge" in r.getMessage()
        for r in caplog.records
    )


def test_a_file_holding_an_html_fragment_is_ingested_as_a_page(tmp_path: Path) -> None:
    # Once refused as "the page holds no HTML document": one element, no <html>.
    story = "The council approved the budget on Monday after a long debate. " * 4
    fragment = tmp_path / "item.html"
    fragment.write_text(f"<story-body><div><p>{story}</p><p>{story}</p></div></story-body>")
    settings = {"NEWSINGEST_DATA_DIR": str(tmp_path), "NEWSINGEST_FILE_ROOTS": str(tmp_path)}
    article = Pipeline(load_settings(settings)).ingest(Source("file", str(fragment)))
    assert article.extracted.paragraphs[0] == story.strip()
    assert article.extracted.kept_share == 1.0


def test_a_page_its_scripts_render_keeps_all_it_shows() -> None:
    # Its body shows no text: the article comes from the embedded state (kept_share 1).
    ex = extracted(NEXTJS_PAGE)
    assert (ex.access, ex.truncated, ex.kept_share) == ("unknown", False, 1.0)


def test_markup_debris_without_a_word_is_no_content() -> None:
    from service.errors import ExtractionError
    from service.extract import extract_text

    debris = "<<<<>>>><p<p<p></div></div><script>" * 500
    with pytest.raises(ExtractionError) as caught:
        extract_html(debris)
    assert caught.value.reason == "no_content"
    with pytest.raises(ExtractionError):
        extract_text("<<<<>>>>\n----\n* * *\n")
    # The same debris around a real paragraph keeps the paragraph.
    words = "The council approved the budget on Tuesday after a long debate."
    assert extract_text(f"<<<<>>>>\n{words}\n").paragraphs == [words]
