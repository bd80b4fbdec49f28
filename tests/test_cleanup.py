"""Tests for the plain-text article cleaner: the shared seeds, whole-page dumps and gold bodies
of the shared corpus, plus hand-written ko/zh/en text."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from devtools._metrics import prf, tokens
from service._cleanup_rules import line_rule
from service.cleanup import CleanText, clean_plain_text

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
CORPUS = SEEDS.parent / "corpus"


def _seed_text(prefix: str) -> str:
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not matches:
        pytest.fail(f"seed {prefix} is missing from {SEEDS}")
    return matches[0].read_text(encoding="utf-8")


def _seed(prefix: str) -> CleanText:
    return clean_plain_text(_seed_text(prefix))


def _source_line(prefix: str, start: str) -> str:
    """The whole line of a seed that begins with ``start``, to compare kept paragraphs."""
    for line in _seed_text(prefix).splitlines():
        if line.strip().startswith(start):
            return line.strip()
    raise AssertionError(f"no line of seed {prefix} starts with {start!r}")


def _dropped(result: CleanText, fragment: str) -> bool:
    """True when no paragraph (and not the title) still holds ``fragment``."""
    kept = [*result.paragraphs, result.title or ""]
    return not any(fragment in text for text in kept)


# --- the shared seeds -----------------------------------------------------------------

SEED_TITLES = {
    "000": "US Weighs Software Export Curbs in Escalating Tech Standoff with China",
    "001": "U.S. Treasury Hints at Software Export Controls on China... "
    "Maximum Pressure Ahead of Next Week's Summit",
    "002": None,  # opens with a full sentence: no headline to take
    "003": None,  # a byline, then a full sentence
    "004": "US and China Restart trade Talks, Hint at Easing Tech Export Restrictions",
}

SEED_FIRST_BODY = {
    "000": "The Trump administration is reportedly considering new export controls",
    "001": "The Donald Trump administration is reviewing export control measures",
    "002": "US President Donald Trump’s administration is weighing export restrictions",
    "003": "After China introduced the latest new regulations on rare earth exports",
    "004": "High-level economic discussions have begun between the United States",
}

SEED_LAST_BODY = {
    "000": "The potential software export restrictions could have far-reaching",
    "001": "In particular, as the U.S.-China summit is scheduled to take place",
    "002": "Other areas that could be labeled as critical include Nvidia Corp’s",
    "003": "Regarding the recent U.S. trade threats against China",
    "004": "When questioned about these concerns, Hassett clarified",
}

SEED_BOILERPLATE = [
    ("000", "US Weighs Software Export Curbs in Escalating Tech Standoff - Potential"),
    ("000", "References"),
    ("000", "All trademarks and copyrights belong to their respective owners"),
    ("000", "Featured image is for illustrative purposes only"),
    ("000", "Leave a Reply"),
    ("000", "Your email address will not be published"),
    ("001", "본문 바로가기"),
    ("001", "bar_progress"),
    ("001", "Text Size"),
    ("001", "Photo by AFP Yonhap News"),
    ("001", "All rights reserved"),
    ("001", "Join us on social!"),
    ("002", "Photo: Reuters"),
    ("002", "Jensen Huang (黃仁勳), founder and CEO"),
    ("002", "AI BOOST:"),
    ("002", "RARE EARTHS:"),
    ("002", "CHINESE EXPORT CURBS:"),
    ("003", "【By Observer Net, Qi Qian】"),
    ("003", "chip design software to China. Photo"),
    ("003", "Screenshot of the post"),
    ("003", "not allowed to be reprinted without authorization"),
    ("003", "Original: https://www.toutiao.com"),
    ("003", "This article represents the views of the author"),
]


@pytest.mark.parametrize("prefix", sorted(SEED_TITLES))
def test_seed_title(prefix: str) -> None:
    assert _seed(prefix).title == SEED_TITLES[prefix]


@pytest.mark.parametrize("prefix", sorted(SEED_FIRST_BODY))
def test_seed_keeps_first_body_paragraph_whole(prefix: str) -> None:
    result = _seed(prefix)
    expected = _source_line(prefix, SEED_FIRST_BODY[prefix])
    body = [p for p in result.paragraphs if len(p) > 100]
    assert body[0] == expected


@pytest.mark.parametrize("prefix", sorted(SEED_LAST_BODY))
def test_seed_ends_with_last_body_paragraph(prefix: str) -> None:
    result = _seed(prefix)
    assert result.paragraphs[-1] == _source_line(prefix, SEED_LAST_BODY[prefix])


@pytest.mark.parametrize(("prefix", "fragment"), SEED_BOILERPLATE)
def test_seed_boilerplate_line_is_dropped(prefix: str, fragment: str) -> None:
    result = _seed(prefix)
    assert _dropped(result, fragment)
    assert any(fragment in line for line, _ in result.removed)


@pytest.mark.parametrize("prefix", ["000", "001", "004"])
def test_seed_title_is_not_repeated_as_a_paragraph(prefix: str) -> None:
    result = _seed(prefix)
    assert result.title is not None
    assert not any(p.startswith(result.title[:40]) for p in result.paragraphs)


def test_seed_001_title_repeat_and_caption_copy_are_both_removed() -> None:
    result = _seed("001")
    title = SEED_TITLES["001"]
    assert title is not None
    assert sum(line.startswith(title) for line, _ in result.removed) == 2


def test_seed_001_leading_chrome_goes_but_deck_lines_stay() -> None:
    result = _seed("001")
    assert result.paragraphs[:3] == [
        'Besent: "Considering Software Export Controls...In Coordination with G7"',
        "Countermeasure Against China's Rare Earth Export Controls",
        "Intense Standoff Ahead of U.S.-China Summit",
    ]
    assert ("Close", "chrome") in result.removed
    assert ("Top", "chrome") in result.removed


def test_seed_000_section_headings_stay_as_paragraphs() -> None:
    result = _seed("000")
    assert "Official Confirmation and Diplomatic Stance" in result.paragraphs
    assert "Global Implications" in result.paragraphs


def test_seed_004_lowercase_line_after_heading_is_not_merged() -> None:
    result = _seed("004")
    assert "High-Level Delegations Meet in London" in result.paragraphs
    assert any(p.startswith("the discussions involve") for p in result.paragraphs)


def test_seed_002_single_newline_lines_are_separate_paragraphs() -> None:
    result = _seed("002")
    assert len(result.paragraphs) == 15


@pytest.mark.parametrize("prefix", sorted(SEED_TITLES))
def test_seed_paragraphs_are_stripped_and_non_empty(prefix: str) -> None:
    result = _seed(prefix)
    assert result.paragraphs
    assert all(p and p == p.strip() for p in result.paragraphs)


# --- hand-written Korean --------------------------------------------------------------

KOREAN = """본문 바로가기
로그인
경제
정부, 반도체 수출통제 대응책 발표…"공급망 다변화 속도"
입력 2025.10.23 10:15 수정 2025.10.23 11:02

