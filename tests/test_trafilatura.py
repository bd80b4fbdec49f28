"""service/_trafilatura.py: trafilatura's tuned internals on the tested release, its public API
on any other; both paths on real pages from ../shared/corpus."""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import statistics

import pytest
import trafilatura.metadata as tmeta
import trafilatura.xpaths as txpaths
from lxml import etree
from trafilatura.utils import load_html

from devtools.evaluate import prf, tokens
from service._trafilatura import (
    AUTHOR_RULES_DIGEST,
    INTERNALS,
    PUBLIC,
    Engine,
    author_rules_digest,
    engine,
    internals_problem,
    select_engine,
)
from service.decode import decode
from service.extract import _unwrap_layout_tables, extract_html

from .conftest import EXTRACTION, GBK_PAGE, gold

NEXTJS_PAGE = "fundus_fixtures/pages/kr_HankookIlbo_2026_01_29.html"
TECHCRUNCH_PAGE = "scrapinghub_aeb/pages/1ace8c85aaee21b9.html"
RUSSIAN_PAGE = "scrapinghub_aeb/pages/ff0f958ade714ebf.html"


def corpus_html() -> list[str]:
    rows = (EXTRACTION / "index.jsonl").read_text("utf-8").splitlines()
    return [decode((EXTRACTION / json.loads(row)["html"]).read_bytes()).text for row in rows]


def body_f1(page: str, via: Engine) -> tuple[str | None, float]:
    ex = extract_html(decode((EXTRACTION / page).read_bytes()).text, engine=via)
    return ex.title, prf(tokens("\n".join(ex.paragraphs)), tokens(gold(page)["body"])).f1


# --- which path -------------------------------------------------------------------------
def test_the_installed_trafilatura_runs_the_internals_path() -> None:
    assert internals_problem() is None
    assert engine() is INTERNALS


@pytest.mark.parametrize("version", ["2.4.0", "3.0.1", "2.2.9"])
def test_an_untested_trafilatura_falls_back_to_the_public_api_and_says_so(
    version: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="newsingest.extract"):
        assert select_engine(version) is PUBLIC
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert f"trafilatura {version}" in record.getMessage()
    assert "public API" in record.getMessage()


def test_a_patch_release_of_the_tested_series_keeps_the_internals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="newsingest.extract"):
        assert select_engine("2.3.99") is INTERNALS
    [record] = caplog.records
    assert record.levelno == logging.INFO and "internals" in record.getMessage()


# --- the public path, forced ------------------------------------------------------------
@pytest.mark.parametrize("page", [GBK_PAGE, NEXTJS_PAGE, TECHCRUNCH_PAGE, RUSSIAN_PAGE])
def test_the_public_path_finds_the_title_and_body_of_a_real_page(page: str) -> None:
    title, f1 = body_f1(page, PUBLIC)
    assert title
    assert f1 > 0.9


def test_the_public_path_reads_the_metadata_of_a_real_page() -> None:
    ex = extract_html(decode((EXTRACTION / NEXTJS_PAGE).read_bytes()).text, engine=PUBLIC)
    assert ex.title is not None and ex.title.startswith("장동혁, 한동훈 제명했지만")
    assert ex.date == "2026-01-29T18:40:00"
    assert ex.canonical_url == "https://www.hankookilbo.com/news/article/A2026012914320005196"


def test_the_public_path_keeps_body_quality_over_the_full_body_gold_pages() -> None:
    pages = [
        record["html"]
        for path in sorted(EXTRACTION.glob("*/gold.jsonl"))
        for record in map(json.loads, path.read_text("utf-8").splitlines())
        if record["gold_type"] == "full_body" and record["body"]
    ]
    scores = [body_f1(page, PUBLIC)[1] for page in pages]
    assert len(scores) > 100
    assert statistics.mean(scores) > 0.9


# --- the internals path: our copies of trafilatura's steps agree with its own -----------
def test_our_parser_builds_the_same_tree_as_trafilaturas_on_every_corpus_page() -> None:
    for html in corpus_html():
        ours, theirs = INTERNALS.load_html(html), load_html(html)
        assert ours is not None and theirs is not None
        assert etree.tostring(ours) == etree.tostring(theirs)


def test_author_search_agrees_with_trafilatura_on_every_corpus_page() -> None:
    found = 0
    for html in corpus_html():
        tree = INTERNALS.load_html(html)
        assert tree is not None
        _unwrap_layout_tables(tree)
        expected = tmeta.extract_author(tree)
        assert INTERNALS.author(tree) == expected
        found += expected is not None
    assert found > 50


def test_author_search_agrees_with_trafilatura_where_pruning_matters() -> None:
    pages = [
        # A byline holding a date: pruning <time> brings it under the length limit.
        '<div class="byline">By Jane Doe<time>' + "Monday 12 January 2026, " * 6 + "</time></div>",
        # A byline in a sidebar is pruned with it; the next candidate wins.
        '<aside><div class="sidebar"><span class="author">Sidebar Name</span></div></aside>'
        '<p class="byl">John Smith and <span class="quote">quoted</span>Ann Lee</p>',
        # A candidate that is itself pruned.
        '<span class="author-name quote">Not Him</span><span class="writer">Kim Min-su</span>',
        # trafilatura tests a child <rel> element's text; that case is left to it.
        '<div class="x"><rel>me</rel></div><span class="writer">Li Ming</span>',
    ]
    for body in pages:
        tree = INTERNALS.load_html(f"<html><head><title>t</title></head><body>{body}</body></html>")
        assert tree is not None
        assert INTERNALS.author(tree) == tmeta.extract_author(tree) is not None


def test_trafilatura_author_rules_are_still_the_ones_author_search_mirrors() -> None:
    """service/_trafilatura.py's author search repeats these; if this fails, port the change
    there and update AUTHOR_RULES_DIGEST (until then the adapter takes the public path)."""
    rules = [x.path for x in txpaths.AUTHOR_XPATHS + txpaths.AUTHOR_DISCARD_XPATHS]
    rules += [inspect.getsource(tmeta.extract_author), inspect.getsource(tmeta.extract_metainfo)]
    digest = hashlib.sha256("\n".join(rules).encode()).hexdigest()
    assert digest == "e4d23208218c022b45cc3bf160f4c98d553272a60a2645ebe64ba23fe8a1a915"
    assert author_rules_digest() == AUTHOR_RULES_DIGEST == digest


def test_both_paths_give_the_same_paragraphs_on_a_real_page() -> None:
    html = decode((EXTRACTION / TECHCRUNCH_PAGE).read_bytes()).text
    assert extract_html(html, engine=PUBLIC).paragraphs == extract_html(html).paragraphs
