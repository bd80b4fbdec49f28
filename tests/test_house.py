"""The house: an explicit runtime, no import cycles, one way into the queues."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from service.errors import IngestError
from service.settings import Settings
from service.store import Store
from workers import outbox
from workers.app import make_app

from .conftest import REPO, run_cli

CHECK = REPO / "scripts" / "check-imports"


def test_importing_the_runtime_reads_no_settings_and_connects_nowhere(tmp_path: Path) -> None:
    # A settings directory that does not exist and a Redis nobody listens on: any read or
    # connect at import time fails the import.
    env = {"NEWSINGEST_CONFIG_DIR": str(tmp_path / "missing"), "REDIS_URL": "redis://127.0.0.1:1/0"}
    code = (
        "import workers.app, workers.tasks, workers.middleware, workers.runtime, workers.cli, "
        "service.pipeline, service.sources"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def _broken_sources(settings: Settings, tmp_path: Path) -> Settings:
    broken = tmp_path / "sources.toml"
    broken.write_text("[[source]\nname = ", encoding="utf-8")
    return settings.replace(sources_file=str(broken))


def test_only_beat_reads_the_sources_file(settings: Settings, tmp_path: Path) -> None:
    settings = _broken_sources(settings, tmp_path)
    app = make_app(settings)  # a worker, `submit`, `health`
    assert set(app.conf.beat_schedule) == {"heartbeat"}
    with pytest.raises(IngestError):
        make_app(settings, schedule_sources=True)


def test_submit_works_with_a_broken_sources_file(
    settings_env: dict[str, str], settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    broken = _broken_sources(settings, tmp_path).sources_file
    env = dict(settings_env, NEWSINGEST_SOURCES_FILE=broken)
    out = run_cli(env, "submit", str(REPO / "README.md"))
    assert out.returncode == 0, out.stderr
    assert outbox.pending(redis_client, settings) == 1


def test_dead_replay_finds_an_id_beyond_the_listing_count(
    settings_env: dict[str, str], settings: Settings, redis_client: redis.Redis
) -> None:
    store = Store(redis_client, settings)
    ids = [
        store.dead_letter(
            input={"kind": "file", "location": f"/nowhere/{n}.html"},
            reason="file_not_found",
            error="no such file",
            stage="fetch",
            attempts=1,
        )
        for n in range(3)
    ]
    last = ids[-1]
    assert last is not None
    out = run_cli(settings_env, "dead", "replay", last, "--count", "1")
    assert out.returncode == 0, out.stderr
    left = [entry["stream_id"] for entry in store.dead_entries()]
    assert left == ids[:2]
    [record] = [json.loads(raw) for raw in redis_client.hvals(outbox.outbox_key(settings))]
    assert record["args"] == [{"kind": "file", "location": "/nowhere/2.html"}]


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK), str(root)], capture_output=True, text=True, timeout=60
    )


def test_the_import_check_passes_on_this_repository() -> None:
    done = _check(REPO)
    assert done.returncode == 0, done.stdout
    assert "no problems" in done.stdout


def test_the_import_check_names_a_cycle_and_a_service_to_workers_import(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "service/__init__.py": "",
            "service/a.py": "from . import b\n",
            "service/b.py": "def f():\n    from .a import x\n",
            "service/c.py": "from workers.app import make_app\n",
            "workers/__init__.py": "",
            "workers/app.py": "from service import c\n",
        },
    )
    done = _check(root)
    assert done.returncode == 1
    assert "import cycle: service.a <-> service.b" in done.stdout
    assert "service.c imports workers.app" in done.stdout


def test_the_import_check_names_a_module_over_500_lines(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {"service/__init__.py": "", "workers/__init__.py": "", "service/big.py": "x = 1\n" * 501},
    )
    done = _check(root)
    assert done.returncode == 1
    assert "service/big.py: 501 lines" in done.stdout
