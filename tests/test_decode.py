"""Decoding real corpus pages: legacy Chinese encodings, wrong declarations, BOMs, binaries."""

from __future__ import annotations

import gzip
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from service.decode import decode
from service.errors import DecodeError

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
EXTRACTION = SHARED / "corpus" / "extraction"
LANGID = SHARED / "corpus" / "langid"


_HAN = re.compile(r"[\u4e00-\u9fff]")


@cache
def _index() -> dict[str, dict[str, Any]]:
    lines = (EXTRACTION / "index.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["id"]: row for row in map(json.loads, lines)}


@cache
def _gold(page_set: str) -> dict[str, dict[str, Any]]:
    lines = (EXTRACTION / page_set / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["id"]: row for row in map(json.loads, lines)}


def _page(**wanted: object) -> tuple[dict[str, Any], bytes]:
    """The first indexed page whose fields match, with its raw bytes."""
    for row in _index().values():
        if all(row.get(key) == value for key, value in wanted.items()):
            return row, (EXTRACTION / row["html"]).read_bytes()
    raise LookupError(f"no page with {wanted}")


def _gold_han_found(row: dict[str, Any], text: str) -> float:
    """Share of the distinct Han characters of the gold body that the text contains."""
    gold = set(_HAN.findall(_gold(row["set"])[row["id"]]["body"]))
    return sum(ch in text for ch in gold) / len(gold)


def _langid(lang: str, kind: str) -> list[str]:
    rows = []
    for path in sorted(LANGID.glob("*/data.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["lang"] == lang and row["kind"] == kind:
                rows.append(row["text"])
    return rows


def test_gbk_page_without_declaration_is_detected_as_gb18030() -> None:
    row, body = _page(set="cwced_zh", declared_charset=None, bytes_utf8_valid=False)
    decoded = decode(body)
    assert (decoded.encoding, decoded.reason) == ("gb18030", "detected")
    assert _gold_han_found(row, decoded.text) > 0.95


def test_page_whose_meta_declares_gb2312_but_is_utf8_decodes_as_utf8() -> None:
    _, body = _page(set="gne_pages", declared_charset="gb2312", bytes_utf8_valid=True)
    decoded = decode(body)
    assert decoded.encoding == "utf-8"
    assert decoded.reason == "detected (declared gb2312 rejected: valid UTF-8)"
    assert len(_HAN.findall(decoded.text)) > 500


def test_wrong_http_charset_is_rejected_and_the_gbk_bytes_still_decode() -> None:
    row, body = _page(set="cwced_zh", declared_charset="gb2312", bytes_utf8_valid=False)
    decoded = decode(body, http_charset="utf-8")
    assert decoded.encoding == "gb18030"
    assert re.fullmatch(
        r"detected \(declared utf-8 rejected: \d+ replacement chars\)", decoded.reason
    )
    assert _gold_han_found(row, decoded.text) > 0.95


def test_gbk_page_declared_as_latin1_is_not_left_as_mojibake() -> None:
    row, body = _page(set="cwced_zh", declared_charset="gb2312", bytes_utf8_valid=False)
    decoded = decode(body, http_charset="iso-8859-1")
    assert decoded.encoding == "gb18030"
    assert "implausible" in decoded.reason
    assert _gold_han_found(row, decoded.text) > 0.95


def test_utf8_korean_page_decodes_with_its_declaration() -> None:
    row, body = _page(set="fundus_fixtures", lang="ko")
    decoded = decode(body)
    assert (decoded.encoding, decoded.reason) == ("utf-8", "meta-charset")
    assert _gold(row["set"])[row["id"]]["title"] in decoded.text


def test_english_page_decodes_as_utf8() -> None:
    row, body = _page(set="htmltotext_benchmark", lang="en")
    decoded = decode(body)
    assert decoded.encoding == "utf-8"
    assert _gold(row["set"])[row["id"]]["body"].split()[0] in decoded.text


def test_utf8_bom_wins_and_is_stripped() -> None:
    _, body = next(
        (row, data)
        for row, data in (_page(id=page_id) for page_id in _index())
        if data.startswith(b"\xef\xbb\xbf")
    )
    decoded = decode(body)
    assert (decoded.encoding, decoded.reason) == ("utf-8", "bom")
    assert not decoded.text.startswith("\ufeff")


def test_utf16_bom_decodes_a_korean_sentence() -> None:
    sentence = _langid("ko", "sentence")[0]
    decoded = decode(sentence.encode("utf-16"), is_html=False)
    assert (decoded.text, decoded.encoding, decoded.reason) == (sentence, "utf-16-le", "bom")


def test_http_charset_takes_precedence_over_meta_charset() -> None:
    _, body = _page(set="gne_pages", declared_charset="gb2312", bytes_utf8_valid=True)
    decoded = decode(body, http_charset="utf-8")
    assert (decoded.encoding, decoded.reason) == ("utf-8", "http-charset")


def test_gzipped_page_is_rejected_as_binary() -> None:
    _, body = _page(set="htmltotext_benchmark", lang="en")
    with pytest.raises(DecodeError) as raised:
        decode(gzip.compress(body))
    assert raised.value.reason == "binary_body"


@pytest.mark.parametrize("body", [b"", b" \r\n\t ", b"\xef\xbb\xbf  \n"])
def test_empty_or_blank_body_is_rejected(body: bytes) -> None:
    with pytest.raises(DecodeError) as raised:
        decode(body)
    assert raised.value.reason == "empty_body"


def test_undeclared_euc_kr_korean_decodes_as_cp949() -> None:
    text = "\n".join(_langid("ko", "sentence")[:5])
    decoded = decode(text.encode("euc-kr"), is_html=False)
    assert (decoded.text, decoded.encoding) == (text, "cp949")


def test_declared_euc_kr_korean_decodes_as_cp949() -> None:
    text = "\n".join(_langid("ko", "sentence")[:5])
    decoded = decode(text.encode("euc-kr"), http_charset="ks_c_5601-1987", is_html=False)
    assert (decoded.text, decoded.encoding, decoded.reason) == (text, "cp949", "http-charset")


def _traditional_sentences() -> str:
    lines = [s for s in _langid("zh", "short_sentence") if re.search("[們這個說會國來時]", s)]
    return "\n".join(line for line in lines if _encodable(line, "big5"))


def _encodable(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def test_undeclared_big5_traditional_chinese_decodes_as_big5() -> None:
    text = _traditional_sentences()
    decoded = decode(text.encode("big5"), is_html=False)
    assert (decoded.text, decoded.encoding) == (text, "big5hkscs")


def test_big5_declared_in_meta_is_used() -> None:
    text = _traditional_sentences()
    body = b'<meta charset="big5">' + text.encode("big5")
    decoded = decode(body)
    assert (decoded.encoding, decoded.reason) == ("big5hkscs", "meta-charset")
    assert decoded.text.endswith(text)


def test_meta_charset_is_ignored_for_non_html_bodies() -> None:
    text = "\n".join(_langid("ko", "sentence")[:5])
    body = b'<meta charset="gb2312">\n' + text.encode("utf-8")
    assert decode(body, is_html=False).reason == "detected"


# ---- charsets: only text codecs a page can be written in ----------------------------------

NOT_PAGE_CHARSETS = ["undefined", "base64", "rot13", "punycode", "idna", "hex", "zlib", "bz2",
                     "uu", "quopri", "utf-7", "unicode_escape"]  # fmt: skip
KOREAN_HTML = (
    "<html><body><p>서울에서 열린 정상회의에서 양국 정상은 합의문에 서명했다.</p></body></html>"
)


@pytest.mark.parametrize("label", NOT_PAGE_CHARSETS)
def test_a_charset_that_is_no_text_codec_counts_as_undeclared_in_the_header(label: str) -> None:
    decoded = decode(KOREAN_HTML.encode("utf-8"), http_charset=label)
    assert (decoded.text, decoded.encoding, decoded.reason) == (KOREAN_HTML, "utf-8", "detected")


@pytest.mark.parametrize("label", NOT_PAGE_CHARSETS)
def test_a_charset_that_is_no_text_codec_counts_as_undeclared_in_a_meta_tag(label: str) -> None:
    page = f'<meta charset="{label}">' + KOREAN_HTML
    decoded = decode(page.encode("euc-kr"))
    assert (decoded.text, decoded.encoding, decoded.reason) == (page, "cp949", "detected")


@pytest.mark.parametrize("label", NOT_PAGE_CHARSETS)
def test_an_ascii_page_declaring_no_text_codec_is_read_as_utf8(label: str) -> None:
    decoded = decode(b"<p>Plain words.</p>", http_charset=label)
    assert (decoded.encoding, decoded.reason) == ("utf-8", "default")


def test_a_seven_bit_page_is_decoded_with_the_codec_it_declares_and_that_is_recorded() -> None:
    text = "東京で会議が開かれた。"
    body = f'<meta charset="iso-2022-jp"><p>{text}</p>'.encode("iso2022_jp")
    assert body.isascii()
    decoded = decode(body)
    assert (decoded.encoding, decoded.reason) == ("iso2022_jp", "meta-charset")
    assert text in decoded.text


MOSTLY_UTF8 = (
    "<p>The café’s owner said the naïve plan worked – “mostly”.</p>" * 3
    + "<p>Plain English text follows here.</p>" * 40
).encode()


@pytest.mark.parametrize("where", ["header", "meta"])
def test_invalid_utf8_declared_as_utf8_gives_replacement_characters_not_mojibake(
    where: str,
) -> None:
    body = MOSTLY_UTF8.replace(b"Plain", b"Pl\xe9in", 2)
    if where == "meta":
        decoded = decode(b'<meta charset="utf-8">' + body)
    else:
        decoded = decode(body, http_charset="utf-8")
    assert decoded.encoding == "utf-8"
    assert "The café’s owner said the naïve plan worked – “mostly”." in decoded.text
    assert decoded.text.count("\ufffd") == 2


def test_undeclared_utf8_with_a_few_bad_bytes_stays_utf8() -> None:
    decoded = decode(MOSTLY_UTF8.replace(b"Plain", b"Pl\xe9in", 2))
    assert (decoded.encoding, decoded.reason) == ("utf-8", "detected")
    assert "café’s" in decoded.text
