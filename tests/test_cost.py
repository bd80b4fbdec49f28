"""Cheap input must never cost the service dearly (issue #13): pages with too many elements or
nested too deep, texts with too many lines, and the patterns that read untrusted text.

Sizes are the smallest that make each point, plus one real-sized case per class (the 9.9 MB
page of ``<p>a</p>``, a gzip bomb of tiny divs, five million lines). Growth is asserted as a
ratio between two input sizes, never as an absolute time: a linear function takes about 4x as
long on 4x the input, a quadratic one 16x. Each linear rewrite is also checked to find what the
pattern it replaces found (the old patterns are kept here, as the specification).
"""

from __future__ import annotations

import gzip
import re
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service import extract as extract_module
from service._cost import check_markup, check_text, strip_doctype
from service._trafilatura import INTERNALS, PUBLIC
from service.cleanup import clean_plain_text
from service.decode import decode
from service.errors import ExtractionError
from service.extract import (
    _canonical_from_html,
    _json_strings,
    _split_authors,
    _title_from_html,
    extract_html,
    extract_text,
    strip_section_suffixes,
    strip_site_suffix,
)
from service.language import _without_addresses, detect, detect_document

ARTICLE = "<p>" + "The council approved the budget after a long debate on Tuesday. " * 6 + "</p>"
PAGE = "<html><head><title>Budget</title></head><body><article>{}</article></body></html>"


def reason(call: Callable[[], object]) -> str:
    with pytest.raises(ExtractionError) as raised:
        call()
    return raised.value.reason


# ---- elements and depth -------------------------------------------------------------------


def test_a_page_of_tiny_paragraphs_under_the_size_cap_is_refused_before_parsing() -> None:
    page = "<html><body>" + "<p>a</p>" * 1_240_000 + "</body></html>"  # 9.9 MB
    assert reason(lambda: extract_html(page)) == "too_many_elements"


def test_a_gzip_bomb_of_tiny_divs_stops_at_the_element_limit() -> None:
    bomb = gzip.compress(b"<html><body>" + b"<div>a</div>" * 1_600_000, 9)
    assert len(bomb) < 100_000
    text = decode(gzip.decompress(bomb), "utf-8").text
    assert reason(lambda: extract_html(text)) == "too_many_elements"


def test_the_element_limit_counts_elements_not_tag_like_script_text() -> None:
    script = "<script>for(i=0;i<n;i++){a[i]=b<c}</script>" * 40
    page = PAGE.format(ARTICLE + script)
    check_markup(page, max_elements=60)
    assert extract_html(page, max_elements=60).paragraphs


def test_one_element_over_the_limit_is_refused() -> None:
    page = "<html><head></head><body>" + "<p>a</p>" * 97 + "</body></html>"  # 100 elements
    check_markup(page, max_elements=100)
    assert reason(lambda: check_markup(page + "<p>b</p>", max_elements=100)) == (
        "too_many_elements"
    )


def test_a_page_nested_past_the_parsers_depth_is_refused_not_cut_short() -> None:
    page = "<html><body>" + "<div>" * 300 + ARTICLE + "</div>" * 300 + "</body></html>"
    assert reason(lambda: extract_html(page)) == "too_deep"


def test_the_depth_limit_is_a_setting() -> None:
    def nested(depth: int) -> str:
        return "<html><body>" + "<div>" * depth + ARTICLE + "</div>" * depth + "</body></html>"

    assert reason(lambda: extract_html(nested(40), max_depth=30)) == "too_deep"
    assert extract_html(nested(20), max_depth=30).paragraphs


def test_embedded_html_fragments_are_tried_a_bounded_number_of_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fragment = '"' + "<p>Another paragraph of embedded text for the reader.</p>" * 10 + '"'
    script = "<script>self.__next_f.push([" + ",".join([fragment] * 80) + "])</script>"
    page = PAGE.format("<p>Short.</p>" + script)
    calls = 0
    real = extract_module._fragment_tree

    def counted(*args: object) -> object:
        nonlocal calls
        calls += 1
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(extract_module, "_fragment_tree", counted)
    extract_html(page)
    assert calls == extract_module._MAX_EMBEDDED_FRAGMENTS


# ---- lines --------------------------------------------------------------------------------


