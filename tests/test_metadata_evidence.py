"""Metadata (issue #15), the weaker kinds of evidence: a month named without a day, a time
kept in a data-* attribute, a headline set in an <h2>. Each rule is checked where it should
fire (a real corpus page) and where it must not (prose, archive lists, other stories)."""

from __future__ import annotations

import lxml.html

from service.metadata import document_fields, read_page
from service.metadata._stamps import parse_iso
from service.pipeline import Pipeline
from service.records import Article, Source
from service.settings import Settings

from .conftest import EXTRACTION, gold
from .test_metadata import BODY, EN_BODY, corpus, extract, page, settled

# --------------------------------------------------------------------------- months, data-*, <h2>


def test_a_magazine_issue_gives_a_month_and_nothing_finer(settings: Settings) -> None:
    path = "cwced_zh/pages/fddcb19c-c3c1-4e39-a61d-9bf096a5f390.html"  # "《北京之春》1996年3月号"
    ex = corpus(path)
    assert (ex.date, ex.meta["date_precision"], ex.meta["date_source"]) == (
        "1996-03",
        "month",
        "text",
    )
    doc = Pipeline(settings).process(Source("file", str(EXTRACTION / path)), translate=False)
    data = doc.as_dict()  # validated against the schema on the way
    assert (data["published_at"], data["published_at_precision"]) == (
        "1996-03-01T00:00:00Z",
        "month",
    )
    assert data["published_at_local"] == "1996-03" and data.get("published_at_zone") is None
    again = document_fields(Article.from_document(data).extracted)
    assert (again["published_at"], again["published_at_precision"]) == (
        "1996-03-01T00:00:00Z",
        "month",
    )


def test_a_month_in_prose_or_in_an_archive_list_is_not_a_date() -> None:
    top = "<p>2004年9月有关播客的搜索结果还不到20个，10月初该搜索结果迅速变为5950个，现在很多。</p>"
    bottom = "<ul><li><a href='/a/1'>April 2006</a></li><li><a href='/a/2'>March 2006</a></li></ul>"
    assert extract(page(top=top, bottom=bottom)).date is None


def test_a_month_is_read_only_without_a_day_or_a_range() -> None:
    from devtools._metadata_eval import day_ok, parse_gold_date
    from service.metadata._stamps import find_months

    def months(text: str) -> list[str]:
        return [f.stamp.local_iso() for f in find_months(text)]

    assert months("《北京之春》1996年3月号") + months("Published March 2020") == [
        "1996-03",
        "2020-03",
    ]
    assert months("1996年3月5日") + months("3 March 2020") + months("2020년 3월 5일") == []
    assert months("2020年3月至5月") + months("March 2020 - April 2020") == []
    assert day_ok("1996-03", parse_gold_date("1996-3"))  # the evaluation: a month is no day
    assert day_ok("1996-03", parse_gold_date("1996-03-01")) is False


def test_a_data_attribute_time_that_names_this_article_is_read() -> None:
    path = "fundus_fixtures/pages/kr_HankookIlbo_2026_01_29.html"  # no visible date line
    ex = corpus(path, gold(path)["url"])
    assert (ex.date, ex.meta["date_source"]) == ("2026-01-29T18:40:00", "meta")
    assert ex.meta["modified"] == "2026-01-29T18:49:00"  # data-re-deploy-dt
    fields = document_fields(settled(ex, "ko", gold(path)["url"]))
    assert (fields["published_at"], fields["published_at_zone_inferred"]) == (
        "2026-01-29T09:40:00Z",
        True,
    )


def test_a_data_attribute_time_at_the_header_is_read() -> None:
    top = '<div class="info" data-publish-date="2021-03-04 10:20">作者：王小明</div>'
    ex = extract(page(top=top))
    assert (ex.date, ex.meta["date_source"]) == ("2021-03-04T10:20:00", "meta")


def test_data_attribute_times_of_other_stories_are_ignored() -> None:
    teasers = "".join(
        f'<li data-publish-date="2021-0{i}-04 10:20" data-title="另一条新闻{i}">'
        f"<a href='/n/{i}'>另一条新闻的标题{i}</a></li>"
        for i in range(1, 6)
    )
    html = page(bottom="".join(f"<p>另一段{i}</p>" for i in range(12)) + f"<ul>{teasers}</ul>")
    read = read_page(lxml.html.fromstring(html), "https://example.cn/a/1.html", [BODY[3:-4]])
    assert read.title == "标题在这里说明一件事" and read.published is None


def test_a_data_attribute_value_without_separators_is_not_read() -> None:
    top = '<span class="js-publish-date" data-pubdate-value="2019111905"></span>'
    assert extract(page(top=top)).date is None
    assert parse_iso("2019111905", "meta") is None  # not 2019-11-01 09:05


def test_a_self_linked_h2_is_the_headline_of_a_page_without_h1() -> None:
    path = "trafilatura_eval/pages/uk.trustpilot.com.reviews.html"
    ex = corpus(path, gold(path)["url"])
    assert (ex.title, ex.meta["title_source"]) == ("Gousto has changed my life....", "h1")


def test_an_h2_that_the_title_holds_beats_a_sharing_og_title() -> None:
    head = (
        "<title>Council approves the school budget | Example Gazette</title>"
        '<meta property="og:title" content="Read what Jane Doe wrote on Example Gazette">'
    )
    html = f"<html><head>{head}</head><body><h2>Council approves the school budget</h2>{EN_BODY}"
    ex = extract(html + "</body></html>")
    assert (ex.title, ex.meta["title_source"]) == ("Council approves the school budget", "h1")
