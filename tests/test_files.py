"""Local files: only regular files are read, never blocking on a FIFO or a device; work from
the queue reads only under file_roots (symlinks resolved); `process` reads what its user
names and goes on after a bad one."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from service.errors import SourceError
from service.fetch import Source, check_file, read_file, source_from_arg
from service.settings import Settings
from service.store import Store
from workers.app import make_app

from .conftest import ENGLISH_SEED, SEEDS, Worker, run_cli
from .test_integration import wait_for

GOOD = SEEDS / ENGLISH_SEED


@pytest.fixture
def outside() -> Iterator[Path]:
    """A directory outside every root the tests allow (not under the pytest tmp dirs)."""
    with tempfile.TemporaryDirectory(prefix="newsingest-outside-") as name:
        yield Path(name)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.html"
    os.mkfifo(path)
    return path


@pytest.fixture
def loop(tmp_path: Path) -> Path:
    (tmp_path / "a.html").symlink_to(tmp_path / "b.html")
    (tmp_path / "b.html").symlink_to(tmp_path / "a.html")
    return tmp_path / "a.html"


def reason_of(location: Path | str, roots: tuple[Path, ...] | None = None) -> str:
    with pytest.raises(SourceError) as caught:
        read_file(Source("file", str(location)), 1_000_000, roots=roots)
    return caught.value.reason


def test_a_symlink_loop_is_refused(loop: Path) -> None:
    assert reason_of(loop) == "symlink_loop"


def test_a_fifo_is_refused_without_waiting_for_a_writer(fifo: Path) -> None:
    assert reason_of(fifo) == "not_a_file"


def test_a_device_is_refused_before_it_is_read() -> None:
    assert reason_of("/dev/zero") == "not_a_file"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert reason_of(tmp_path) == "not_a_file"


def test_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    assert reason_of(tmp_path / "nope.html") == "file_not_found"


def test_a_file_over_the_limit_is_too_large(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 101)
    with pytest.raises(SourceError) as caught:
        read_file(Source("file", str(big)), 100)
    assert caught.value.reason == "too_large"


def test_a_file_under_a_root_is_read(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(b"<html><p>hello</p></html>")
    assert read_file(Source("file", str(page)), 1000, roots=(tmp_path,)).media_type == "html"


def test_a_file_outside_the_roots_is_refused(tmp_path: Path, outside: Path) -> None:
    secret = outside / "secret.txt"
    secret.write_text("not for the stream\n")
    assert reason_of(secret, roots=(tmp_path,)) == "outside_file_roots"


def test_a_symlink_inside_a_root_to_a_file_outside_is_refused(
    tmp_path: Path, outside: Path
) -> None:
    secret = outside / "secret.txt"
    secret.write_text("not for the stream\n")
    (tmp_path / "innocent.txt").symlink_to(secret)
    assert reason_of(tmp_path / "innocent.txt", roots=(tmp_path,)) == "outside_file_roots"


def test_nothing_is_said_about_whether_a_file_outside_the_roots_exists(
    tmp_path: Path, outside: Path
) -> None:
    assert reason_of(outside / "missing.txt", roots=(tmp_path,)) == "outside_file_roots"


def test_no_roots_configured_refuses_every_file(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text("hello\n")
    assert reason_of(page, roots=()) == "outside_file_roots"


def test_a_path_argument_with_a_symlink_loop_becomes_a_source_not_a_crash(loop: Path) -> None:
    source = source_from_arg(str(loop))
    assert source.kind == "file"
    with pytest.raises(SourceError, match="symlink loop"):
        check_file(source.location)


def test_process_reports_each_bad_file_in_one_line_and_goes_on(
    settings_env: dict[str, str], tmp_path: Path, fifo: Path, loop: Path
) -> None:
    bad = {
        str(tmp_path): "not_a_file",
        str(fifo): "not_a_file",
        str(loop): "symlink_loop",
        "/dev/zero": "not_a_file",
        str(tmp_path / "missing.txt"): "file_not_found",
    }
    out = run_cli(settings_env, "process", "--no-translate", *bad, str(GOOD), timeout=120)
    assert out.returncode == 1
    assert len(out.stdout.splitlines()) == 1 and json.loads(out.stdout)["language"] == "en"
    lines = out.stderr.splitlines()
    assert "Traceback" not in out.stderr
    assert len(lines) == len(bad)
    for line, (item, reason) in zip(lines, bad.items(), strict=True):
        assert line.startswith(f"newsingest: {item}: {reason}: ")


def test_process_reads_a_file_outside_the_roots_that_its_user_names(
    settings_env: dict[str, str], outside: Path
) -> None:
    page = outside / "mine.txt"
    page.write_bytes(GOOD.read_bytes())
    out = run_cli(settings_env, "process", "--no-translate", str(page), timeout=120)
    assert out.returncode == 0, out.stderr


def test_submit_refuses_a_file_outside_the_roots_saying_how_to_allow_it(
    settings_env: dict[str, str], outside: Path
) -> None:
    page = outside / "page.txt"
    page.write_text("hello\n")
    out = run_cli(settings_env, "submit", str(page), timeout=60)
    assert out.returncode == 2
    [line] = out.stderr.splitlines()
    assert f"{page}: outside_file_roots: " in line and "NEWSINGEST_FILE_ROOTS" in line
    assert out.stdout == ""


def test_submit_refuses_a_fifo_and_a_directory_at_once(
    settings_env: dict[str, str], tmp_path: Path, fifo: Path
) -> None:
    out = run_cli(settings_env, "submit", str(fifo), str(tmp_path), timeout=60)
    assert out.returncode == 2
    assert [line.split(": ")[2] for line in out.stderr.splitlines()] == ["not_a_file"] * 2


def test_a_worker_dead_letters_files_outside_the_roots_and_things_that_are_not_files(
    settings: Settings,
    redis_client: redis.Redis,
    worker: Worker,
    tmp_path: Path,
    outside: Path,
    fifo: Path,
) -> None:
    secret = outside / "secret.txt"
    secret.write_bytes(GOOD.read_bytes())
    (tmp_path / "innocent.txt").symlink_to(secret)
    expected = {
        str(secret): "outside_file_roots",
        str(tmp_path / "innocent.txt"): "outside_file_roots",
        str(fifo): "not_a_file",
        "/dev/zero": "outside_file_roots",
    }
    producer = make_app(settings).producer
    for location in expected:
        producer.ingest({"kind": "file", "location": location})
    store = Store(redis_client, settings)
    wait_for(lambda: len(store.dead_entries()) == len(expected), "the dead letters")
    got = {json.loads(e["input"])["location"]: e["reason"] for e in store.dead_entries()}
    assert got == expected
    assert redis_client.xlen(settings.documents_stream) == 0
