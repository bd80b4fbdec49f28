"""Language identification on real corpus text: CJK scripts, mixed lines, documents."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from langdetect.detector_factory import DetectorFactory

from service.language import Detection, detect, detect_document, normalise_hint

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
LANGID = SHARED / "corpus" / "langid"
EXTRACTION = SHARED / "corpus" / "extraction"


@cache
def _rows() -> tuple[dict[str, Any], ...]:
    rows: list[dict[str, Any]] = []
    for path in sorted(LANGID.glob("*/data.jsonl")):
        rows.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(rows)


def _texts(lang: str, kind: str) -> list[str]:
    return [row["text"] for row in _rows() if row["lang"] == lang and row["kind"] == kind]


def _gold_lang_bodies(lang: str) -> list[str]:
    bodies = []
    for path in sorted(EXTRACTION.glob("*/gold.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["lang"] == lang and row["body"]:
                bodies.append(str(row["body"]))
    return bodies


def test_detection_is_repeatable_for_the_same_seed() -> None:
    texts = _texts("en", "word_pair")[:40]
    first = [detect(text) for text in texts]
    assert [detect(text) for text in texts] == first


def test_detection_does_not_depend_on_the_global_langdetect_seed() -> None:
    texts = _texts("en", "sentence")[:20]
    before = [detect(text, seed=7) for text in texts]
    DetectorFactory.seed = 12345  # what other code may do to the shared langdetect global
    try:
        assert [detect(text, seed=7) for text in texts] == before
    finally:
        DetectorFactory.seed = None


def test_korean_sentence_is_ko_in_hangul() -> None:
    result = detect(_texts("ko", "sentence")[0])
    assert (result.language, result.script) == ("ko", "Hang")
    assert result.confidence > 0.9


def _script_share(lines: list[str], script: str) -> float:
    assert lines
    return sum(detect(line) == Detection("zh", 1.0, script) for line in lines) / len(lines)


def test_traditional_chinese_lines_are_zh_hant() -> None:
    # Tatoeba has a few lines that mix both forms, so not every line can be Hant.
    lines = [t for t in _texts("zh", "short_sentence") if re.search("[們這個說會國來時]", t)]
    assert _script_share(lines, "Hant") >= 0.95


def test_simplified_chinese_lines_are_zh_hans() -> None:
    lines = [t for t in _texts("zh", "short_sentence") if re.search("[们这个说会国来时]", t)]
    assert _script_share(lines, "Hans") >= 0.95


def test_japanese_sentence_is_ja() -> None:
    result = detect(_texts("ja", "sentence")[0])
    assert (result.language, result.script) == ("ja", "Jpan")


def test_korean_line_with_english_words_stays_ko() -> None:
    line = next(t for t in _texts("ko", "mixed_sentence") if re.search("[A-Za-z]{2,}", t))
    assert detect(line).language == "ko"


def test_korean_document_quoting_english_paragraphs_stays_ko() -> None:
    korean = _texts("ko", "sentence")[:6]
    english = _texts("en", "sentence")[:3]
    paragraphs = [korean[0], english[0], korean[1], korean[2], english[1], korean[3], english[2]]
    result = detect_document(paragraphs)
    assert (result.language, result.script) == ("ko", "Hang")


def test_english_document_is_en() -> None:
    assert detect_document(_texts("en", "sentence")[:10]).language == "en"


def test_portuguese_page_is_reported_as_pt() -> None:
    bodies = _gold_lang_bodies("pt")
    assert bodies
    for body in bodies:
        assert detect_document(body.splitlines()).language == "pt"


def test_russian_page_is_reported_as_ru_in_cyrillic() -> None:
    body = _gold_lang_bodies("ru")[0]
    result = detect_document(body.splitlines())
    assert (result.language, result.script) == ("ru", "Cyrl")


def test_german_paragraph_is_reported_as_de() -> None:
    page = EXTRACTION / "trafilatura_eval" / "pages" / "hr-innovation.org.enterprise.html"
    html = page.read_text(encoding="utf-8")
    paragraph = next(
        p for p in re.findall(r"<p>([^<]{200,})</p>", html) if " und " in p and " die " in p
    )
    assert detect(paragraph).language == "de"


@pytest.mark.parametrize("text", ["", "   \n", "2024-07-01 12:30", "... !!! ???", "http://x.kr/a"])
def test_text_without_letters_is_undetermined(text: str) -> None:
    assert detect(text) == Detection("und", 0.0, None)


def test_empty_document_is_undetermined() -> None:
    assert detect_document(["", "  ", "12345"]) == Detection("und", 0.0, None)


def test_single_hangul_word_is_ko() -> None:
    words = _texts("ko", "single_word")
    assert all(detect(word).language == "ko" for word in words[:50])


@pytest.mark.parametrize("lang", ["ko", "zh", "ja"])
def test_cjk_corpus_lines_reach_99_percent(lang: str) -> None:
    rows = [row for row in _rows() if row["lang"] == lang]
    correct = sum(detect(row["text"]).language == lang for row in rows)
    assert correct / len(rows) >= 0.99


def test_english_corpus_sentences_reach_99_percent() -> None:
    rows = _texts("en", "sentence") + _texts("en", "short_sentence")
    correct = sum(detect(text).language == "en" for text in rows)
    assert correct / len(rows) >= 0.99


@pytest.mark.parametrize(
    "word",
    [
        "gender",
        "keeping",
        "january",
        "taken",
        "request",
        "steel",
        "magic",
        "jeremy",
        "fonts",
        "dialog",
    ],
)
def test_common_english_word_that_langdetect_misreads_is_en(word: str) -> None:
    assert detect(word).language == "en"


@pytest.mark.parametrize(
    ("word", "language"),
    [
        ("Straße", "de"),
        ("Bundesregierung", "de"),
        ("aujourd'hui", "fr"),
        ("mañana", "es"),
        ("gezellig", "nl"),
        ("città", "it"),
    ],
)
def test_non_english_single_word_keeps_its_language(word: str, language: str) -> None:
    assert detect(word).language == language


@pytest.mark.parametrize(
    "word", ["Montag", "lundi", "febrero", "ciao", "Januar", "hola", "zaterdag"]
)
def test_unaccented_word_more_common_in_another_language_is_not_en(word: str) -> None:
    assert detect(word).language != "en"


def test_short_english_sentence_is_en() -> None:
    assert detect("I love lasagna.").language == "en"


def test_word_prior_decisions_are_repeatable() -> None:
    words = ["taken", "steel", "Montag", "gezellig", "I love lasagna."]
    first = [detect(word) for word in words]
    assert [detect(word) for word in reversed(words)] == first[::-1]


@pytest.mark.parametrize(
    ("word", "language"),
    [("Montag", "de"), ("lundi", "fr"), ("hola", "es"), ("ciao", "it"), ("gracias", "es")],
)
def test_word_lists_correct_langdetects_pick_for_a_common_foreign_word(
    word: str, language: str
) -> None:
    """langdetect reads these as it, ro, cy, pt; how often each word is used decides."""
    assert detect(word).language == language


# --- language hints ---------------------------------------------------------------------
def _gold_first_paragraph(page: str) -> str:
    set_name = page.split("/", 1)[0]
    for line in (EXTRACTION / set_name / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["html"] == page:
            return str(row["body"]).splitlines()[0]
    raise KeyError(page)


# langdetect reads this AP lead as French (fr 0.71, en 0.29).
AP_LEAD = _gold_first_paragraph("scrapinghub_aeb/pages/eecd2575093b8593.html")


def test_a_hint_decides_a_short_word_that_several_languages_share() -> None:
    assert "garage" in _texts("en", "single_word")
    assert detect_document(["garage"]).language == "en"
    assert detect_document(["garage"], hint="fr") == Detection("fr", 0.5, "Latn")
    assert detect_document(["garage"], hint="de").language == "de"


def test_a_hint_decides_a_sentence_langdetect_is_split_on() -> None:
    assert AP_LEAD.startswith("LOS ANGELES (AP) — To LeBron James")
    assert detect_document([AP_LEAD]).language == "fr"
    assert detect_document([AP_LEAD], hint="en") == Detection("en", 0.5, "Latn")


def test_a_hint_does_not_decide_a_sentence_langdetect_is_sure_of() -> None:
    sentence = "All students must be questioned in order to ensure continuity."
    assert sentence in _texts("en", "sentence")
    assert detect_document([sentence], hint="fr") == detect_document([sentence])


def test_a_hint_reads_a_short_han_only_text_as_kanji_or_hanja() -> None:
    word = "工"
    assert word in _texts("zh", "single_word")
    assert detect_document([word]).language == "zh"
    assert detect_document([word], hint="ja") == Detection("ja", 0.5, "Jpan")
    assert detect_document([word], hint="ko") == Detection("ko", 0.5, "Kore")


def test_a_han_character_japanese_does_not_write_stays_chinese_with_a_ja_hint() -> None:
    assert "关" in _texts("zh", "single_word")
    assert detect_document(["关"], hint="ja").language == "zh"


@pytest.mark.parametrize("hint", ["en", "zh", "ja", "en-US"])
def test_a_hint_never_beats_hangul(hint: str) -> None:
    korean = _texts("ko", "sentence")[:3] + [_texts("ko", "single_word")[0]]
    for paragraphs in ([text] for text in korean):
        assert detect_document(paragraphs, hint=hint).language == "ko"


def test_a_korean_line_langdetect_reads_as_english_stays_korean_with_an_en_hint() -> None:
    line = next(t for t in _texts("ko", "mixed_sentence") if "Employee Representative" in t)
    assert detect_document([line], hint="en") == detect_document([line])
    assert detect_document([line]).language == "ko"


def test_a_long_english_article_stays_english_with_a_zh_or_de_hint() -> None:
    body = _gold_lang_bodies("en")[0].splitlines()
    assert len(" ".join(body)) > 1000
    for hint in ("zh", "zh-CN", "de", "ko"):
        assert detect_document(body, hint=hint) == detect_document(body)
    assert detect_document(body).language == "en"


def test_a_long_chinese_article_stays_chinese_with_a_ja_hint() -> None:
    body = _gold_lang_bodies("zh")[0].splitlines()
    assert detect_document(body, hint="ja") == detect_document(body)
    assert detect_document(body).language == "zh"


def test_a_hint_in_another_script_than_the_text_is_ignored() -> None:
    body = _gold_lang_bodies("ru")[0].splitlines()
    first = next(line for line in body if line.strip())
    short = " ".join(first.split()[:3])  # a few Cyrillic words: open among ru, uk, bg, mk
    assert detect_document([short], hint="en") == detect_document([short])
    assert detect_document([short], hint="uk").language == "uk"


@pytest.mark.parametrize("hint", ["", "  ", "xx", "klingon", "und", "12", "-", "zz-ZZ", "日本語"])
def test_an_unknown_or_garbage_hint_is_ignored(hint: str) -> None:
    for paragraphs in (["garage"], [AP_LEAD], ["工"]):
        assert detect_document(paragraphs, hint=hint) == detect_document(paragraphs)


@pytest.mark.parametrize(
    ("hint", "language"),
    [("en-US", "en"), ("zh-CN", "zh"), ("ko-KR", "ko"), ("zh-Hant-TW", "zh"), ("pt_BR", "pt"),
     (" JA ", "ja"), ("zh-tw", "zh"), ("nb-NO", "no"), ("xx", None), ("", None), (None, None)],
)  # fmt: skip
def test_hints_with_region_and_script_subtags_are_normalised(
    hint: str | None, language: str | None
) -> None:
    assert normalise_hint(hint) == language


def test_a_regional_hint_acts_as_its_language() -> None:
    assert detect_document(["garage"], hint="fr-CA") == detect_document(["garage"], hint="fr")
    assert detect_document(["工"], hint="ko-KR") == detect_document(["工"], hint="ko")


def test_the_faster_detector_computes_exactly_what_langdetect_does() -> None:
    from langdetect.detector import Detector

    from service._langdetect import _Detector, detector_factory

    odd = ["", "  a  b  ", "ABC DEF gHI x", "see www.x.com or a@b.cd", "x" * 40, "ภาษาไทย" * 20]
    texts = _texts("en", "sentence")[:30] + _texts("ko", "sentence")[:10] + odd
    texts += [body[:900] for lang in ("fr", "de", "ru") for body in _gold_lang_bodies(lang)[:3]]
    for text in texts:
        plain, fast = Detector(detector_factory()), _Detector(detector_factory())
        plain.seed = fast.seed = 3
        plain.append(text)
        fast.append(text)
        assert fast.text == plain.text
        appended = plain.text
        Detector.cleaning_text(plain)
        fast.cleaning_text()
        assert fast.text == plain.text
        ngrams = fast._extract_ngrams()
        assert ngrams == Detector._extract_ngrams(plain)
        if ngrams:  # the whole trial loop, from the appended text
            plain.text = fast.text = appended
            Detector._detect_block(plain)
            fast._detect_block()
            assert [p.hex() for p in fast.langprob] == [p.hex() for p in plain.langprob]
