"""service/scripts.py: one definition of the CJK and Hangul ranges for every stage."""

from __future__ import annotations

import re

import pytest

from service.scripts import (
    HAN,
    HANGUL,
    Script,
    display_width,
    is_han,
    is_hangul,
    script_of,
    text_weight,
    wide_count,
)


def test_the_regex_classes_and_the_predicates_agree_on_every_code_point() -> None:
    han, hangul = re.compile(f"[{HAN}]"), re.compile(f"[{HANGUL}]")
    for code in range(0x40000):
        ch = chr(code)
        assert bool(han.fullmatch(ch)) == is_han(ch), hex(code)
        assert bool(hangul.fullmatch(ch)) == is_hangul(ch), hex(code)


@pytest.mark.parametrize(
    ("ch", "script"),
    [("한", Script.HANGUL), ("ㄱ", Script.HANGUL), ("中", Script.HAN), ("𠀀", Script.HAN),
     ("の", Script.KANA), ("・", None), ("a", Script.LATIN), ("Ж", Script.CYRILLIC),
     ("7", None), ("。", None)],
)  # fmt: skip
def test_script_of_names_the_script_of_a_letter(ch: str, script: str | None) -> None:
    assert script_of(ch) == script


def test_display_width_counts_cjk_hangul_and_fullwidth_forms_as_two_columns() -> None:
    assert display_width("abc") == 3
    assert display_width("한국어 text") == 8 + 3
    assert display_width("中文，ＡＢ") == 10


def test_text_weight_counts_a_cjk_character_as_three_letters() -> None:
    assert text_weight("abc") == 3
    assert text_weight("中文") == 6
    assert text_weight("ＡＢ") == 2  # full-width Latin is a letter each, not CJK text
    assert wide_count("서울 Seoul 首尔") == 4
