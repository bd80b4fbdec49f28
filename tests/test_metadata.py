"""Metadata (issue #15): publication time with its precision, zone and evidence; bylines and
agencies; the headline. Real pages from ../shared/corpus, and a small page for each kind of
evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.decode import decode
from service.extract import extract_html
from service.metadata import document_fields, read_page, settle, settle_extracted, zone_table
from service.metadata._bylines import find_bylines, is_byline_line
from service.metadata._stamps import find_dates, parse_iso
from service.pipeline import Pipeline
from service.records import Article, Extracted, FeedItem, Source
from service.settings import Settings, SettingsError, load_settings

from .conftest import EXTRACTION, gold

ZONES = zone_table(
    "zh=Asia/Shanghai ko=Asia/Seoul .cn=Asia/Shanghai .kr=Asia/Seoul .example.com=Asia/Tokyo"
)
BODY = "<p>" + "这是正文的一段，讲述了一件事情的经过和各方的反应。" * 3 + "</p>"
EN_BODY = (
    "<p>" + "The council voted on Tuesday to approve the new budget for schools. " * 3 + "</p>"
)


def page(head: str = "", body: str = BODY, top: str = "", bottom: str = "") -> str:
    return (
        f"<html><head>{head}</head><body><div class='nav'>首页 新闻 体育</div>"
        f"<article><h1>标题在这里说明一件事</h1>{top}{body}{bottom}</article></body></html>"
    )


def extract(html: str, url: str | None = None) -> Extracted:
    return extract_html(html, url)


def settled(ex: Extracted, language: str = "zh", url: str | None = None) -> Extracted:
    return settle_extracted(ex, Source("url", url or "x"), url=url, language=language, zones=ZONES)


def corpus(path: str, url: str | None = None) -> Extracted:
    return extract_html(decode((EXTRACTION / path).read_bytes()).text, url)


# --------------------------------------------------------------------------- evidence kinds


def test_jsonld_date_keeps_its_offset_and_seconds() -> None:
    ld = '{"@type": "NewsArticle", "headline": "H", "datePublished": "2025-05-28T01:05:09+09:00"}'
    ex = extract(page(f'<script type="application/ld+json">{ld}</script>'))
    assert (ex.date, ex.meta["date_source"], ex.meta["date_precision"]) == (
        "2025-05-28T01:05:09+09:00",
        "jsonld",
        "second",
    )
    fields = document_fields(settled(ex))
    assert fields["published_at"] == "2025-05-27T16:05:09Z"
    assert fields["published_at_zone"] == "+09:00"
    assert fields["published_at_zone_inferred"] is False


def test_meta_published_time_is_read() -> None:
    ex = extract(page('<meta property="article:published_time" content="2021-01-29T05:18:00Z">'))
    assert (ex.date, ex.meta["date_source"]) == ("2021-01-29T05:18:00+00:00", "meta")


def test_time_element_next_to_the_headline() -> None:
    top = '<time datetime="2020-09-21T08:30:00-04:00">September 21, 2020</time>'
    ex = extract(page(body=EN_BODY, top=top))
    assert (ex.date, ex.meta["date_source"]) == ("2020-09-21T08:30:00-04:00", "time")


def test_chinese_date_line_gets_beijing_time_marked_inferred() -> None:
    ex = settled(extract(page(top="<div>2021-1-29 13:18 来源：新华网</div>")))
    fields = document_fields(ex)
    assert fields["published_at_local"] == "2021-01-29T13:18:00+08:00"
    assert fields["published_at"] == "2021-01-29T05:18:00Z"
    assert fields["published_at_precision"] == "minute"
    assert fields["published_at_source"] == "text"
    assert (fields["published_at_zone"], fields["published_at_zone_inferred"]) == (
        "Asia/Shanghai",
        True,
    )


def test_korean_input_line_and_its_modification() -> None:
    top = "<div>입력 2025.05.28 01:05 수정 2025.05.28 09:30</div>"
    body = "<p>" + "정부는 오늘 새로운 예산안을 발표했다고 밝혔다. " * 4 + "</p>"
    ex = settled(extract(page(top=top, body=body)), language="ko")
    fields = document_fields(ex)
    assert fields["published_at_local"] == "2025-05-28T01:05:00+09:00"
    assert fields["published_at_zone"] == "Asia/Seoul"
    assert fields["modified_at"] == "2025-05-28T00:30:00Z"


def test_english_posted_line_gives_a_day_and_its_author() -> None:
    ex = extract(page(body=EN_BODY, top="<p>Posted on September 21, 2020 by Adi Tzlil</p>"))
    assert (ex.date, ex.meta["date_precision"]) == ("2020-09-21", "day")
    assert ex.authors == ["Adi Tzlil"]
    fields = document_fields(settled(ex, "en"))
    assert (fields["published_at"], fields["published_at_precision"]) == (
        "2020-09-21T00:00:00Z",
        "day",
    )


def test_url_date_when_the_page_gives_none() -> None:
    ex = extract(page(), "https://news.example.org/politics/2020-02-19/budget-vote")
    assert (ex.date, ex.meta["date_source"]) == ("2020-02-19", "url")


def test_a_future_date_is_rejected_as_a_guess() -> None:
    soon = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    ex = extract(page(top=f"<div>发布时间：{soon}</div><div>2019-05-07 21:23</div>"))
    assert ex.date == "2019-05-07T21:23:00"


def test_a_far_past_date_needs_strong_evidence() -> None:
    weak = extract(page(top="<div>发布时间：1911-10-10 10:00</div>"))
    assert weak.date is None
    ld = '{"@type": "NewsArticle", "datePublished": "1911-10-10"}'
    strong = extract(page(f'<script type="application/ld+json">{ld}</script>'))
    assert strong.date == "1911-10-10"


def test_a_date_labelled_last_updated_is_the_modification_time() -> None:
    ld = '{"@type": "NewsArticle", "datePublished": "2019-09-07T15:14:21"}'
    top = "<div>2019-09-07 15:10:53</div><div>最后更新: 2019-09-07 15:14:21</div>"
    ex = extract(page(f'<script type="application/ld+json">{ld}</script>', top=top))
    assert (ex.date, ex.meta["modified"]) == ("2019-09-07T15:10:53", "2019-09-07T15:14:21")


# --------------------------------------------------------------------------- zones


def test_zone_comes_from_the_site_country_before_the_language() -> None:
    kst = settle("2025-05-28T01:05:00", "minute", "text", language="en",
                 url="https://world.kbs.co.kr/news", zones=ZONES)  # fmt: skip
    assert (kst.date, kst.zone, kst.zone_inferred) == (
        "2025-05-28T01:05:00+09:00",
        "Asia/Seoul",
        True,
    )


def test_a_site_entry_overrides_its_country_and_language() -> None:
    got = settle("2025-05-28T01:05:00", "minute", "text", language="zh",
                 url="https://www.example.com/a", zones=ZONES)  # fmt: skip
    assert got.zone == "Asia/Tokyo"


def test_a_source_zone_wins_and_is_not_inferred() -> None:
    got = settle("2025-05-28T01:05:00", "minute", "text", language="zh",
                 zones=ZONES, zone_override="Europe/Paris")  # fmt: skip
    assert (got.date, got.zone_inferred) == ("2025-05-28T01:05:00+02:00", False)


def test_no_known_zone_keeps_the_wall_time_and_publishes_only_the_day() -> None:
    got = settle("2020-02-19T17:00:00", "minute", "text", language="en", zones=ZONES)
    assert (got.date, got.zone) == ("2020-02-19T17:00:00", None)
    ex = Extracted("t", ["p"], date=got.date, meta={"date_precision": "minute"})
    fields = document_fields(ex)
    assert (fields["published_at"], fields["published_at_precision"]) == (
        "2020-02-19T00:00:00Z",
        "day",
    )


def test_publisher_zones_setting_is_validated() -> None:
    with pytest.raises(SettingsError, match="publisher_zones"):
        load_settings({"NEWSINGEST_PUBLISHER_ZONES": "zh=Mars/Olympus"})


# --------------------------------------------------------------------------- feed and fetch


def test_feed_item_fills_what_the_page_leaves_out() -> None:
    item = FeedItem("wire", title="Feed title", published="2024-03-01T08:00:00Z", author="Jane Doe")
    bare = Extracted(None, ["para"])
    ex = settle_extracted(bare, Source("url", "u", feed=item), url=None, language="en", zones={})
    assert (ex.title, ex.authors, ex.date) == (
        "Feed title",
        ["Jane Doe"],
        "2024-03-01T08:00:00+00:00",
    )
    assert (ex.meta["title_source"], ex.meta["authors_source"], ex.meta["date_source"]) == (
        "feed",
        "feed",
        "feed",
    )


def test_the_page_beats_the_feed() -> None:
    item = FeedItem("wire", published="2024-03-01T08:00:00Z")
    ex = Extracted(
        "t", ["p"], date="2024-02-28", meta={"date_precision": "day", "date_source": "meta"}
    )
    got = settle_extracted(ex, Source("url", "u", feed=item), url=None, language="en", zones={})
    assert (got.date, got.meta["date_source"]) == ("2024-02-28", "meta")


def test_last_modified_header_is_the_last_resort_unless_it_is_the_fetch_itself() -> None:
    old = settle(None, None, None, last_modified="Tue, 04 Jan 2022 10:00:00 GMT",
                 fetched_at="2024-01-01T00:00:00Z")  # fmt: skip
    assert (old.date, old.source) == ("2022-01-04T10:00:00+00:00", "fetch")
    now = settle(None, None, None, last_modified="Mon, 01 Jan 2024 00:00:00 GMT",
                 fetched_at="2024-01-01T00:00:05Z")  # fmt: skip
    assert now.date is None


# --------------------------------------------------------------------------- bylines


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("光明日报记者 王建宏 张文攀", ("王建宏", "张文攀")),
        ("本报记者罗科苏盈发自北京", ("罗科苏盈",)),
        ("文/图 张文攀", ("张文攀",)),
        ("순천, 광양 구현모 기자 ninek@hankookilbo.com", ("구현모",)),
        ("글·사진 홍길동", ("홍길동",)),
        ("By Jane Doe and John Roe", ("Jane Doe", "John Roe")),
    ],
)
def test_byline_patterns_in_three_languages(line: str, names: tuple[str, ...]) -> None:
    assert [b.names for b in find_bylines(line)][0] == names


@pytest.mark.parametrize(
    "line", ["18时许，记者来到这家医院", "■该作者文章", "다만 그는 작가의 글 솜씨를 많이 탄다.",
             "the game was won by Sixers defense", "新华社记者 才扬 摄"],
)  # fmt: skip
def test_prose_and_photo_credits_are_not_bylines(line: str) -> None:
    assert list(find_bylines(line)) == []


def test_editors_count_only_when_no_writer_is_named() -> None:
    ex = extract(page(bottom="<p>（记者 胡晓蓉）</p><p>责任编辑：孙重远</p>"))
    assert ex.authors == ["胡晓蓉"]
    ex = extract(page(bottom="<p>责任编辑：孙重远</p>"))
    assert ex.authors == ["孙重远"]


def test_agencies_go_apart_from_people() -> None:
    ex = extract(
        page(top="<p>新华社北京2月13日电（记者 张三）" + "新华社报道了会议的情况。" * 5 + "</p>")
    )
    assert (ex.authors, ex.meta["agency"]) == (["张三"], "Xinhua")
    ko = "<p>(서울=연합뉴스) 김철수 기자 = " + "정부는 오늘 새로운 예산안을 발표했다. " * 4 + "</p>"
    ex = extract(page(body=ko))
    assert (ex.authors, ex.meta["agency"]) == (["김철수"], "Yonhap")
    ld = '{"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Reuters"}}'
    ex = extract(page(f'<script type="application/ld+json">{ld}</script>', body=EN_BODY))
    assert (ex.authors, ex.meta["agency"]) == ([], "Reuters")


def test_site_names_are_never_authors() -> None:
    head = (
        '<meta property="og:site_name" content="한국일보"><meta name="author" content="한국일보">'
    )
    ex = extract(page(head, body=EN_BODY))
    assert "한국일보" not in ex.authors
    head = '<meta property="og:site_name" content="PhillyVoice">'
    ex = extract(page(head, body=EN_BODY, bottom="<p>By Adam Aaronson PhillyVoice Staff</p>"))
    assert ex.authors == ["Adam Aaronson"]


def test_a_standalone_byline_line_is_removed_from_the_text() -> None:
    ex = extract(page(top="<p>光明日报记者 王建宏 张文攀</p>", bottom="<p>责任编辑：孙重远</p>"))
    assert ex.authors == ["王建宏", "张文攀"]
    assert not any("王建宏" in p or "孙重远" in p for p in ex.paragraphs)
    assert any("正文" in p for p in ex.paragraphs)


def test_byline_removal_takes_nothing_but_bylines_from_gold_bodies() -> None:
    """Every gold full body, given to the metadata rules as the extracted text: what they
    remove is a byline line and nothing else."""
    checked = 0
    for set_name in ("cwced_zh", "scrapinghub_aeb", "htmltotext_benchmark"):
        for line in (EXTRACTION / set_name / "gold.jsonl").read_text(encoding="utf-8").splitlines():
            record: dict[str, Any] = __import__("json").loads(line)
            if record.get("gold_type") != "full_body" or not record.get("body"):
                continue
            paragraphs = [p.strip() for p in record["body"].split("\n") if p.strip()]
            html = decode((EXTRACTION / record["html"]).read_bytes()).text
            from service._trafilatura import engine

            tree = engine().load_html(html)
            got = read_page(tree, record.get("url"), paragraphs)
            removed = [p for p in paragraphs if p not in got.paragraphs]
            assert all(is_byline_line(p, []) for p in removed), (record["id"], removed)
            checked += 1
    assert checked > 50


# --------------------------------------------------------------------------- titles


def test_title_is_what_og_title_jsonld_and_h1_agree_on() -> None:
    head = (
        "<title>标题在这里说明一件事_国内新闻_示例网</title>"
        '<meta property="og:title" content="国内新闻 - 标题在这里说明一件事">'
        '<meta property="og:site_name" content="示例网">'
    )
    ex = extract(page(head))
    assert (ex.title, ex.meta["title_source"]) == ("标题在这里说明一件事", "meta")


def test_a_linked_logo_h1_far_above_the_text_is_not_the_headline() -> None:
    path = "scrapinghub_aeb/pages/9da36ae4714bfccc.html"  # <h1><a>엔터 미디어</a></h1>
    ex = corpus(path, gold(path)["url"])
    assert ex.title == "악녀의 덫에 걸린 이유리, 의외로 막장극 어울리는 남상미"


# --------------------------------------------------------------------------- real pages


def test_korean_page_has_its_jsonld_second_author_and_headline() -> None:
    path = "fundus_fixtures/pages/kr_HankookIlbo_2025_05_15.html"
    ex = corpus(path, gold(path)["url"])
    assert ex.date == "2025-05-15T20:00:52+09:00"
    assert ex.authors == ["구현모"]
    assert ex.title is not None
    assert (
        ex.title.replace('"', "")
        == "왜 경상도, 전라도 나눠서 싸우나... DJ 고향에서 '국민 통합' 외친 이재명"
    )


def test_chinese_page_day_from_meta_gets_the_time_from_its_date_line() -> None:
    ex = corpus("cwced_zh/pages/f70d9c97-9d64-415e-a7e4-840c9258eaf5.html")
    assert (ex.date, ex.meta["date_source"]) == ("2022-02-13T07:00:00", "text")
    assert ex.authors == ["李楠"]
    assert not any(p.startswith("编辑") for p in ex.paragraphs)


def test_utc_time_shown_in_local_time_gets_the_local_offset() -> None:
    ex = corpus("cwced_zh/pages/0ef8393b-0415-494c-b608-1d45bb33c6fb.html")
    assert ex.date == "2022-02-06T13:48:06+01:00"  # 12:48:06Z, shown as "06/02/2022 - 13:48"


def test_wire_story_credits_the_agency_and_its_writers() -> None:
    ex = corpus("scrapinghub_aeb/pages/aec5deeaada8b2fb.html")
    assert ex.meta["agency"] == "AP"
    assert ex.authors == ["STEVE PEOPLES"]


# --------------------------------------------------------------------------- the document


def test_documents_carry_the_new_fields_and_validate(settings: Settings) -> None:
    pipeline = Pipeline(settings)
    path = EXTRACTION / "cwced_zh/pages/f70d9c97-9d64-415e-a7e4-840c9258eaf5.html"
    doc = pipeline.process(Source("file", str(path)), translate=False)
    data = doc.as_dict()
    assert data["published_at"] == "2022-02-12T23:00:00Z"
    assert data["published_at_local"] == "2022-02-13T07:00:00+08:00"
    assert (data["published_at_precision"], data["published_at_source"]) == ("second", "text")
    assert (data["published_at_zone"], data["published_at_zone_inferred"]) == (
        "Asia/Shanghai",
        True,
    )
    assert data["authors"] == ["李楠"] and data["authors_source"] == "meta"
    again = Article.from_document(data)
    assert document_fields(again.extracted)["published_at"] == data["published_at"]


def test_a_document_from_before_the_new_fields_still_validates(settings: Settings) -> None:
    from service.document import validate

    pipeline = Pipeline(settings)
    path = EXTRACTION / "cwced_zh/pages/f70d9c97-9d64-415e-a7e4-840c9258eaf5.html"
    data = pipeline.process(Source("file", str(path)), translate=False).as_dict()
    for name in ("published_at_local", "published_at_precision", "published_at_source",
                 "published_at_zone", "published_at_zone_inferred", "modified_at", "agency",
                 "title_source", "authors_source"):  # fmt: skip
        data.pop(name, None)
    validate(data)


def test_dates_in_text_carry_their_precision() -> None:
    found = [f.stamp for f in find_dates("发布日期： 9/17/2004 5:54:13 AM")]
    assert [(s.local_iso(), s.precision) for s in found] == [("2004-09-17T05:54:13", "second")]
    assert parse_iso("2022-01-28 00:00:00", "meta").precision == "day"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- the evaluation


def test_evaluation_scores_titles_authors_and_times_as_documented() -> None:
    from devtools._metadata_eval import author_ok, day_ok, minute_ok, parse_gold_date, title_ok

    assert title_ok(
        "宇航员在太空中喝酒会怎么样？后果很严重",
        "宇航员在太空中喝酒会怎么样？后果很严重 _探索者 _光明网",
    )
    assert not title_ok("探索者", "宇航员在太空中喝酒会怎么样？后果很严重 _探索者 _光明网")
    assert author_ok(["박준석"], "박준석 기자 외 1명")
    assert author_ok(["Amber Guetebier"], "Amber Guetebier  Shares")
    assert not author_ok(["王建"], "王建宏 张文攀")
    assert author_ok([], "未知") is None
    gold_date = parse_gold_date("2025-05-15 20:00:52+09:00")
    assert day_ok("2025-05-15T20:00:52+09:00", gold_date)
    assert minute_ok("2025-05-15T11:00:00+00:00", gold_date)
    assert minute_ok("2025-05-15", gold_date) is False
    assert day_ok("1996-03-01", parse_gold_date("1996-3"))


def test_evaluation_runs_on_the_corpus(settings: Settings) -> None:
    import io

    from devtools.evaluate import run

    from .conftest import CORPUS

    out = io.StringIO()
    result = run("metadata", CORPUS, settings, limit=8, out=out, progress=False)
    assert result["groups"]["all"]["pages"] == 8
    assert set(result["groups"]["all"]["ours"]) == {"title", "author", "day", "minute"}
    assert "site name as author" in out.getvalue()


def test_an_old_local_time_gets_a_zone_offset_in_whole_minutes() -> None:
    got = settle("1911-10-10T10:00:00", "minute", "jsonld", language="zh", zones=ZONES)
    assert got.date == "1911-10-10T10:00:00+08:00"  # not Shanghai's local mean time +08:05:43


def test_a_record_from_before_precisions_keeps_its_date() -> None:
    got = settle("2005-05-07T21:23:57", None, None, language="zh", zones=ZONES)
    assert (got.date, got.precision, got.source) == ("2005-05-07T21:23:57+08:00", "second", None)


# --------------------------------------------------------------------------- reading passes


def test_page_lines_skip_hidden_elements_and_keep_compact_forms() -> None:
    import lxml.html

    from service.metadata._lines import MAX_LINE_CHARS, page_lines

    long = "word " * (MAX_LINE_CHARS // 4)
    tree = lxml.html.fromstring(
        "<html><body><div>one <span hidden>gone</span><b>two</b><!-- c -->three</div>"
        "<p aria-hidden='true'>gone</p><p aria-hidden='false'>shown</p>"
        "<p style='Display : None'>gone</p><p style='color: red'>red <a href='/'>link</a></p>"
        f"<p>{long}</p><script>gone()</script>tail</body></html>"
    )
    lines = page_lines(tree)
    texts = [line.text for line in lines.lines]
    assert texts[:4] == ["one twothree", "shown", "red link", long.strip()[:MAX_LINE_CHARS]]
    assert texts[4:] == ["tail"]
    assert lines.lines[2].link_chars == 4
    for index, line in enumerate(lines.lines):
        assert lines.compact(index) == "".join(line.text.split())
    assert lines.find("red link") == 2 and lines.find("tail", 3) == 4 and lines.find("x y") == -1


def test_page_lines_hidden_attributes_read_as_before() -> None:
    import lxml.html

    from service.metadata._lines import page_lines

    tree = lxml.html.fromstring(
        "<html><body><p hidden=''>gone</p><p style=''>empty style</p>"
        "<p style='visibility:hidden'>gone</p><p ARIA-HIDDEN='TRUE'>upper</p>"
        "<div class='x' aria-hidden='true'><p>gone</p></div>after</body></html>"
    )
    lines = page_lines(tree)
    assert [line.text for line in lines.lines] == ["empty style", "upper", "after"]
    assert lines.find("after") == 2 and lines.compact(0) == "emptystyle"
    assert page_lines(lxml.html.fromstring("<html><body></body></html>")).find("x") == -1


def test_read_markup_reads_itemprops_and_data_times_in_document_order() -> None:
    import lxml.html

    from service.metadata._markup import read_markup

    tree = lxml.html.fromstring(
        "<html><head><meta itemprop='datePublished' content='2021-01-02'></head><body>"
        "<div itemprop='author' data-publish-date=' 2021-01-02 10:00 ' data-show-date='2021-01-03'"
        " data-id='12345678'><span itemprop='name'>A</span></div>"
        "<script data-date='2021-01-04'></script><a rel='Author' href='/a'>B</a>"
        "<p data-deploy-dt='2021-01-05T01:02'>x</p></body></html>"
    )
    markup = read_markup(tree, None)
    assert markup.metas == {"itemprop:datepublished": ["2021-01-02"]}
    assert sorted(markup.itemprops) == ["author", "name"]
    assert [(name, value) for _, name, value in markup.data_times] == [
        ("data-publish-date", "2021-01-02 10:00"),
        ("data-deploy-dt", "2021-01-05T01:02"),
    ]
    assert [el.text for el in markup.rel_authors] == ["B"]
