"""Language hints (`submit --lang`, `process --lang`, a source's language_hint) reach detection
as a prior: they decide ambiguous text and never beat the page's script."""

from __future__ import annotations

import json
from pathlib import Path

import redis

from service.pipeline import Pipeline
from service.records import Source
from service.settings import Settings
from workers import outbox

from .conftest import EXTRACTION, KOREAN_PAGE, run_cli
from .test_language import AP_LEAD


def _ap_lead_file(tmp_path: Path) -> Path:
    # A real wire-story lead that langdetect reads as French (fr 0.71, en 0.29).
    path = tmp_path / "lead.txt"
    path.write_text(AP_LEAD + "\n", encoding="utf-8")
    return path


def test_a_source_hint_decides_an_ambiguous_article(settings: Settings, tmp_path: Path) -> None:
    pipeline = Pipeline(settings)
    path = str(_ap_lead_file(tmp_path))
    assert pipeline.process(Source("file", path), translate=False).language == "fr"
    hinted = pipeline.process(Source("file", path, "en"), translate=False)
    assert hinted.language == "en"
    assert hinted.source["language_hint"] == "en"


def test_process_lang_reaches_detection(settings_env: dict[str, str], tmp_path: Path) -> None:
    path = str(_ap_lead_file(tmp_path))
    plain = run_cli(settings_env, "process", "--no-translate", path)
    hinted = run_cli(settings_env, "process", "--no-translate", "--lang", "en-US", path)
    assert plain.returncode == 0 and hinted.returncode == 0, plain.stderr + hinted.stderr
    assert json.loads(plain.stdout)["language"] == "fr"
    assert json.loads(hinted.stdout)["language"] == "en"


def test_a_hint_never_beats_hangul(settings_env: dict[str, str]) -> None:
    out = run_cli(
        settings_env, "process", "--no-translate", "--lang", "en", str(EXTRACTION / KOREAN_PAGE)
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["language"] == "ko"


def test_submit_lang_travels_with_the_task(
    settings_env: dict[str, str], settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    path = _ap_lead_file(tmp_path)
    assert run_cli(settings_env, "submit", "--lang", "en", str(path)).returncode == 0
    [record] = [json.loads(raw) for raw in redis_client.hvals(outbox.outbox_key(settings))]
    [payload] = record["args"]
    assert payload["language_hint"] == "en"
    article = Pipeline(settings).ingest(Source.from_dict(payload))
    assert article.language == "en"
