"""Hostile input for the text stages: each one returns a value or raises the project's own
typed error (an IngestError), never anything else, and never hangs.

Property tests with hypothesis, derandomized so that CI runs the same examples every time.
Each example runs under a watchdog (SIGALRM): a stage that takes longer than
``EXAMPLE_SECONDS`` on one input fails the test as a hang instead of holding CI. The same
entry points are fuzzed with coverage guidance by ``scripts/fuzz-atheris``.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from service.cleanup import clean_plain_text
from service.decode import decode
from service.errors import IngestError
from service.extract import extract_html, extract_text
from service.fetch import Fetched, Source
from service.language import detect, detect_document
from service.pipeline import Pipeline
from service.segment import split_sentences
from service.settings import load_settings
from service.translate import TranslationResult

# One input may take this long on a busy 2-core CI box before it counts as a hang.
EXAMPLE_SECONDS = 20
# NEWSINGEST_FUZZ_EXAMPLES=5000 runs a longer, randomized search by hand.
_LONG_RUN = int(os.environ.get("NEWSINGEST_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_LONG_RUN or 60,
    derandomize=not _LONG_RUN,
    deadline=None,  # timing is the watchdog's job: a deadline is flaky on a loaded box
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

T = TypeVar("T")

# A failing example of a megabyte is worth reporting even if its repr is long.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


class Hang(Exception):
    """A stage ran past EXAMPLE_SECONDS on one input."""


@contextmanager
def watchdog(seconds: int = EXAMPLE_SECONDS) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise Hang(f"no answer within {seconds}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def outcome(stage: Callable[[], T]) -> T | IngestError:
    """Run one stage: its value, or its IngestError. Anything else fails the test."""
    with watchdog():
        try:
            return stage()
        except IngestError as exc:
            assert exc.reason and isinstance(exc.reason, str)
            return exc


# ---- strategies ---------------------------------------------------------------------------

ENCODINGS = [
    "utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "gb18030", "gbk", "gb2312",
    "big5", "big5hkscs", "euc-kr", "cp949", "iso2022_kr", "shift_jis", "euc-jp",
    "iso2022_jp", "cp1252", "latin-1", "koi8-r", "cp1251", "iso8859-7", "mac-roman",
    "utf-7", "hz", "cp437",
]  # fmt: skip
LABELS = [*ENCODINGS, "x-unknown", "", "utf8mb4", "unicode-1-1-utf-8", "ks_c_5601-1987",
          "csbig5", "x-gbk", "binary", "none", "\x00", "utf-8\r\nX: y", "undefined", "base64",
          "rot13", "idna", "punycode", "zlib", "unicode_escape"]  # fmt: skip

SAMPLES = [
    "中国海关总署公布了统计数据。",
    "國際貿易協定今天簽署。",
    "서울에서 열린 정상회의에서 양국 정상은 합의문에 서명했다.",
    "The minister said on Tuesday that exports rose 5% in May.",
    "Ｆｕｌｌｗｉｄｔｈ ｔｅｘｔ　全角",
    "日本語のテキストです。",
    "Привет, мир. Γειά σου κόσμε.",
    "\u200b\u200d\ufeff\u202e",
    "Mr. Smith met Dr. Jones at 3 p.m. in the U.S. They talked...",
    "“Quoted.” (Closed.) 「引用。」",
]
# Characters that break naive code: NUL, lone surrogates, non-characters, controls, bidi.
NASTY = st.sampled_from(
    ["\x00", "\ud800", "\udfff", "\ud83d", "\uffff", "\ufffe", "\U0010ffff", "\x1b", "\x7f",
     "\x85", "\u2028", "\u2029", "\r", "\t", "\u0301", "\u202e", "\ufffd", "&#0;",
     "&#xd800;", "&#x110000;", "&#65535;", "<!--", "]]>", "<![CDATA[", "\\"]
)  # fmt: skip

words = st.one_of(
    st.sampled_from(SAMPLES),
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=40),
    NASTY,
)
prose = st.lists(words, max_size=12).map(" ".join)


@st.composite
def long_line(draw: st.DrawFn) -> str:
    """One enormous line: no newline for hundreds of kilobytes."""
    unit = draw(st.sampled_from(SAMPLES + ["a", "가", "中", "x" * 50 + ". ", "<p>"]))
    return unit * draw(st.integers(1_000, 40_000))


texts = st.one_of(
    prose,
    st.lists(prose, max_size=30).map("\n".join),
    st.lists(prose, max_size=10).map("\n\n".join),
    long_line(),
    st.text(max_size=300),
    st.text(st.characters(categories=["Cs", "Cc", "Zl", "Zp", "Mn", "Co"]), max_size=100),
)

TAGS = ["div", "p", "span", "article", "main", "table", "tr", "td", "ul", "li", "b", "a",
        "script", "style", "noscript", "iframe", "svg", "math", "template", "h1"]  # fmt: skip


@st.composite
def html_documents(draw: st.DrawFn) -> str:
    """Pages: well-formed or not, nested deeply or not, truncated anywhere."""
    depth = draw(st.sampled_from([0, 1, 5, 50, 300, 3_000, 20_000]))
    tag = draw(st.sampled_from(TAGS))
    head = draw(
        st.sampled_from(
            [
                "",
                "<!DOCTYPE html><html><head><title>{t}</title>"
                '<meta charset="{c}"><link rel="canonical" href="{u}"></head><body>',
                "<html><head><meta property='og:url' content='{u}'>"
                "<meta name='author' content='{t}'></head><body>",
                '<?xml version="1.0" encoding="{c}"?><html xmlns="http://www.w3.org/1999/xhtml">',
            ]
        )
    )
    head = head.format(
        t=draw(prose),
        c=draw(st.sampled_from(LABELS)),
        u=draw(
            st.sampled_from(
                ["https://example.com/a", "http://x:99999/", "http://[::1", "javascript:x",
                 "https://例子.中国/新闻", "http://a b/", "", "//evil", "http://%zz/"]
            )
        ),
    )  # fmt: skip
    paragraphs = draw(st.lists(prose, max_size=8))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    closing = draw(st.sampled_from(["", f"</{tag}>" * depth, "</body></html>", "</"]))
    page = head + f"<{tag}>" * depth + body + closing
    cut = draw(st.integers(0, len(page)))
    return page if draw(st.booleans()) else page[:cut]


@st.composite
def encoded_pages(draw: st.DrawFn) -> tuple[bytes, str | None]:
    """Text in some encoding, declared rightly, wrongly or not at all; maybe truncated."""
    text = draw(st.one_of(prose, html_documents()))
    encoding = draw(st.sampled_from(ENCODINGS))
    errors = "replace"
    if encoding in ("utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        errors = draw(st.sampled_from(["replace", "surrogatepass", "xmlcharrefreplace"]))
    body = text.encode(encoding, errors=errors)
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]
    label = draw(st.one_of(st.none(), st.just(encoding), st.sampled_from(LABELS)))
    return body, label


raw_bytes = st.one_of(
    st.binary(max_size=4096),
    encoded_pages().map(lambda pair: pair[0]),
    st.binary(max_size=64).map(lambda b: b * 5_000),
    st.sampled_from(
        [b"", b"\x00" * 10, b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff\x00", b"\x1f\x8b\x08\x00",
         b"%PDF-1.7\n", b"<html>\x00<body>\x00</html>", b"\xc3\x28" * 1000, b"\xed\xa0\x80"]
    ),
)  # fmt: skip


# ---- properties ---------------------------------------------------------------------------


@FUZZ
@given(body=raw_bytes, label=st.one_of(st.none(), st.sampled_from(LABELS)), html=st.booleans())
@example(body=b"\xed\xa0\x80abc", label="utf-8", html=True)
@example(body=b"+2D8-", label="utf-7", html=False)
@example(body="<p>서울</p>".encode(), label="undefined", html=True)
@example(body=b'<meta charset="base64"><p>\xe9t\xe9</p>', label=None, html=True)
@example(body=b"<p>caf\xc3\xa9 \xe9</p>", label="punycode", html=True)
def test_decode_returns_text_or_a_decode_error(body: bytes, label: str | None, html: bool) -> None:
    result = outcome(lambda: decode(body, label, is_html=html))
    if not isinstance(result, IngestError):
        assert result.text.strip()
        result.text.encode("utf-8")  # no lone surrogates can come out of bytes


@FUZZ
@given(pair=encoded_pages(), html=st.booleans())
def test_decode_survives_every_encoding_and_wrong_declarations(
    pair: tuple[bytes, str | None], html: bool
) -> None:
    body, label = pair
    outcome(lambda: decode(body, label, is_html=html))


@FUZZ
@given(page=st.one_of(html_documents(), texts))
@example(page="<div>" * 100_000 + "text")
@example(page="<p>\x00\ud800</p>")
@example(
    page='<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><iframe>'
)
@example(page='<link rel="canonical" href="http://x:99999/"><p>' + "word " * 50 + "</p>")
def test_extract_html_returns_an_article_or_an_extraction_error(page: str) -> None:
    result = outcome(lambda: extract_html(page, "https://example.com/news/1"))
    if not isinstance(result, IngestError):
        assert result.paragraphs and all(p.strip() for p in result.paragraphs)


@FUZZ
@given(text=texts)
def test_extract_text_returns_an_article_or_an_extraction_error(text: str) -> None:
    result = outcome(lambda: extract_text(text))
    if not isinstance(result, IngestError):
        assert result.paragraphs


@FUZZ
@given(text=texts)
def test_the_plain_text_cleaner_keeps_only_lines_it_was_given(text: str) -> None:
    cleaned = outcome(lambda: clean_plain_text(text))
    assert not isinstance(cleaned, IngestError)
    assert all(p.strip() for p in cleaned.paragraphs)


@FUZZ
@given(text=texts)
def test_language_detection_always_answers(text: str) -> None:
    result = outcome(lambda: detect(text))
    assert not isinstance(result, IngestError)
    assert 0.0 <= result.confidence <= 1.0
    doc = outcome(lambda: detect_document(text.split("\n")))
    assert not isinstance(doc, IngestError)
    assert 0.0 <= doc.confidence <= 1.0


@FUZZ
@given(text=texts, lang=st.sampled_from(["en", "ko", "zh", "ja", "und", ""]))
@example(text=("x" * 50 + ". ") * 40_000, lang="en")  # never splits: was quadratic
def test_the_sentence_splitter_loses_no_characters(text: str, lang: str) -> None:
    sentences = outcome(lambda: split_sentences(text, lang))
    assert not isinstance(sentences, IngestError)
    assert all(s and s == s.strip() for s in sentences)
    assert "".join("".join(sentences).split()) == "".join(text.split())


_PIPELINE = Pipeline(load_settings({}))


@FUZZ
@given(body=raw_bytes, label=st.one_of(st.none(), st.sampled_from(LABELS)), html=st.booleans())
@example(body=b"<p>" + b"&#xd800; word " * 40 + b"</p>", label=None, html=True)
@example(body=b"<p>" + b"&#0; word " * 40 + b"</p>", label=None, html=True)
@example(
    body=b'<link rel="canonical" href="http://x:99999/"><p>' + b"word " * 50 + b"</p>",
    label=None,
    html=True,
)
def test_bytes_become_a_publishable_document_or_a_typed_error(
    body: bytes, label: str | None, html: bool
) -> None:
    """The ingest half of a worker on hostile bytes, through to the JSON that is stored."""
    fetched = Fetched(
        Source("url", "https://example.com/a"),
        body,
        "html" if html else "text",
        label,
        "https://example.com/a",
        "2024-01-01T00:00:00.000000Z",
    )

    def run() -> bytes:
        article = _PIPELINE.ingest_fetched(fetched)
        ex = article.extracted
        doc = _PIPELINE.finish(article, TranslationResult("not_needed", ex.title, ex.paragraphs))
        return doc.to_json_for_store()  # the bytes the store sends to Redis

    outcome(run)


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_html_is_bounded(depth: int) -> None:
    page = "<html><body>" + "<div>" * depth + "<p>" + "A sentence of text. " * 30 + "</p>"
    outcome(lambda: extract_html(page, None))