def test_five_million_lines_are_refused() -> None:
    assert reason(lambda: extract_text("a\n" * 5_000_000)) == "too_many_lines"


def test_ten_million_blank_lines_from_a_small_gzip_are_refused() -> None:
    bomb = gzip.compress(b"Title of the story\n" + b"\n" * 10_000_000, 9)
    assert len(bomb) < 30_000
    text = decode(gzip.decompress(bomb), None, is_html=False).text
    assert reason(lambda: extract_text(text)) == "too_many_lines"


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\u2028", "\x0c", "\x1e", "\x85"])
def test_every_line_break_the_cleaner_splits_on_counts(newline: str) -> None:
    assert reason(lambda: check_text(f"a{newline}" * 101, max_lines=100)) == "too_many_lines"


def test_a_line_over_the_limit_is_refused() -> None:
    text = "Title\n\n" + "word " * 30 + "\n" + "x" * 1001 + "\nlast line"
    assert reason(lambda: check_text(text, max_line_chars=1000)) == "line_too_long"
    assert reason(lambda: check_text("x" * 1001, max_line_chars=1000)) == "line_too_long"
    check_text(text, max_line_chars=1001)


def test_a_text_within_the_limits_is_extracted_as_before() -> None:
    text = "A Headline For The Story\n\n" + "\n".join(
        f"Paragraph {i} says something plain about the budget." for i in range(5000)
    )
    assert extract_text(text) == extract_text(text, max_lines=10**9, max_line_chars=10**9)


# ---- linear patterns ----------------------------------------------------------------------

_FLOOR_SECONDS = 0.005  # below this, timings on a shared CI box are noise


def _seconds(work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def assert_linear(function: Callable[[str], object], make: Callable[[int], str], n: int) -> None:
    """``function`` on 4n takes less than 10x as long as on n (quadratic would be 16x)."""
    small, large = make(n), make(4 * n)
    before = max(_seconds(lambda: function(small)), _FLOOR_SECONDS)
    ratio = _seconds(lambda: function(large)) / before
    assert ratio < 10, f"{ratio:.1f}x the time on 4x the input"


GROWTH: dict[str, tuple[Callable[[str], object], Callable[[int], str], int]] = {
    "unclosed <title> tags": (_title_from_html, lambda n: "<title>" * n, 6_000),
    "unclosed <link> tags": (_canonical_from_html, lambda n: "<link rel=x " * n, 4_000),
    "blank run before a site suffix": (
        lambda blanks: strip_site_suffix("News" + blanks + "| Sport | Site!", "Site"),
        lambda n: " " * n,
        5_000,
    ),
    "section tails": (strip_section_suffixes, lambda n: "headline" + "_x" * n, 100_000),
    "blank run in authors": (_split_authors, lambda n: "Jane" + " " * n + "Doe", 20_000),
    "escaped quotes in script": (
        lambda code: list(_json_strings(code)),
        lambda n: '"' + '\\"' * n + "\\\n",
        20_000,
    ),
    "address-like token": (_without_addresses, lambda n: "a" * n + "@", 20_000),
    "dotted address token": (_without_addresses, lambda n: "a@" * n + "." * n, 10_000),
    "long token in detection": (detect, lambda n: "word " * 50 + "x" * n + "@", 20_000),
    "long tokens per paragraph": (
        lambda token: detect_document([token] * 10),
        lambda n: "y" * n + "@",
        1_000,
    ),
    "lines for the cleaner": (
        clean_plain_text,
        lambda n: "\n".join([("may not copy " * 30)[:249]] * n),  # the slowest rule's worst
        100,
    ),
    "JSON-LD full of tag openers": (
        extract_html,
        lambda n: PAGE.format(
            ARTICLE + f'<script type="application/ld+json">["{"<" * n}"]</script>'
        ),
        60_000,
    ),
    "slashes in a doctype line": (INTERNALS.load_html, lambda n: "<!DOCTYPE " + "/" * n, 20_000),
    "slashes in a doctype line, public API": (
        PUBLIC.load_html,
        lambda n: "<!DOCTYPE " + "/" * n,
        20_000,
    ),
    "meta tags without a charset": (
        lambda text: decode(text.encode()),
        lambda n: "<meta " * n + "charset " * n + "<p>é</p>",
        3_000,
    ),
}


@pytest.mark.parametrize("case", sorted(GROWTH))
def test_untrusted_text_is_read_in_linear_time(case: str) -> None:
    assert_linear(*GROWTH[case])


# The patterns the linear code replaced: what it must still find.
OLD_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
OLD_CANONICAL = re.compile(r"<link\b[^>]*\brel=[\"']?canonical[\"']?[^>]*>", re.IGNORECASE)
OLD_HREF = re.compile(r"\bhref=[\"']([^\"']+)[\"']", re.IGNORECASE)
OLD_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
OLD_ADDRESSES = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.IGNORECASE)
OLD_SEPARATORS = "|\\-\u2013\u2014\u3163:_\u00b7"
OLD_DOCTYPE = re.compile("^< ?! ?DOCTYPE[^>]*/[^<>]*>", re.IGNORECASE)
SAME = settings(max_examples=200, derandomize=True, database=None, deadline=None)


