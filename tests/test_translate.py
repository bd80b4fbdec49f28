"""The translation engine on the real zh->en argos package."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import sacrebleu

from service.segment import split_sentences
from service.translate import Engine, cut_tokens

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


def test_korean_path_uses_the_same_engine_when_a_ko_package_is_installed(
    packages_dir: Path, tmp_path: Path
) -> None:
    # No ko->en package exists here; relabel a copy of the zh one so that the Korean route
    # (ko sentence splitting, package lookup, batching, paragraph re-assembly) runs for real.
    zh = next(p for p in packages_dir.iterdir() if p.is_dir())
    ko = tmp_path / "translate-ko_en-test"
    ko.mkdir()
    for item in zh.iterdir():
        (ko / item.name).symlink_to(item)
    (ko / "metadata.json").unlink()
    meta = json.loads((zh / "metadata.json").read_text())
    (ko / "metadata.json").write_text(json.dumps({**meta, "from_code": "ko"}))
    paragraphs = ["美国财政部长表示，所有选项都在桌面上。", "他说，措施将与七国集团协调。"]
    result = Engine(tmp_path).translate_document("ko", None, paragraphs)
    assert result.status == "translated"
    assert result.model == "translate-ko_en-test@1.9"
    assert result.paragraphs_en is not None and len(result.paragraphs_en) == 2
    assert all(p.isascii() for p in result.paragraphs_en)
    shutil.rmtree(ko)


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
