"""`newsingest process URL` is a person fetching one page on purpose: it does not consult
robots.txt unless asked to with --polite, which needs Redis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.http_fixtures import Site

from .conftest import EXTRACTION, run_cli

ENGLISH_PAGE = "scrapinghub_aeb/pages/06ee193de4bd611f.html"


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as server:
        server.static("/robots.txt", b"User-agent: *\nDisallow: /\n", "text/plain")
        server.static(
            "/article", (EXTRACTION / ENGLISH_PAGE).read_bytes(), "text/html; charset=utf-8"
        )
        yield server


def env_for(settings_env: dict[str, str], site: Site) -> dict[str, str]:
    return {**settings_env, "NEWSINGEST_FETCH_ALLOW": f"127.0.0.1:{site.port}"}


def test_process_fetches_a_url_without_consulting_robots_txt(
    settings_env: dict[str, str], site: Site
) -> None:
    out = run_cli(env_for(settings_env, site), "process", "--no-translate", site.url("/article"))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[0])["text"]
    assert site.hits("/robots.txt") == 0


def test_process_polite_obeys_robots_txt(
    settings_env: dict[str, str], site: Site, redis_client: object
) -> None:
    out = run_cli(
        env_for(settings_env, site), "process", "--polite", "--no-translate", site.url("/article")
    )
    assert out.returncode == 1
    assert "robots_disallowed" in out.stderr
    assert site.hits("/robots.txt") == 1 and site.hits("/article") == 0


def test_process_polite_without_a_reachable_redis_exits_2_with_one_line(
    settings_env: dict[str, str], site: Site, tmp_path: Path
) -> None:
    env = {k: v for k, v in env_for(settings_env, site).items() if k != "REDIS_URL"}
    env["NEWSINGEST_DATA_DIR"] = str(tmp_path / "no-redis-here")
    out = run_cli(env, "process", "--polite", "--no-translate", site.url("/article"))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "--polite needs Redis" in lines[0], out.stderr
    assert site.hits("/article") == 0


def test_process_help_says_robots_txt_is_consulted_only_with_polite(
    settings_env: dict[str, str],
) -> None:
    out = run_cli(settings_env, "process", "--help")
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    assert "robots.txt" in text and "--polite" in text and "NOT consulted" in text
