"""Installing and finding argos packages from files, without argostranslate.translate."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.errors import ModelError
from service.models import (
    IndexEntry,
    choose_package,
    download_package,
    find_package,
    install_from,
    installed_packages,
    parse_index,
)

from .conftest import MODELS


def test_the_shared_zh_package_is_found_after_install(packages_dir: Path) -> None:
    pkg = find_package(packages_dir, "zh", "en")
    assert pkg is not None
    assert pkg.version == "1.9"
    assert (pkg.model_dir / "model.bin").is_file()


def test_installing_the_same_package_again_changes_nothing(packages_dir: Path) -> None:
    before = installed_packages(packages_dir)
    install_from(MODELS, packages_dir)
    assert installed_packages(packages_dir) == before


def test_no_korean_package_means_none_found(packages_dir: Path) -> None:
    assert find_package(packages_dir, "ko", "en") is None


def test_an_archive_escaping_the_packages_dir_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "evil.argosmodel"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../escaped/metadata.json", "{}")
    with pytest.raises(ModelError, match="outside the package"):
        install_from(bad, tmp_path / "packages")
    assert not (tmp_path / "escaped").exists()


def test_a_file_that_is_not_a_package_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.argosmodel"
    bogus.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="not a zip"):
        install_from(bogus, tmp_path / "packages")


def test_a_damaged_package_directory_is_skipped_when_listing(tmp_path: Path) -> None:
    (tmp_path / "broken-pkg").mkdir()
    (tmp_path / "broken-pkg" / "metadata.json").write_text('{"from_code": "zh", "to_code": "en"}')
    assert installed_packages(tmp_path) == []


# ---- `newsingest models download`: the index and the checks, on a loopback server ---------
# Tests never download from the internet: the server below serves ../shared/models.

PACKAGE = MODELS / "translate-zh_en-1_9.argosmodel"
PACKAGE_SHA256 = "62e7af5a3a48b530e47b7b3e5c78c2de79073ecd815750d2bf3ab35b4a67da2d"


class _Files(http.server.BaseHTTPRequestHandler):
    routes: dict[str, bytes | Path] = {}

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        body = self.routes.get(self.path)
        if body is None:
            self.send_error(404)
            return
        data = body.read_bytes() if isinstance(body, Path) else body
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def index_server() -> Iterator[tuple[str, dict[str, bytes | Path]]]:
    routes: dict[str, bytes | Path] = {}
    handler = type("Handler", (_Files,), {"routes": routes})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", routes
    finally:
        server.shutdown()
        server.server_close()


def _index(base: str, **extra: str) -> bytes:
    return json.dumps(
        [
            {"package_version": "1.0", "from_code": "zh", "to_code": "en",
             "links": [f"{base}/old.argosmodel"], "code": "translate-zh_en"},
            {"package_version": "1.9", "argos_version": "1.9.0", "from_code": "zh",
             "to_code": "en", "links": [f"{base}/zh_en.argosmodel", "ipfs://Qm"], **extra},
            {"package_version": "1.1", "from_code": "en", "to_code": "ko",
             "links": [f"{base}/en_ko.argosmodel"]},
            {"type": "sbd", "from_code": "zh", "to_code": "en", "links": [f"{base}/sbd"]},
        ]
    ).encode()  # fmt: skip


def test_the_index_is_parsed_and_the_newest_package_is_chosen() -> None:
    entries = parse_index(_index("http://x"))
    assert len(entries) == 3  # the sbd package is not a translation package
    entry = choose_package(entries, "zh")
    assert (entry.version, entry.links) == ("1.9", ("http://x/zh_en.argosmodel",))
    assert entry.expected_sha256() == PACKAGE_SHA256  # pinned: the index carries no digest
    with pytest.raises(ModelError, match="no ko->en package"):
        choose_package(entries, "ko")
    with pytest.raises(ModelError, match="not JSON"):
        parse_index(b"<html>")


def test_a_package_is_downloaded_verified_and_installed(
    index_server: tuple[str, dict[str, bytes | Path]], tmp_path: Path
) -> None:
    base, routes = index_server
    routes["/zh_en.argosmodel"] = PACKAGE
    entry = choose_package(parse_index(_index(base)), "zh")
    seen: list[tuple[int, int | None]] = []
    with httpx.Client() as client:
        info, digest = download_package(
            entry, tmp_path / "packages", client, progress=lambda d, t: seen.append((d, t))
        )
    assert digest == PACKAGE_SHA256
    assert (info.from_code, info.to_code, info.version) == ("zh", "en", "1.9")
    assert find_package(tmp_path / "packages", "zh") == info
    assert seen[-1] == (PACKAGE.stat().st_size, PACKAGE.stat().st_size)
    assert [p.name for p in (tmp_path / "packages").iterdir()] == [info.path.name]


def test_a_download_that_does_not_match_is_refused_and_nothing_is_installed(
    index_server: tuple[str, dict[str, bytes | Path]], tmp_path: Path
) -> None:
    base, routes = index_server
    damaged = bytearray(PACKAGE.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    routes["/zh_en.argosmodel"] = bytes(damaged)
    target = tmp_path / "packages"
    entry = choose_package(parse_index(_index(base)), "zh")
    with httpx.Client() as client, pytest.raises(ModelError, match="sha256"):
        download_package(entry, target, client)
    # Unpinned (another version, say): the zip's own CRCs still catch the damage.
    unpinned = choose_package(parse_index(_index(base, sha256="")), "zh")
    unpinned = IndexEntry("zh", "en", "1.9.1", unpinned.links)
    with httpx.Client() as client, pytest.raises(ModelError, match="damaged|not a zip|CRC"):
        download_package(unpinned, target, client)
    assert list(target.iterdir()) == []


def test_a_package_that_is_not_what_the_index_promised_is_removed(
    index_server: tuple[str, dict[str, bytes | Path]], tmp_path: Path
) -> None:
    base, routes = index_server
    routes["/zh_en.argosmodel"] = PACKAGE
    entry = IndexEntry("ja", "en", "1.9", (f"{base}/zh_en.argosmodel",))
    with httpx.Client() as client, pytest.raises(ModelError, match="not ja->en"):
        download_package(entry, tmp_path / "packages", client)
    assert installed_packages(tmp_path / "packages") == []


def test_models_download_and_check_from_the_command_line(
    index_server: tuple[str, dict[str, bytes | Path]], tmp_path: Path
) -> None:
    base, routes = index_server
    routes["/index.json"] = _index(base)
    routes["/zh_en.argosmodel"] = PACKAGE
    env = {**os.environ, "NEWSINGEST_PACKAGES_DIR": str(tmp_path / "pk"),
           "NEWSINGEST_MODELS_DIR": "", "NEWSINGEST_DATA_DIR": str(tmp_path / "data")}  # fmt: skip
    cli = [sys.executable, "-m", "workers.cli", "models"]
    check = subprocess.run([*cli, "check", "zh"], env=env, capture_output=True, text=True)
    assert check.returncode == 1 and "newsingest models download zh" in check.stderr
    run = subprocess.run(
        [*cli, "download", "zh", "--index", f"{base}/index.json"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["sha256"] == PACKAGE_SHA256 and out["verified"] == "sha256 matched"
    assert "100%" in run.stderr  # the progress, one line per tenth when not on a terminal
    assert subprocess.run([*cli, "check", "zh"], env=env).returncode == 0
    missing = subprocess.run(
        [*cli, "download", "ko", "--index", f"{base}/index.json"], env=env, capture_output=True,
        text=True,
    )  # fmt: skip
    assert missing.returncode == 1 and "no ko->en package" in missing.stderr
