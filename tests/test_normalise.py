"""Normalisation rules: NFC, whitespace, dates, URLs, ids."""

from __future__ import annotations

from service.normalise import (
    canonical_url,
    content_hash,
    document_id,
    normalise_date,
    normalise_paragraphs,
    normalise_text,
)


def test_text_is_nfc_with_single_spaces_and_no_invisible_characters() -> None:
    decomposed = "Cafe\u0301\u200b  news\u3000today\x00"
    assert normalise_text(decomposed) == "Caf\u00e9 news today"


def test_korean_jamo_sequences_compose_to_syllables() -> None:
    assert normalise_text("\u1112\u1161\u11ab") == "\ud55c"


def test_empty_and_repeated_paragraphs_are_dropped() -> None:
    assert normalise_paragraphs(["a", " ", "a", "b\nc"]) == ["a", "b c"]


def test_dates_become_iso_utc() -> None:
    assert normalise_date("2026-01-29") == "2026-01-29T00:00:00Z"
    assert normalise_date("2025-05-15T20:00:52+09:00") == "2025-05-15T11:00:52Z"
    assert normalise_date("yesterday") is None


def test_canonical_url_drops_fragment_default_port_and_host_case() -> None:
    assert (
        canonical_url("HTTPS://News.Example.COM:443/a?b=1#top") == "https://news.example.com/a?b=1"
    )
    assert canonical_url("ftp://x/y") is None


def test_id_comes_from_the_url_when_there_is_one_else_the_content() -> None:
    h1 = content_hash("t", "body")
    h2 = content_hash("t", "other body")
    assert document_id("https://a/1", h1) == document_id("https://a/1", h2)
    assert document_id(None, h1) != document_id(None, h2)
    assert len(document_id(None, h1)) == 32
