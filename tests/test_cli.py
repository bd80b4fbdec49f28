"""The `newsingest` command line, run as a user would."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from service.document import validate
from service.embedded import free_port

from .conftest import EXTRACTION, GB2312_SMALL_PAGE, REPO, SEEDS, run_cli


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


def test_process_of_a_warc_gives_a_document_per_page_record(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    """A WARC (told by its bytes: this one is named .bin) is no page: each of its page records
    is processed, with the record's URL and date; a 404 and a revisit are skipped, as a
    backfill skips them, and a corrupt record is one line on stderr."""
    from devtools.warcs import Record, corpus_pages, write_warc

    pages = corpus_pages(["en"])[:2]
    records = [
        Record(
            f"https://news.example/{i}.html",
            page.path.read_bytes(),
            date=f"2024-03-0{i + 1}T08:00:00Z",
        )
        for i, page in enumerate(pages)
    ]
    records.insert(1, Record("https://news.example/gone.html", b"<p>gone</p>", status=404))
    records.append(Record("https://news.example/0.html", b"", kind="revisit", http=False))
    path = tmp_path / "archive.bin"
    write_warc(path, records)
    out = run_cli(settings_env, "process", "--no-translate", str(path))
    assert out.returncode == 0, out.stderr
    docs = [json.loads(line) for line in out.stdout.splitlines()]
    assert [d["url"] for d in docs] == [
        "https://news.example/0.html",
        "https://news.example/1.html",
    ]
    for doc in docs:
        validate(doc)
        assert doc["source"]["kind"] == "warc" and doc["text"]
    assert docs[1]["source"]["fetched_at"].startswith("2024-03-02T08:00:00")

    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the first page's gzip member
    path.write_bytes(bytes(data))
    out = run_cli(settings_env, "process", "--no-translate", str(path))
    assert out.returncode == 1
    assert len(out.stdout.splitlines()) == 1  # the second page still comes out
    [line] = out.stderr.splitlines()
    assert line.startswith(f"newsingest: {path}@0: warc_corrupt:"), line


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


# ---- bad input: one line, never a traceback (issue #13) ------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["dead", "list", "--count", "-1"], "argument --count: must be a whole number from 1"),
        (["dead", "list", "--count", "1e20"], "argument --count: must be a whole number from 1"),
        (["dead", "replay", "not-an-id"], "not a stream id"),
        (["consume", "--group", "g", "--count", "0"], "argument --count"),
        (["consume", "--group", "g", "--wait", "nan"], "argument --wait: must be a number"),
        (["consume", "--group", "g", "--wait", "-1"], "argument --wait: must be a number"),
        (["consume", "--group", "g", "--from", "junk"], "not a stream id (like"),
        (["exporter", "--port", "70000"], "argument --port: must be a port from 1 to 65535"),
        (["health", "--timeout", "inf"], "argument --timeout"),
        (["retranslate", "--limit", "0"], "argument --limit"),
        (["worker", "--queue", "ingets"], "unknown queue 'ingets'"),
        (["worker", "--queue", "ingest", "--concurrency", "0"], "argument --concurrency"),
        (["beat", "--loglevel", "loud"], "argument --loglevel"),
        (["submit", "--lang", "klingon", "x"], "names no language"),
        (["process", "--lang", "klingon", "x"], "names no language"),
        (["no-such-command"], "invalid choice"),
    ],
)
def test_a_bad_option_is_one_line_and_exit_2(
    settings_env: dict[str, str], args: list[str], expected: str
) -> None:
    out = run_cli(settings_env, *args, timeout=60)
    assert out.returncode == 2
    [line] = out.stderr.splitlines()
    assert line.startswith("newsingest") and "error: " in line and expected in line, line
    assert out.stdout == ""


def test_redis_unreachable_is_one_line(settings_env: dict[str, str]) -> None:
    env = dict(settings_env, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    out = run_cli(env, "dead", "list", timeout=120)
    assert out.returncode == 1
    [line] = out.stderr.splitlines()
    assert line.startswith("newsingest: Redis unreachable: ") and "REDIS_URL" in line


BROKEN_SCHEMA = (
    "import sys\n"
    "from workers.cli import local, main\n"
    "def broken(args, settings):\n"
    "    raise RuntimeError('the disk\\nis on fire')\n"
    "local.cmd_schema = broken\n"
    "sys.exit(main(['schema']))\n"
)


def test_an_unexpected_error_is_one_line_and_exit_1(settings_env: dict[str, str]) -> None:
    run = [sys.executable, "-c", BROKEN_SCHEMA]
    out = subprocess.run(run, cwd=REPO, env=settings_env, capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr == (
        "newsingest: internal error: RuntimeError: the disk is on fire; "
        "run with NEWSINGEST_LOG_LEVEL=DEBUG for the traceback\n"
    )
    env = dict(settings_env, NEWSINGEST_LOG_LEVEL="DEBUG")
    out = subprocess.run(run, cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode == 1 and "Traceback" in out.stderr


def test_exporter_on_a_port_in_use_is_one_line(settings_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = run_cli(settings_env, "exporter", "--bind", "127.0.0.1", "--port", str(port))
    assert out.returncode == 1
    [line] = out.stderr.splitlines()
    assert line.startswith(f"newsingest: cannot serve metrics on 127.0.0.1:{port}: ")


# ---- stdin: bounded, whatever comes in -------------------------------------------------------


def _piped(env: dict[str, str], producer: list[str], *args: str) -> tuple[str, str, int, int]:
    """``producer | newsingest ARGS``: stdout, stderr, exit status and the peak RSS (KiB) of
    the newsingest process, measured by a parent of its own."""
    script = (
        "import resource, subprocess, sys\n"
        "n = int(sys.argv[1])\n"
        "src = subprocess.Popen(sys.argv[2:2 + n], stdout=subprocess.PIPE)\n"
        "cli = subprocess.run([sys.executable, '-m', 'workers.cli', *sys.argv[2 + n:]],"
        " stdin=src.stdout, capture_output=True)\n"
        "src.stdout.close(); src.wait()\n"
        "sys.stdout.buffer.write(cli.stdout); sys.stderr.buffer.write(cli.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(cli.returncode)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(len(producer)), *producer, *args],
        cwd=REPO, env=env, capture_output=True, text=True, errors="replace", timeout=300,
    )  # fmt: skip
    *err, peak = out.stderr.splitlines()
    return out.stdout, "\n".join(err), out.returncode, int(peak)


def test_detect_cuts_an_endless_line_with_a_warning_in_bounded_memory(
    settings_env: dict[str, str],
) -> None:
    _, _, status, baseline = _piped(settings_env, ["echo", "Hello world"], "detect")
    assert status == 0
    out, err, status, peak = _piped(settings_env, ["head", "-c", "20000000", "/dev/zero"], "detect")
    assert status == 0, err
    assert out == "und\t0.0000\n"
    assert err.splitlines() == [
        "newsingest: WARNING: stdin line 1 is longer than 100000 characters "
        "(stdin_max_line_chars); only its beginning is used"
    ]
    assert peak - baseline < 32 * 1024, (peak, baseline)  # 20 MB in, far less held


def test_detect_reads_random_bytes_as_undetermined_lines_not_a_crash(
    settings_env: dict[str, str],
) -> None:
    out, err, status, _ = _piped(settings_env, ["head", "-c", "10000000", "/dev/urandom"], "detect")
    assert status == 0, err
    assert "Traceback" not in err
    rows = [line.split("\t") for line in out.splitlines()]
    assert len(rows) > 10_000
    assert all(len(r) == 2 and 0.0 <= float(r[1]) <= 1.0 for r in rows)


def test_translate_cuts_a_long_line_with_a_warning(settings_env: dict[str, str]) -> None:
    env = dict(settings_env, NEWSINGEST_STDIN_MAX_LINE_CHARS="20")
    line = "经济增长了。" * 10
    out = run_cli(env, "translate", "--from", "zh", stdin=f"{line}\n你好。\n")
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 2
    assert "stdin line 1 is longer than 20 characters" in out.stderr


@pytest.mark.parametrize("command", [["worker", "--queue", "ingest"], ["run"]])
def test_a_broken_glossary_stops_the_service_at_start_in_one_line(
    command: list[str], settings_env: dict[str, str], tmp_path: Path
) -> None:
    missing = dict(settings_env, NEWSINGEST_GLOSSARY_FILE=str(tmp_path / "nope.toml"))
    out = run_cli(missing, *command, timeout=120)
    assert out.returncode == 1
    [line] = out.stderr.splitlines()
    assert "glossary_file" in line and "does not exist" in line
    broken = tmp_path / "terms.toml"
    broken.write_text('"中美" = "China–US"\n')  # a term outside a language table
    out = run_cli(dict(settings_env, NEWSINGEST_GLOSSARY_FILE=str(broken)), *command, timeout=120)
    assert out.returncode == 1
    [line] = out.stderr.splitlines()
    assert line.startswith("newsingest: ") and "terms.toml" in line