(서울=연합뉴스) 김철수 기자 = 정부가 미국의 대중 수출통제 검토에 대응해 공급망 대책을 내놓았다.

산업통상자원부는 23일 정부서울청사에서 관계부처 합동 회의를 열고 이같이 밝혔다.
회의 주재하는 산업부 장관 (서울=연합뉴스) 23일 회의에서 장관이 발언하고 있다. [사진=연합뉴스]
정부는 희토류 등 핵심 광물의 비축 물량을 두 배로 늘리고, 금융 지원도 확대하기로 했다.

kcs@yna.co.kr
ⓒ 연합뉴스, 무단 전재-재배포 금지
<저작권자(c) 연합뉴스, 무단 전재-재배포, AI 학습 및 활용 금지>

관련 기사
정부, 희토류 비축 확대 추진
美 상무부, 대중 수출통제 강화 검토
"""


def test_korean_title_follows_leading_chrome() -> None:
    title = clean_plain_text(KOREAN).title
    assert title == '정부, 반도체 수출통제 대응책 발표…"공급망 다변화 속도"'


def test_korean_wire_dateline_is_stripped_from_first_paragraph() -> None:
    result = clean_plain_text(KOREAN)
    assert result.paragraphs[0].startswith("정부가 미국의 대중 수출통제 검토에")
    assert ("(서울=연합뉴스) 김철수 기자 =", "byline") in result.removed


def test_korean_copyright_notices_are_dropped() -> None:
    result = clean_plain_text(KOREAN)
    assert ("ⓒ 연합뉴스, 무단 전재-재배포 금지", "copyright") in result.removed
    assert _dropped(result, "저작권자")


def test_korean_photo_caption_with_credit_is_dropped() -> None:
    result = clean_plain_text(KOREAN)
    assert _dropped(result, "사진=연합뉴스")


def test_korean_reporter_email_is_dropped() -> None:
    assert ("kcs@yna.co.kr", "byline") in clean_plain_text(KOREAN).removed


def test_korean_related_articles_list_ends_the_article() -> None:
    result = clean_plain_text(KOREAN)
    assert result.paragraphs[-1].startswith("정부는 희토류 등 핵심 광물의")
    assert _dropped(result, "희토류 비축 확대 추진")


def test_korean_input_and_modified_timestamps_are_dropped() -> None:
    assert _dropped(clean_plain_text(KOREAN), "입력 2025.10.23")


# --- hand-written Chinese -------------------------------------------------------------

CHINESE = """首页 > 国际 > 正文
原标题：美方考虑限制对华软件出口 中方回应
美方考虑限制对华软件出口 外交部：将采取坚决措施
来源：环球时报
2025-10-23 08:30:12