def pieces(*options: str) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(options), max_size=14).map("".join)


@SAME
@given(pieces("<title", "<TITLE", ">", "</title>", "</TiTle>", "a", " ", "\n", "<"))
def test_the_title_is_what_the_title_pattern_found(html: str) -> None:
    found = OLD_TITLE.search(html)
    assert _title_from_html(html) == ((" ".join(found.group(1).split()) if found else None) or None)


@SAME
@given(pieces("<link", "<LINK ", "<linkx", " rel=", "rel=canonical", " rel='canonical'", "href=",
              "'http://a'", '"https://b"', "'", ">", " ", "x"))  # fmt: skip
def test_the_canonical_link_is_what_the_link_pattern_found(html: str) -> None:
    tag = OLD_CANONICAL.search(html)
    href = OLD_HREF.search(tag.group(0)) if tag else None
    ok = href is not None and href.group(1).lower().startswith(("http://", "https://"))
    assert _canonical_from_html(html) == (href.group(1).strip() if href and ok else None)


@SAME
@given(pieces('"', "\\", "\n", "a", '\\"', "\\\n", "b"))
def test_script_strings_are_what_the_string_pattern_found(code: str) -> None:
    assert list(_json_strings(code)) == [m.group(0) for m in OLD_JSON_STRING.finditer(code)]


@SAME
@given(pieces("a", "@", ".", " ", "/", ":", "w", "W", "h", "t", "p", "s", "_", "é", "!", "\n",
              "http://", "https://", "www.", "WWW.", ".c"))  # fmt: skip
def test_addresses_are_blanked_as_the_address_pattern_did(text: str) -> None:
    assert _without_addresses(text) == OLD_ADDRESSES.sub(" ", text)


@SAME
@given(
    pieces("ab", " ", "|", "-", "_", ":", "  ", "\n", "·", "—", "x", "Site", "S"),
    st.sampled_from(["Site", "S", " Site ", " ", "b", "a|b", "ab"]),
)
def test_the_site_suffix_is_what_the_suffix_pattern_removed(title: str, site: str) -> None:
    if title.strip() == site.strip():
        return
    pattern = re.compile(
        rf"\s*[{OLD_SEPARATORS}]\s*(?:[^{OLD_SEPARATORS}]{{1,12}}[{OLD_SEPARATORS}]\s*)?"
        + re.escape(site.strip())
        + r"\s*$"
    )
    assert strip_site_suffix(title, site) == (pattern.sub("", title).strip() or title)


@SAME
@given(pieces("abcdefgh", "_", " _ ", " ", "x", "abc"))
def test_section_tails_are_cut_as_before(title: str) -> None:
    expected = title
    while "_" in expected:
        head, _, tail = expected.rpartition("_")
        head, tail = head.strip(), tail.strip()
        if not tail or len(tail) > 12 or len(head) < max(6, len(tail)):
            break
        expected = head
    assert strip_section_suffixes(title) == expected


@SAME
@given(pieces("<!DOCTYPE", "< ! doctype", "<!", "DOCTYPE", " html", "/", "//", "<", ">", "\n", "x"))
def test_the_doctype_removed_is_the_one_trafilatura_removes(html: str) -> None:
    first, _, rest = html.partition("\n")
    assert strip_doctype(html) == OLD_DOCTYPE.sub("", first, count=1) + "\n" + rest
