"""devtools.evaluate: tokens, P/R/F1, snippets, mojibake, small real runs, and its command."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools import evaluate
from devtools.evaluate import mojibake_signals, prf, snippet_check, tokens
from service.settings import Settings, load_settings

from .conftest import CORPUS, REPO


@pytest.fixture
def eval_settings(tmp_path: Path) -> Settings:
    return load_settings({"NEWSINGEST_DATA_DIR": str(tmp_path)})


def test_chinese_is_one_token_per_character() -> None:
    assert tokens("中文 新闻。") == ["中", "文", "新", "闻"]


def test_korean_is_one_token_per_syllable() -> None:
    assert tokens("한국 뉴스") == ["한", "국", "뉴", "스"]


def test_latin_text_is_one_token_per_word_case_folded_without_punctuation() -> None:
    assert tokens("Hello, World! It's 2024.") == ["hello", "world", "it", "s", "2024"]


def test_mixed_script_splits_cjk_characters_from_latin_words() -> None:
    assert tokens("Apple发布iPhone 15") == ["apple", "发", "布", "iphone", "15"]


def test_full_width_digits_match_ascii_digits() -> None:
    assert tokens("２０２４年") == ["2024", "年"]


def test_precision_recall_f1_count_a_bag_of_tokens() -> None:
    scores = prf(["a", "b", "c", "c"], ["a", "c", "d"])
    assert scores.precision == pytest.approx(2 / 4)
    assert scores.recall == pytest.approx(2 / 3)
    assert scores.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))


def test_empty_output_scores_zero_and_two_empties_score_one() -> None:
    assert prf([], ["a"]).f1 == 0.0
    assert prf([], []).f1 == 1.0


def test_snippets_pass_when_every_with_and_no_without_occurs() -> None:
    result = snippet_check("The body text.\nMore body.", ["body text", "More"], ["Copyright"])
    assert (result.found, result.leaked, result.passed) == (2, 0, True)


def test_snippets_fail_on_a_leaked_without_string() -> None:
    result = snippet_check("Body. Copyright 2020", ["Body"], ["copyright 2020"])
    assert result.leaked == 1 and not result.passed


def test_snippets_ignore_line_breaks_inside_the_snippet() -> None:
    assert snippet_check("一个约定，\n信守15年", ["一个约定，信守15年"], []).passed


def test_clean_chinese_text_has_no_mojibake_signal() -> None:
    assert mojibake_signals("中华人民共和国国务院今天发布了新的经济政策。" * 3, "zh") == []


def test_replacement_characters_are_mojibake() -> None:
    assert "replacement" in mojibake_signals("abc\ufffddef", "en")


def test_utf8_read_as_latin1_is_mojibake() -> None:
    text = "café – “quoted”".encode().decode("cp1252", "ignore")
    assert "utf8_as_latin1" in mojibake_signals(text, "en")


def test_gbk_read_as_latin1_is_mojibake() -> None:
    text = "中国人民银行".encode("gbk").decode("latin-1")
    assert "latin1_run" in mojibake_signals(text, "zh")


def test_utf8_read_as_gbk_is_mojibake() -> None:
    text = "中国人民银行今天宣布下调存款准备金率以支持实体经济".encode().decode("gbk", "ignore")
    assert "rare_han" in mojibake_signals(text, "zh")


def test_a_chinese_label_on_latin_text_is_mojibake() -> None:
    assert "few_cjk" in mojibake_signals("This page came out in English letters only.", "zh")


def test_langid_run_reports_accuracy_per_kind_and_documents(eval_settings: Settings) -> None:
    out = io.StringIO()
    result = evaluate.run("langid", CORPUS, eval_settings, limit=30, out=out, progress=False)
    json.dumps(result)
    assert result["groups"]["all"]["n"] == 30 * 3  # three langid sets
    assert result["groups"]["all"]["ours"] > 0.8
    assert result["documents"]["n"] == 30 and result["documents"]["ours"] > 0.9
    assert "kind=sentence" in result["groups"]
    assert "langid:" in out.getvalue()


def test_extraction_run_scores_ours_and_plain_trafilatura(eval_settings: Settings) -> None:
    out = io.StringIO()
    result = evaluate.run("extraction", CORPUS, eval_settings, limit=5, out=out, progress=False)
    json.dumps(result)
    assert len(result["pages"]) == 5
    assert len({page["set"] for page in result["pages"]}) == 5  # one page from each set
    everything = result["groups"]["all"]
    assert everything["ours"]["pages"] == everything["trafilatura"]["pages"] == 5
    assert 0.8 < everything["ours"]["f1"] <= 1.0
    assert everything["ours"]["mojibake_pages"] == 0
    assert result["speed"]["ours_pages_per_s"] > 0
    assert "trafilatura" in out.getvalue()


def test_an_unknown_kind_is_refused(eval_settings: Settings) -> None:
    with pytest.raises(ValueError, match="extraction, plaintext, metadata, langid, translation"):
        evaluate.run("speed", CORPUS, eval_settings, progress=False)


def _evaluate(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSINGEST_DATA_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "devtools.evaluate", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_command_prints_json_on_stdout_and_the_report_on_stderr(tmp_path: Path) -> None:
    done = _evaluate(tmp_path, "langid", str(CORPUS), "--limit", "3", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["kind"] == "langid" and result["groups"]["all"]["n"] == 3 * 3
    assert "langid:" in done.stderr


def test_the_command_refuses_a_missing_corpus_in_one_line(tmp_path: Path) -> None:
    done = _evaluate(tmp_path, "extraction", str(tmp_path / "nowhere"))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("devtools.evaluate: ") and done.stderr.count("\n") == 1


def test_newsingest_eval_plaintext_scores_each_language_beside_doing_nothing(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "NEWSINGEST_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli", "eval", "plaintext", str(CORPUS), "--limit", "12",
         "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "lang=en" in done.stderr and "false positives" in done.stderr
    assert result["groups"]["all"]["ours"]["f1"] > result["groups"]["all"]["nothing"]["f1"]