【环球时报记者 王磊】据路透社23日报道，美国政府正在考虑限制向中国出口使用美国软件生产的产品。

外交部发言人郭嘉昆21日表示，中方在中美经贸问题上的立场是一贯的、明确的。
10月9日，商务部宣布对稀土相关技术实施出口管制。
关税战、贸易战没有赢家，双方应在平等、尊重、互惠的基础上通过协商解决问题。
图片来源：视觉中国
本文来源：环球网
版权所有，未经许可不得转载。
（责任编辑：张三）

相关阅读
美国商务部公布新一轮出口管制措施
中国宣布对稀土相关技术实施出口管制
"""


def test_chinese_title_skips_breadcrumb_and_original_title() -> None:
    assert clean_plain_text(CHINESE).title == "美方考虑限制对华软件出口 外交部：将采取坚决措施"


def test_chinese_source_lines_are_dropped() -> None:
    removed = clean_plain_text(CHINESE).removed
    assert ("原标题：美方考虑限制对华软件出口 中方回应", "source") in removed
    assert ("来源：环球时报", "source") in removed
    assert ("本文来源：环球网", "source") in removed


def test_chinese_reprint_notice_and_editor_are_dropped() -> None:
    removed = clean_plain_text(CHINESE).removed
    assert ("版权所有，未经许可不得转载。", "copyright") in removed
    assert ("（责任编辑：张三）", "byline") in removed


def test_chinese_image_credit_is_dropped() -> None:
    assert ("图片来源：视觉中国", "credit") in clean_plain_text(CHINESE).removed


def test_chinese_reporter_bracket_is_stripped_from_first_paragraph() -> None:
    assert clean_plain_text(CHINESE).paragraphs[0].startswith("据路透社23日报道")


def test_chinese_paragraph_opening_with_a_date_is_kept() -> None:
    assert "10月9日，商务部宣布对稀土相关技术实施出口管制。" in clean_plain_text(CHINESE).paragraphs


def test_chinese_related_reading_list_is_dropped() -> None:
    result = clean_plain_text(CHINESE)
    assert result.paragraphs[-1].startswith("关税战、贸易战没有赢家")
    assert ("相关阅读", "related_header") in result.removed


# --- hand-written English -------------------------------------------------------------

ENGLISH = """Skip to main content
Menu
World
Fed holds rates steady as inflation cools
Fed holds rates steady as inflation cools
By Jane Doe, Reuters
Updated: October 23, 2025 10:15 AM ET

WASHINGTON (Reuters) - The Federal Reserve held interest rates steady on Wednesday, saying
inflation had cooled but remained above its target.

