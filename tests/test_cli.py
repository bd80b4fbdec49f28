"""The `newsingest` command line, run as a user would."""

from __future__ import annotations

import json

from service.document import validate

from .conftest import EXTRACTION, GB2312_SMALL_PAGE, SEEDS, run_cli


def test_process_prints_one_valid_json_document_per_input(settings_env: dict[str, str]) -> None:
    seeds = sorted(SEEDS.glob("*.txt"))[:2]
    out = run_cli(settings_env, "process", "--no-translate", *map(str, seeds))
    assert out.returncode == 0, out.stderr
    docs = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(docs) == 2
    for doc in docs:
        validate(doc)


def test_process_translates_a_chinese_page(settings_env: dict[str, str]) -> None:
    out = run_cli(settings_env, "process", str(EXTRACTION / GB2312_SMALL_PAGE))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["translation"]["status"] == "translated" and doc["text_en"]


def test_process_reports_a_bad_input_and_goes_on(settings_env: dict[str, str]) -> None:
    out = run_cli(
        settings_env,
        "process",
        "/nonexistent/file.html",
        str(SEEDS / sorted(p.name for p in SEEDS.glob("*.txt"))[0]),
        "--no-translate",
    )
    assert out.returncode == 1
    assert "file_not_found" in out.stderr
    assert len(out.stdout.splitlines()) == 1


def test_detect_prints_code_and_confidence_per_line(settings_env: dict[str, str]) -> None:
    lines = "대통령은 22일 기자들과 만났다.\n中国海关总署公布了统计数据。\nThe treasury said so.\n"
    out = run_cli(settings_env, "detect", stdin=lines)
    assert out.returncode == 0, out.stderr
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    assert [r[0] for r in rows] == ["ko", "zh", "en"]
    assert all(0.0 <= float(r[1]) <= 1.0 for r in rows)


def test_translate_prints_one_english_line_per_input_line(settings_env: dict[str, str]) -> None:
    out = run_cli(settings_env, "translate", "--from", "zh", stdin="你好，世界。\n\n经济增长了。\n")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")[:-1]
    assert len(lines) == 3
    assert lines[0] and lines[2] and lines[0].isascii()


def test_translate_from_korean_without_package_says_so(settings_env: dict[str, str]) -> None:
    out = run_cli(settings_env, "translate", "--from", "ko", stdin="안녕하세요.\n")
    assert out.returncode == 3
    assert "no ko->en package installed" in out.stderr


def test_models_list_shows_the_installed_package(settings_env: dict[str, str]) -> None:
    out = run_cli(settings_env, "models", "list")
    assert out.returncode == 0, out.stderr
    [pkg] = [json.loads(line) for line in out.stdout.splitlines()]
    assert (pkg["from"], pkg["to"], pkg["version"]) == ("zh", "en", "1.9")


def test_models_verify_translates_a_canary_with_each_package(
    settings_env: dict[str, str],
) -> None:
    out = run_cli(settings_env, "models", "verify")
    assert out.returncode == 0, out.stderr
    [report] = [json.loads(line) for line in out.stdout.splitlines()]
    assert report["ok"] is True and report["version"] == "1.9"
    assert report["output"].isascii()
    assert "3" in report["output"] and "import" in report["output"].lower()
    assert report["chars_per_s"] > 0
