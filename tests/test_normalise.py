"""Normalisation rules: NFC, whitespace, dates, URLs, ids."""

from __future__ import annotations

import httpx
import pytest

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


def test_canonical_url_drops_tracking_parameters_and_fragments() -> None:
    url = (
        "HTTPS://News.Example.COM:443/world/story.html?utm_source=rss&utm_medium=feed&id=42"
        "&fbclid=abc&gclid=def&UTM_Campaign=x&mtm_kwd=y&xtor=RSS-1#comments"
    )
    assert canonical_url(url) == "https://news.example.com/world/story.html?id=42"
    assert canonical_url("/a/b?utm_term=x", "http://h.example/feed") == "http://h.example/a/b"
    assert canonical_url("javascript:alert(1)") is None
    assert canonical_url("mailto:a@b.example") is None


def test_canonical_url_sorts_parameters_and_keeps_those_that_name_the_article() -> None:
    """courlan's tracker list would drop cid, gallery and source: on some sites they are the
    article, and two articles under one id overwrite each other."""
    assert (
        canonical_url("http://h.example/show.php?id=7&cid=3&gallery=2&source=x&empty=")
        == "http://h.example/show.php?cid=3&empty=&gallery=2&id=7&source=x"
    )
    assert canonical_url("http://h.example/a?b=2&a=1") == canonical_url(
        "http://h.example/a?a=1&b=2"
    )


@pytest.mark.parametrize(
    "url",
    [
        'http://h.example/a b/中文?q=中文 x&b="<>|&utm_source=1',
        "http://user:pw@H.Example./a+b;c@d&para?z=1&a=1",
        "http://xn--mnchen-3ya.de/%e4%b8%ad?q=%E4",
        "http://[::1]:8080/x?z=1",
    ],
)
def test_canonical_url_is_idempotent_and_agrees_with_the_fetched_form(url: str) -> None:
    """A feed item is fetched by its canonical URL and the document id comes from the URL
    the fetch ended at (httpx's form of it): both must canonicalise alike."""
    canonical = canonical_url(url)
    assert canonical is not None
    assert canonical_url(canonical) == canonical
    assert canonical_url(str(httpx.URL(canonical))) == canonical
    assert canonical_url(str(httpx.URL(url))) == canonical


def test_canonical_url_refuses_junk_from_a_canonical_link() -> None:
    assert canonical_url("http://[::1") is None
    assert canonical_url("http://x.example:99999/") is None
    assert canonical_url("  ") is None and canonical_url(None) is None


def test_id_comes_from_the_url_when_there_is_one_else_the_content() -> None:
    h1 = content_hash("t", "body")
    h2 = content_hash("t", "other body")
    assert document_id("https://a/1", h1) == document_id("https://a/1", h2)
    assert document_id(None, h1) != document_id(None, h2)
    assert len(document_id(None, h1)) == 32