Fed Chair Jerome Powell told reporters the bank would watch the data before any further move.
Photo by John Smith/Getty Images
“We are not in a hurry”

Reporting by Jane Doe; Editing by Bob Roe
© 2025 Reuters. All rights reserved.
Share this article
Facebook Twitter LinkedIn Email
Related stories
Oil prices slip on demand worries
Stocks rally after jobs report
"""


def test_english_exact_title_repeat_is_dropped() -> None:
    result = clean_plain_text(ENGLISH)
    assert result.title == "Fed holds rates steady as inflation cools"
    assert ("Fed holds rates steady as inflation cools", "title_repeat") in result.removed


def test_english_hard_wrapped_sentence_is_joined() -> None:
    first = clean_plain_text(ENGLISH).paragraphs[0]
    assert first.endswith("Wednesday, saying inflation had cooled but remained above its target.")


def test_english_byline_and_credits_are_dropped() -> None:
    result = clean_plain_text(ENGLISH)
    for fragment in ("By Jane Doe", "Reporting by", "Photo by John Smith", "Updated: October"):
        assert _dropped(result, fragment), fragment


def test_english_share_row_and_copyright_are_dropped() -> None:
    result = clean_plain_text(ENGLISH)
    assert ("Facebook Twitter LinkedIn Email", "social") in result.removed
    assert ("© 2025 Reuters. All rights reserved.", "copyright") in result.removed


def test_english_quoted_last_line_is_kept_and_teasers_are_not() -> None:
    result = clean_plain_text(ENGLISH)
    assert result.paragraphs[-1] == "“We are not in a hurry”"
    assert _dropped(result, "Oil prices slip")


# --- false positives and edge cases ---------------------------------------------------

LONG_PHOTO_PARAGRAPH = (
    "The photographer said the source of the photo was a government official, who asked not "
    "to be named because he was not authorized to speak to the media about the matter, which "
    "remains sensitive for both sides and could complicate next week's talks. Photo"
)


def test_long_paragraph_mentioning_photo_and_source_is_kept() -> None:
    text = "Talks Stall Over Export Rules\n\n" + LONG_PHOTO_PARAGRAPH + "\n"
    assert clean_plain_text(text).paragraphs == [LONG_PHOTO_PARAGRAPH]


@pytest.mark.parametrize(
    "sentence",
    [
        "Share prices fell 3% on Tuesday after the company reported weaker earnings.",
        "He entered the building without permission, according to the police report.",
        "Sources said the deal could be announced as early as next week, officials added.",
        '그는 사진을 찍으며 "이번 협상이 중요하다"고 말했다고 관계자가 전했다.',
    ],
)
def test_ordinary_sentence_with_a_trigger_word_is_kept(sentence: str) -> None:
    text = f"Talks Stall Over Export Rules\n\n{sentence}\n"
    assert clean_plain_text(text).paragraphs == [sentence]


def test_text_opening_with_a_sentence_has_no_title() -> None:
    result = clean_plain_text("The talks began on Monday.\n\nBoth sides were upbeat.\n")
    assert result.title is None
    assert result.paragraphs == ["The talks began on Monday.", "Both sides were upbeat."]


def test_empty_text_gives_empty_result() -> None:
    assert clean_plain_text("") == CleanText(None, [], [])


def test_megabyte_single_line_returns_it_as_one_paragraph() -> None:
    text = "word " * 200_000
    result = clean_plain_text(text)
    assert result.title is None
    assert result.paragraphs == [text.strip()]


def test_nul_bytes_are_removed_not_fatal() -> None:
    result = clean_plain_text("Fed Holds Rates\x00 Steady\n\nThe bank\x00 held rates.\x00\n")
    assert result.title == "Fed Holds Rates Steady"
    assert result.paragraphs == ["The bank held rates."]


def test_hostile_text_without_newlines_returns_a_value() -> None:
    text = ("【" * 50_000) + ("(서울=연합뉴스 " * 20_000) + ("a" * 64 + "@") * 5_000
    result = clean_plain_text(text)
    assert isinstance(result, CleanText)
    assert len(result.paragraphs) == 1


# --- whole-page dumps and gold bodies of the shared corpus ----------------------------


def _records(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        pytest.fail(f"{path} is missing: the corpus ships with the checkout's ../shared")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _dump(name: str) -> tuple[str, str]:
    record = next(r for r in _records(CORPUS / "plaintext" / "gold.jsonl") if r["file"] == name)
    return (CORPUS / "plaintext" / "pages" / name).read_text(encoding="utf-8"), record["body"]


def _output(result: CleanText) -> str:
    return "\n".join([result.title or "", *result.paragraphs])


@pytest.mark.parametrize(
    "name",
    [
        "scrapinghub_aeb__0d46122928b6f468.txt",  # en: mega-menu, teasers, comment rules, footer
        "gne_pages__guancha_3.txt",  # zh: nav bar, comment thread with share rows
        "fundus_fixtures__kr_HankookIlbo_2025_05_15.txt",  # ko: menus and a related list
    ],
)
def test_a_whole_page_dump_comes_out_as_its_article(name: str) -> None:
    dump, gold = _dump(name)
    nothing = prf(tokens(dump), tokens(gold)).f1
    ours = prf(tokens(_output(clean_plain_text(dump))), tokens(gold))
    assert ours.f1 >= 0.9
    assert ours.f1 > nothing + 0.1


def test_a_dump_loses_its_menus_teasers_and_comment_rules_but_keeps_headings() -> None:
    dump, _gold = _dump("scrapinghub_aeb__0d46122928b6f468.txt")
    result = clean_plain_text(dump)
    assert result.title == "Nadal keeps Spain alive against Russia in Davis Cup Finals"
    assert result.paragraphs[0].startswith("MADRID — Rafael Nadal kept Spain’s hopes alive")
    assert "US FALLS" in result.paragraphs  # a short heading between paragraphs stays
    assert result.paragraphs[-1] == "Colombia had lost to Belgium on Monday."
    for chrome in ("Scoreboard", "More from Sportsnet", "When submitting content"):
        assert _dropped(result, chrome)


@pytest.mark.parametrize("lang", ["en", "zh", "ko"])
def test_dumps_of_each_language_score_at_least_the_goal(lang: str) -> None:
    scores = []
    for record in _records(CORPUS / "plaintext" / "gold.jsonl"):
        if record["lang"] == lang:
            dump = (CORPUS / "plaintext" / "pages" / record["file"]).read_text(encoding="utf-8")
            output = _output(clean_plain_text(dump))
            scores.append(prf(tokens(output), tokens(record["body"])).f1)
    assert sum(scores) / len(scores) >= 0.9


def test_gold_bodies_lose_under_one_percent_of_their_tokens() -> None:
    bodies = [r["body"] for r in _records(CORPUS / "plaintext" / "gold.jsonl")]
    for gold in sorted((CORPUS / "extraction").glob("*/gold.jsonl")):
        bodies.extend(r["body"] for r in _records(gold) if r.get("gold_type") == "full_body")
    lost = total = 0
    for body in bodies:
        want = Counter(tokens(body))
        lost += sum((want - Counter(tokens(_output(clean_plain_text(body))))).values())
        total += sum(want.values())
    assert len(bodies) > 200
    assert lost / total < 0.01


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("Join us on social!", None),
        ("This article aggregates information from publicly available sources.", None),
        ("Statement: This article represents the views of the author.", "disclaimer"),
        ("This story is not allowed to be reprinted without authorization.", "copyright"),
    ],
)
def test_seed_sentences_go_by_general_evidence_not_rules_that_quote_them(
    line: str, rule: str | None
) -> None:
    """Alone, the social line and the aggregation note are text (they go because they stand
    outside the article); the others match general labels ("Statement:", "reprinted without
    authorization"), not alternatives written for one seed."""
    assert line_rule(line) == rule


def test_a_caption_closed_by_a_credit_label_is_a_credit() -> None:
    assert line_rule("The minister speaks in Seoul on Monday. Photo: Reuters") == "credit"
    assert line_rule("Players celebrate the win. (Manu Fernandez/AP)") == "credit"
    assert line_rule("He said he had taken the photo himself.") is None
