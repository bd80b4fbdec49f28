"""The translation engine on the real zh->en argos package."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sacrebleu

from service._glossary import GlossaryError, load_glossary
from service._protect import find_spans, kept, mask, repair, unmask
from service._quality import sentence_flags
from service.segment import cut_tokens, split_sentences
from service.translate import Engine

from .conftest import CORPUS


def _pairs(n: int) -> tuple[list[str], list[str]]:
    src, ref = [], []
    path = CORPUS / "translation/wmt19_newstest_zh-en/pairs.jsonl"
    with path.open(encoding="utf-8") as fh:
        for line, _ in zip(fh, range(n), strict=False):
            record = json.loads(line)
            src.append(record["src"])
            ref.append(record["ref"])
    return src, ref


def test_chinese_news_sentences_come_out_as_english_of_reference_quality(
    packages_dir: Path,
) -> None:
    src, ref = _pairs(40)
    out = Engine(packages_dir).translate_sentences("zh", src)
    assert len(out) == len(src)
    # The package scores about 48 chrF on WMT19 with this engine; 40 catches a broken path
    # (wrong tokenizer, lost pieces, U+2581 left in the text) without flaking.
    assert sacrebleu.corpus_chrf(out, [ref]).score > 40
    assert not any("\u2581" in line for line in out)


def test_paragraph_structure_survives_translation(packages_dir: Path) -> None:
    paragraphs = [
        "说它精密，是因为工程团队需要确保偏差非常之小。但是，我认为他的热情暗示了某些相反的东西。",
        "为督促厂家尽快完工，中国驻圣保罗总领馆组织专人赶赴厂家，深入做工作。",
        "本周，中国海关总署公布了统计数据。",
    ]
    result = Engine(packages_dir).translate_document("zh", "美国考虑软件出口管制", paragraphs)
    assert result.status == "translated"
    assert result.paragraphs_en is not None and len(result.paragraphs_en) == 3
    assert result.sentences == 5
    assert result.title_en and "export" in result.title_en.lower()
    assert "Sao Paulo" in result.paragraphs_en[1] or "São Paulo" in result.paragraphs_en[1]


def test_translation_is_deterministic(packages_dir: Path) -> None:
    src, _ = _pairs(8)
    assert Engine(packages_dir).translate_sentences("zh", src) == Engine(
        packages_dir
    ).translate_sentences("zh", src)


def test_an_over_long_sentence_is_cut_below_the_model_limit(packages_dir: Path) -> None:
    src, _ = _pairs(30)
    run_on = "，".join(s.rstrip("。") for s in src)  # one enormous "sentence"
    engine = Engine(packages_dir, max_sentence_tokens=64)
    [out] = engine.translate_sentences("zh", [run_on])
    # Every chunk was translated: the output is long, not truncated at the model limit.
    assert len(out.split()) > 300


def test_missing_korean_package_is_a_status_not_a_crash(packages_dir: Path) -> None:
    result = Engine(packages_dir).translate_document("ko", "제목", ["본문 문장입니다."])
    assert result.status == "missing_model"
    assert result.title_en is None and result.paragraphs_en is None
    assert result.detail and "ko->en" in result.detail


def _korean_package(zh: Path, target: Path) -> Path:
    """No ko->en package exists here: a copy of the zh one relabelled ko, so that the Korean
    route (ko splitting, package lookup, batching, re-assembly) runs for real."""
    ko = target / "translate-ko_en-test"
    ko.mkdir(parents=True)
    for item in zh.iterdir():
        (ko / item.name).symlink_to(item)
    (ko / "metadata.json").unlink()
    meta = json.loads((zh / "metadata.json").read_text())
    (ko / "metadata.json").write_text(json.dumps({**meta, "from_code": "ko"}))
    return ko


def test_korean_path_uses_the_same_engine_when_a_ko_package_is_installed(
    packages_dir: Path, tmp_path: Path
) -> None:
    zh = next(p for p in packages_dir.iterdir() if p.is_dir())
    ko = _korean_package(zh, tmp_path)
    paragraphs = [
        "정부는 22일 내년 경제성장률 전망치를 상향 조정했다고 밝혔다.",
        "그는 조치가 협의될 것이라고 말했다.",
    ]
    result = Engine(tmp_path).translate_document("ko", None, paragraphs)
    assert result.status == "translated"
    assert result.model == "translate-ko_en-test@1.9"
    assert result.paragraphs_en is not None and len(result.paragraphs_en) == 2
    assert result.routing == ()  # both paragraphs went through the ko package
    shutil.rmtree(ko)


def test_a_korean_article_quoting_chinese_and_english_routes_each_paragraph(
    packages_dir: Path, tmp_path: Path
) -> None:
    zh = next(p for p in packages_dir.iterdir() if p.is_dir())
    both = tmp_path / "both"
    _korean_package(zh, both)
    (both / zh.name).symlink_to(zh)
    quote_zh = "美国财政部长表示，所有选项都在桌面上。"
    quote_en = "Treasury Secretary Scott Bessent told reporters that all options remain open."
    paragraphs = [
        "정부는 22일 내년 경제성장률 전망치를 상향 조정했다고 밝혔다.",
        quote_zh,
        quote_en,
    ]
    engine = Engine(both)
    result = engine.translate_document("ko", "경제 전망", paragraphs)
    assert result.status == "translated" and result.model == "translate-ko_en-test@1.9"
    assert result.paragraphs_en is not None
    assert result.paragraphs_en[2] == quote_en  # byte for byte
    alone = engine.translate_document("zh", None, [quote_zh]).paragraphs_en
    assert alone is not None and result.paragraphs_en[1] == alone[0]
    assert list(result.routing) == [
        {"paragraph": 1, "language": "zh", "action": "translated"},
        {"paragraph": 2, "language": "en", "action": "kept"},
    ]


def test_english_needs_no_translation(packages_dir: Path) -> None:
    result = Engine(packages_dir).translate_document("en", "Title", ["Body."])
    assert result.status == "not_needed"
    assert result.paragraphs_en == ["Body."]


def _documents() -> list[tuple[str | None, list[str]]]:
    """Four documents of different shapes cut from WMT19 news sentences."""
    src, _ = _pairs(24)
    return [
        (src[0], ["".join(src[1:4]), src[4]]),
        (None, ["".join(src[5:9])]),
        ("美国考虑软件出口管制", [src[9], "".join(src[10:14]), src[14]]),
        (src[15], ["".join(src[16:20]), "".join(src[20:24])]),
    ]


def test_a_batch_of_documents_translates_exactly_as_each_document_alone(
    packages_dir: Path,
) -> None:
    docs = _documents()
    engine = Engine(packages_dir)
    batched = engine.translate_documents("zh", docs)
    alone = [engine.translate_document("zh", title, paragraphs) for title, paragraphs in docs]
    assert [(r.title_en, r.paragraphs_en) for r in batched] == [
        (r.title_en, r.paragraphs_en) for r in alone
    ]


def test_a_batch_of_documents_is_one_pass_through_the_model(packages_dir: Path) -> None:
    docs = _documents()
    engine = Engine(packages_dir)
    engine.translate_documents("zh", docs)
    sentences = sum(len(split_sentences(p, "zh")) for t, ps in docs for p in [t or "", *ps])
    assert engine.stats.sentences_translated == sentences
    # Length groups, not one call per document or per sentence.
    assert engine.stats.model_calls < sentences // 2


def test_each_batched_document_keeps_its_own_paragraph_structure(packages_dir: Path) -> None:
    docs = _documents()
    results = Engine(packages_dir).translate_documents("zh", docs)
    assert [r.status for r in results] == ["translated"] * len(docs)
    assert [len(r.paragraphs_en or []) for r in results] == [len(ps) for _, ps in docs]
    assert [r.title_en is None for r in results] == [t is None for t, _ in docs]
    assert [r.sentences for r in results] == [
        sum(len(split_sentences(p, "zh")) for p in [t or "", *ps]) for t, ps in docs
    ]


def test_a_sentence_repeated_across_documents_is_translated_once(packages_dir: Path) -> None:
    boilerplate = "本文来源：新华社。"
    docs: list[tuple[str | None, list[str]]] = [
        (None, ["美国财政部长表示，所有选项都在桌面上。", boilerplate]),
        (None, ["他说，措施将与七国集团协调。", boilerplate]),
    ]
    engine = Engine(packages_dir)
    results = engine.translate_documents("zh", docs)
    assert engine.stats.sentences_requested == 4
    assert engine.stats.sentences_translated == 3
    assert results[0].paragraphs_en and results[1].paragraphs_en
    assert results[0].paragraphs_en[1] == results[1].paragraphs_en[1]


def test_a_batch_for_a_missing_package_marks_every_document_missing_model(
    packages_dir: Path,
) -> None:
    results = Engine(packages_dir).translate_documents("ko", [("제목", ["본문."]), (None, ["둘"])])
    assert [r.status for r in results] == ["missing_model", "missing_model"]
    assert all(r.paragraphs_en is None for r in results)


def test_a_batch_of_english_documents_needs_no_translation(packages_dir: Path) -> None:
    results = Engine(packages_dir).translate_documents("en", [("T", ["A.", "B."]), (None, ["C."])])
    assert [(r.status, r.title_en, r.paragraphs_en) for r in results] == [
        ("not_needed", "T", ["A.", "B."]),
        ("not_needed", None, ["C."]),
    ]


def test_an_empty_batch_gives_no_results(packages_dir: Path) -> None:
    assert Engine(packages_dir).translate_documents("zh", []) == []


def test_an_over_long_token_list_is_cut_after_clause_punctuation() -> None:
    tokens = ["▁a"] * 7 + ["，"] + ["▁b"] * 12
    chunks = cut_tokens(tokens, 10)
    assert chunks[0] == ["▁a"] * 7 + ["，"]
    assert all(len(c) <= 10 for c in chunks)
    assert [t for c in chunks for t in c] == tokens


def test_a_token_list_without_punctuation_is_cut_hard_at_the_limit() -> None:
    chunks = cut_tokens(["▁x"] * 25, 10)
    assert [len(c) for c in chunks] == [10, 10, 5]


# ---- paragraph routing (#16) --------------------------------------------------------------

ENGLISH_QUOTE = (
    "Treasury Secretary Scott Bessent told reporters on Tuesday that all options remain on "
    "the table, and that the measures would be coordinated with the G7."
)


def test_english_paragraphs_inside_a_chinese_document_come_out_byte_identical(
    packages_dir: Path,
) -> None:
    paragraphs = [
        "美国财政部长周二表示，所有选项都在桌面上。",
        ENGLISH_QUOTE,
        "他说，措施将与七国集团协调。",
        "“We are not going to negotiate in public,” he said.",
        "2025-08-12 10:30",
    ]
    title = "Bessent: all options on the table"
    result = Engine(packages_dir).translate_document("zh", title, paragraphs)
    assert result.status == "translated" and result.paragraphs_en is not None
    assert result.title_en == title
    assert [result.paragraphs_en[i] for i in (1, 3, 4)] == [paragraphs[i] for i in (1, 3, 4)]
    assert result.paragraphs_en[0].isascii() and result.paragraphs_en[2].isascii()
    assert list(result.routing) == [
        {"paragraph": None, "language": "en", "action": "kept"},
        {"paragraph": 1, "language": "en", "action": "kept"},
        {"paragraph": 3, "language": "en", "action": "kept"},
        {"paragraph": 4, "language": "und", "action": "kept"},
    ]
    assert result.sentences == 2  # only the Chinese paragraphs went to the model


def test_a_paragraph_in_a_language_without_a_package_is_kept_and_flagged(
    packages_dir: Path,
) -> None:
    french = "Le ministre a déclaré que la situation était grave et que le gouvernement agirait."
    result = Engine(packages_dir).translate_document(
        "zh", None, ["本周，中国海关总署公布了统计数据。", french]
    )
    assert result.paragraphs_en is not None and result.paragraphs_en[1] == french
    assert list(result.routing) == [{"paragraph": 1, "language": "fr", "action": "unsupported"}]
    assert result.quality is not None and result.quality["flags"] == ["untranslated"]
    assert result.quality["score"] < 1


def test_a_mixed_script_paragraph_is_translated_by_its_main_language(packages_dir: Path) -> None:
    chinese_naming = "另一名解说员 Scott Russel 也代表拜伦致歉。"
    english_naming = "The spokesman for the ministry (外交部) declined to comment on the report."
    result = Engine(packages_dir).translate_document("zh", None, [chinese_naming, english_naming])
    assert result.paragraphs_en is not None
    assert "Scott Russel " in result.paragraphs_en[0] and result.paragraphs_en[0].isascii()
    assert result.paragraphs_en[1] == english_naming
    assert list(result.routing) == [{"paragraph": 1, "language": "en", "action": "kept"}]


# ---- protected spans (#16) ----------------------------------------------------------------


def test_names_numbers_urls_and_addresses_in_chinese_sentences_come_through_unchanged(
    packages_dir: Path,
) -> None:
    cases = {
        # the plain translation says "Russell", "three hours", "Queensfrey", "ticagelor"
        "另一名解说员 Scott Russel 也代表拜伦致歉": ["Scott Russel"],
        "一对来自法国的夫妻在活动现场逗留了近3个小时。": ["3 hours"],
        "工程师们已经把昆斯费里大桥 (Queensferry Crossing) 的北桥面和高架桥连接到一起。": [
            "Queensferry Crossing"
        ],
        "抗凝血药替卡格雷 (ticagrelor) 可降低心脏病患者的心脏病复发风险。": ["ticagrelor"],
        "截至7月底，中亚班列集装箱到发量突破6.4万标箱，较2015年同期增长8%。": [
            "64,000", "2015", "8%"
        ],
        "详情请访问 https://www.example.com/news?id=42 或发邮件至 press@example.com 。": [
            "https://www.example.com/news?id=42", "press@example.com"
        ],
        "网友纷纷在社交媒体上使用 #MeToo 标签声援。": ["#MeToo"],
    }  # fmt: skip
    engine = Engine(packages_dir)
    out = engine.translate_sentences("zh", list(cases))
    for (source, wanted), english in zip(cases.items(), out, strict=True):
        for piece in wanted:
            assert piece in english, (source, english)
    assert engine.stats.sentences_masked >= 3


def test_protection_keeps_spans_on_dev_sentences_and_can_be_turned_off(packages_dir: Path) -> None:
    src, ref = _pairs(60)
    with_spans = [(s, r) for s, r in zip(src, ref, strict=True) if find_spans(s)]
    sources = [s for s, _ in with_spans]
    protected = Engine(packages_dir).translate_sentences("zh", sources)
    plain = Engine(packages_dir, protect=False).translate_sentences("zh", sources)

    def kept_share(outputs: list[str]) -> float:
        spans = [(sp, o) for s, o in zip(sources, outputs, strict=True) for sp in find_spans(s)]
        return sum(kept(sp, o) for sp, o in spans) / len(spans)

    assert kept_share(protected) >= 0.97 > kept_share(plain)
    refs = [r for _, r in with_spans]
    chrf = sacrebleu.corpus_chrf(protected, [refs]).score
    assert chrf >= sacrebleu.corpus_chrf(plain, [refs]).score - 1.0


def test_spans_are_found_with_the_english_they_must_come_out_as() -> None:
    spans = find_spans(
        "占GDP10%，2015年达到6.4万标箱、3300余万元和220亿元；8月，iPhone 7 Plus 售价 $649。"
    )
    assert [(s.kind, s.text, s.english) for s in spans] == [
        ("latin", "GDP", "GDP"),
        ("number", "10%", "10%"),
        ("number", "2015", "2015"),
        ("magnitude", "6.4万", "64,000"),
        ("magnitude", "3300余万", "33 million"),
        ("magnitude", "220亿", "22 billion"),
        ("latin", "iPhone 7 Plus", "iPhone 7 Plus"),
        ("number", "$649", "$649"),
    ]  # 8月 is a month: the model writes "August", so it is not a span


def test_masked_spans_are_put_back_and_a_lost_stand_in_is_noticed() -> None:
    source = "第10位的 Scott Russel 称增长8%。"
    spans = find_spans(source)
    masked = mask(source, spans)
    assert "Scott" not in masked.text and "10" not in masked.text
    number, name, percent = (slot.stand_in for slot in masked.slots)
    output = f"Scott, {name}, in {number}th place, said growth was {percent[:-1]} per cent."
    assert unmask(output, masked) == "Scott, Scott Russel, in 10th place, said growth was 8%."
    assert unmask(output.replace(name, ""), masked) is None


def test_a_near_miss_of_a_name_is_put_right() -> None:
    spans = find_spans("另一名解说员 Scott Russel 也代表拜伦致歉")
    assert repair("Another interpreter, Scott Russell, apologizes.", spans) == (
        "Another interpreter, Scott Russel, apologizes."
    )
    assert repair("Someone else entirely apologizes.", spans) == "Someone else entirely apologizes."


# ---- quality signals (#16) ----------------------------------------------------------------


def test_quality_flags_a_loop_a_copy_a_far_length_and_a_cut_sentence() -> None:
    source = "开普勒测量了这个星团中恒星的自转速度。"
    assert sentence_flags(source, "Kepler measured the rotation of the stars.", "zh") == set()
    assert "repetition" in sentence_flags(
        source, "Kepler measures the rate of the star of the star of the star.", "zh"
    )
    assert "untranslated" in sentence_flags(source, source, "zh")
    assert "length_ratio" in sentence_flags(source, "Kepler.", "zh")
    assert "truncated" in sentence_flags(source, "Kepler measured the rotation of the", "zh")
    assert "truncated" in sentence_flags(source, "Kepler measured it.", "zh", hit_limit=True)


def test_a_translated_document_carries_its_quality(packages_dir: Path) -> None:
    src, _ = _pairs(6)
    result = Engine(packages_dir).translate_document("zh", None, src)
    assert result.quality is not None
    assert result.quality["flags"] == [] and result.quality["score"] == 1.0
    assert result.quality["spans"]["total"] == result.quality["spans"]["kept"] > 0
    assert result.as_dict()["quality"] == result.quality


# ---- glossary (#16) -----------------------------------------------------------------------


def test_glossary_terms_come_out_as_the_deployment_wants(packages_dir: Path) -> None:
    glossary = {"zh": {"贝森特": "Scott Bessent", "中美": "China–US"}}
    sentences = ["美国财政部长贝森特周二表示，中美谈判取得进展。", "贝森特说，他对此感到乐观。"]
    plain = Engine(packages_dir).translate_sentences("zh", sentences)
    assert not any("Scott Bessent" in p for p in plain)
    out = Engine(packages_dir, glossary=glossary).translate_sentences("zh", sentences)
    assert all("Scott Bessent" in o for o in out)
    assert "China–US" in out[0]
    info = Engine(packages_dir).package_for("zh")
    assert info is not None
    scopes = {Engine(packages_dir, glossary=g).cache_scope(info).variant for g in ({}, glossary)}
    assert len(scopes) == 2  # a new glossary never reads translations made without it


def test_the_shipped_glossary_is_empty_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[1] / "config/glossary.toml"
    assert load_glossary(shipped) == {}
    assert load_glossary(tmp_path / "absent.toml") == {}
    good = tmp_path / "g.toml"
    good.write_text('[zh]\n"中美" = "China–US"\n[ko]\n"한미" = "South Korea–US"\n')
    assert load_glossary(good) == {"zh": {"中美": "China–US"}, "ko": {"한미": "South Korea–US"}}
    for bad in ('"中美" = "China–US"\n', '[zh]\n"中美" = ""\n', "[zh\n"):
        (tmp_path / "bad.toml").write_text(bad)
        with pytest.raises(GlossaryError, match="bad.toml"):
            load_glossary(tmp_path / "bad.toml")


# ---- translation scope (#16) --------------------------------------------------------------


def test_lead_and_title_scopes_translate_less_and_say_so(packages_dir: Path) -> None:
    src, _ = _pairs(8)
    title, paragraphs = "美国考虑软件出口管制", src[:6]
    engine = Engine(packages_dir, lead_paragraphs=2)
    full, lead, only_title = engine.translate_documents(
        "zh", [(title, paragraphs)] * 3, ["full", "lead", "title"]
    )
    assert (full.scope, full.paragraphs_translated, len(full.paragraphs_en or [])) == ("full", 6, 6)
    assert (lead.scope, lead.paragraphs_translated) == ("lead", 2)
    assert lead.paragraphs_en == (full.paragraphs_en or [])[:2]
    assert (only_title.scope, only_title.paragraphs_en) == ("title", [])
    assert lead.title_en == only_title.title_en == full.title_en
    assert only_title.sentences == 1
    assert only_title.as_dict()["paragraphs_translated"] == 0
